"""Index status in words, shared by the status bar, the tray tooltip and the empty states."""

from __future__ import annotations

from pathlib import Path


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return "less than a minute"
    if seconds < 3600:
        minutes = round(seconds / 60)
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {seconds // 3600} h {seconds % 3600 // 60:02d} min"


def index_summary(status, error: str = "") -> str:
    """One line: what the indexer is doing now."""
    if status is None:
        return f"Indexing is off: {error}" if error else "Indexing is off"
    if status.state == "indexing":
        parts = [f"Indexing: {status.done:,} done"]
        if status.queued:
            parts.append(f"{status.queued:,} to go")
        if status.chunks_per_s:
            parts.append(f"{status.chunks_per_s:.0f} passages/s")
        if status.eta_s:
            parts.append(f"{duration(status.eta_s)} left")
        return " · ".join(parts)
    if status.state == "switching":  # the service says "building the index for X: n of m passages"
        return status.message[:1].upper() + status.message[1:] if status.message else "Switching models"
    if status.state == "paused":
        return f"Indexing paused ({status.queued:,} files waiting)" if status.queued else "Indexing paused"
    if status.state == "error":
        return f"Indexing stopped: {status.message}"
    if status.state == "starting":
        return "Starting…"
    if status.state == "stopped":
        return "Indexing stopped"
    failed = f" · {status.failed:,} could not be read" if status.failed else ""
    return f"Up to date{failed}"


def current_file(status) -> str:
    return Path(status.current).name if status and status.current else ""


def switch_summary(switch, index_model: str | None) -> str:
    """A pending model switch in one line (the engine's `SwitchState`)."""
    return (f"Switching to {switch.model}: {switch.done:,} of {switch.total:,} passages "
            f"({switch.fraction:.0%}) — search uses {index_model or 'the current model'} until it is done")
