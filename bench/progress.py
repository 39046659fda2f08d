import sys
import time


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, max(total, 1), 0
        self.started = time.monotonic()
        self._draw()

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def _draw(self) -> None:
        width = 30
        filled = min(width, int(width * self.done / self.total))
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        sys.stderr.write(
            f"\r{self.label:<24} [{'#' * filled}{'.' * (width - filled)}] {self.done:>9,}/{self.total:,} {rate:>9,.0f}/s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write(f"  {time.monotonic() - self.started:.1f}s\n")
