"""Captured `print` output with a byte cap (worker side)."""

from __future__ import annotations

__all__ = ["OutputBuffer", "truncation_marker"]


def truncation_marker(limit: int) -> str:
    """Appended to capped output so the model knows it is not seeing everything."""
    return f"\n[output truncated: print output exceeded max_output_bytes={limit}]\n"


class OutputBuffer:
    """Keeps the first `limit` bytes printed; later output is counted as dropped."""

    def __init__(self, limit: int) -> None:
        self._limit = max(0, limit)
        self._chunks: list[bytes] = []
        self._size = 0
        self.truncated = False

    @property
    def size(self) -> int:
        """Bytes kept (never more than the limit)."""
        return self._size

    def write(self, text: str) -> None:
        """Append `text`; once the cap is reached the rest is dropped and `truncated` set."""
        if self.truncated:
            return
        data = text.encode("utf-8", "replace")
        room = self._limit - self._size
        if len(data) > room:
            data = data[:room]
            self.truncated = True
        self._chunks.append(data)
        self._size += len(data)

    def text(self) -> str:
        """The kept output, plus the truncation marker when output was dropped."""
        # A cut may split a multi-byte character: drop the partial tail rather than fail.
        body = b"".join(self._chunks).decode("utf-8", "ignore")
        return body + truncation_marker(self._limit) if self.truncated else body
