"""The `print` byte cap (worker side) and the marker the gateway appends when it bit."""

from __future__ import annotations

__all__ = ["OutputMeter", "Transcript", "truncation_marker"]


def truncation_marker(limit: int) -> str:
    """Appended to capped output so the model knows it is not seeing everything."""
    return f"\n[output truncated: print output exceeded max_output_bytes={limit}]\n"


class OutputMeter:
    """Counts printed bytes against `limit` and says how much of each print may be kept."""

    def __init__(self, limit: int) -> None:
        self._limit = max(0, limit)
        self.size = 0
        """Bytes kept so far (never more than the limit)."""
        self.truncated = False

    def admit(self, text: str) -> str:
        """The part of `text` that fits under the cap ("" once the cap has been reached)."""
        if self.truncated:
            return ""
        data = text.encode("utf-8", "replace")
        room = self._limit - self.size
        if len(data) > room:
            # A cut may split a multi-byte character: drop the partial tail rather than fail.
            text = data[:room].decode("utf-8", "ignore")
            data = text.encode("utf-8")
            self.truncated = True
        self.size += len(data)
        return text


class Transcript:
    """What the gateway has received of a script's output (gateway side, capped again here:
    the worker is not trusted to respect the limit)."""

    def __init__(self, limit: int) -> None:
        self._limit = max(0, limit)
        self._chunks: list[str] = []
        self._meter = OutputMeter(limit)

    def add(self, text: str, truncated: bool) -> None:
        """One `output` message."""
        kept = self._meter.admit(text)
        if kept:
            self._chunks.append(kept)
        self._meter.truncated = self._meter.truncated or truncated

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._meter.size

    @property
    def truncated(self) -> bool:
        """Whether output was dropped (here or in the worker)."""
        return self._meter.truncated

    def text(self) -> str:
        """The output, with the truncation marker when output was dropped."""
        body = "".join(self._chunks)
        return body + truncation_marker(self._limit) if self.truncated else body
