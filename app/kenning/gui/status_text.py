"""Index status in words, shared by the status bar, the tray tooltip and the empty states."""

from __future__ import annotations

from pathlib import Path

from kenning.service_status import describe, duration, progress_of

__all__ = ["current_file", "duration", "index_summary", "progress_of", "switch_summary"]


def index_summary(status, error: str = "") -> str:
    """One line: what the indexer is doing now (the core's words, as `kenning status` says them)."""
    if status is None:
        return f"Indexing is off: {error}" if error else "Indexing is off"
    return describe(status)


def current_file(status) -> str:
    return Path(status.current).name if status and status.current else ""


def switch_summary(switch, index_model: str | None) -> str:
    """A pending model switch in one line (the engine's `SwitchState`)."""
    return (f"Switching to {switch.model}: {switch.done:,} of {switch.total:,} passages "
            f"({switch.fraction:.0%}) — search uses {index_model or 'the current model'} until it is done")


def scanned_summary(failures) -> str:
    """Files with scanned pages or images, from the index's list of files it could not fully read:
    waiting for OCR, or needing Tesseract."""
    reasons = [reason for _, status, reason in failures if str(status) == "needs_ocr"]
    if not reasons:
        return "all read"
    missing = sum("install Tesseract" in reason for reason in reasons)
    if missing:
        return f"{missing:,} files need OCR: install Tesseract to read them"
    return f"{len(reasons):,} files waiting for OCR"
