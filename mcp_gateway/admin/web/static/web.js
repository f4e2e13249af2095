// Optional auto-refresh of the approval queue: reload every N seconds (data-autorefresh on a
// link), unless the reviewer has focused or typed into a form, so nothing being edited is lost.
// The pages work without this script; the Refresh link does the same by hand.
(function () {
  var link = document.querySelector("[data-autorefresh]");
  if (!link) return;
  var seconds = parseInt(link.getAttribute("data-autorefresh"), 10) || 10;
  var busy = false;
  document.addEventListener("input", function () { busy = true; });
  document.addEventListener("focusin", function (e) {
    if (e.target.matches("input, textarea")) busy = true;
  });
  setInterval(function () {
    if (!busy && !document.hidden) window.location.replace(link.href);
  }, seconds * 1000);
})();
