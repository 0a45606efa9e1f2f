"""User settings, kept as JSON in `<data_dir>/settings.json` (written atomically, owner-only)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from kenning.paths import atomic_output

log = logging.getLogger(__name__)

FILE_NAME = "settings.json"
GPU_CHOICES = ("auto", "on", "off")


@dataclass
class Settings:
    model: str | None = None  # None: the index's model, else the default
    gpu: str = "auto"
    threads: int | None = None  # None: one per physical core
    chunk_tokens: int = 256
    proxy: str = ""  # for model downloads; empty: the system's (HTTPS_PROXY, NO_PROXY)
    start_at_login: bool = False
    first_run_done: bool = False
    tray_notice_shown: bool = False

    @classmethod
    def load(cls, data_dir: Path) -> "Settings":
        path = Path(data_dir) / FILE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable settings %s (%s)", path, exc)
            return cls()
        known = {f.name for f in fields(cls)}
        settings = cls(**{k: v for k, v in data.items() if k in known}) if isinstance(data, dict) else cls()
        if settings.gpu not in GPU_CHOICES:
            settings.gpu = "auto"
        if not isinstance(settings.proxy, str):
            settings.proxy = ""
        return settings

    def save(self, data_dir: Path) -> None:
        with atomic_output(Path(data_dir) / FILE_NAME) as tmp:
            tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
