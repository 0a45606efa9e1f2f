"""A one-line progress display on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kenning.index import IndexProgress


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}:{seconds % 60:02d}"


class ProgressLine:
    def __init__(self, stream=None, min_interval: float = 0.1):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.min_interval = min_interval
        self._last = 0.0
        self._drawn = False

    def message(self, text: str) -> None:
        """A status line that stays (e.g. the model being prepared)."""
        self.clear()
        print(text, file=self.stream, flush=True)

    def index(self, p: IndexProgress) -> None:
        """Reading files (keywords), then embedding their passages (meaning)."""
        if p.phase == "meaning":
            done, total, unit, rate_of = p.passages_done, p.passages_total, "passages embedded", p.passages_done
        elif p.phase == "ocr":  # pages of the file being read by OCR
            done, total, unit, rate_of = p.files_done, p.files_total, "scanned pages (OCR)", p.chunks_done
        else:
            done, total, unit, rate_of = p.files_done, p.files_total, "files read", p.chunks_done
        now = time.monotonic()
        if not self.enabled or (now - self._last < self.min_interval and done < total):
            return
        self._last = now
        width = shutil.get_terminal_size((80, 20)).columns
        rate = rate_of / p.elapsed if p.elapsed > 0 else 0.0
        fraction = min(1.0, done / total) if total else 1.0
        eta = (p.elapsed / fraction - p.elapsed) if 0 < fraction < 1 else 0.0
        filled = int(20 * fraction)
        head = (f"[{'#' * filled}{'.' * (20 - filled)}] {done}/{total} {unit} "
                f"{rate:5.1f} passages/s ETA {_duration(eta)} ")
        name = p.current[-max(0, width - len(head) - 1):] if p.current and p.phase != "meaning" else ""
        self.stream.write("\r" + (head + name)[: width - 1].ljust(width - 1))
        self.stream.flush()
        self._drawn = True

    def bar(self, done: int, total: int, label: str) -> None:
        """A plain progress bar: `label` after a bar of done/total."""
        now = time.monotonic()
        if not self.enabled or (now - self._last < self.min_interval and done < total):
            return
        self._last = now
        width = shutil.get_terminal_size((80, 20)).columns
        filled = int(20 * done / total) if total else 20
        self.stream.write("\r" + f"[{'#' * filled}{'.' * (20 - filled)}] {label}"[: width - 1].ljust(width - 1))
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            width = shutil.get_terminal_size((80, 20)).columns
            self.stream.write("\r" + " " * (width - 1) + "\r")
            self.stream.flush()
            self._drawn = False
