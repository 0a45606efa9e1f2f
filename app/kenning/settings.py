"""The user's settings, and every default, in one place: kept as JSON in
`<data_dir>/settings.json` (written atomically, owner-only), read by the app and the CLI alike;
command-line flags override them for one run.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from kenning.paths import atomic_output

log = logging.getLogger(__name__)

FILE_NAME = "settings.json"
GPU_CHOICES = ("auto", "on", "off")


@dataclass(frozen=True)
class IndexSettings:
    """How files are read and cut into passages."""

    max_file_mb: float = 200.0  # larger files are skipped with a reason
    timeout_s: float = 60.0  # to extract one file
    memory_mb: int | None = 800  # the extraction child's address space (its Python and parsers take ~300)
    chunk_tokens: int = 256  # passage size, in the model's tokens (capped at its window)
    overlap_tokens: int = 32
    max_passages: int = 10_000  # per file: the rest of a longer file is reported, not indexed
    follow_links: bool = False  # False: only links whose target is inside an indexed folder
    low_priority: bool = True  # the background service indexes at low CPU and I/O priority
    ocr: bool = True  # read scanned pages and images with Tesseract, when it is installed
    ocr_languages: str = ""  # Tesseract's names, "deu+eng"; empty: the system's language and English
    ocr_page_timeout_s: float = 120.0  # to OCR one page
    max_archive_mb: float = 2048.0  # an archive or mailbox, and all it unpacks to; larger ones are skipped
    max_archive_files: int = 20_000  # members of one archive (nested ones included)
    max_archive_depth: int = 3  # archives inside archives, opened this deep
    extraction_workers: int = 0  # files read at once, each in a child process; 0: automatic


@dataclass
class Settings:
    model: str | None = None  # None: the index's model, else the default
    gpu: str = "auto"
    threads: int | None = None  # None: one per physical core
    chunk_tokens: int = IndexSettings.chunk_tokens
    max_file_mb: float = IndexSettings.max_file_mb
    timeout_s: float = IndexSettings.timeout_s
    max_passages: int = IndexSettings.max_passages
    memory_mb: int = 800
    follow_links: bool = IndexSettings.follow_links
    low_priority: bool = IndexSettings.low_priority
    ocr: bool = IndexSettings.ocr
    ocr_languages: str = IndexSettings.ocr_languages
    ocr_page_timeout_s: float = IndexSettings.ocr_page_timeout_s
    max_archive_mb: float = IndexSettings.max_archive_mb
    max_archive_files: int = IndexSettings.max_archive_files
    max_archive_depth: int = IndexSettings.max_archive_depth
    extraction_workers: int = IndexSettings.extraction_workers
    database: str = ""  # a PostgreSQL server's address holding a shared index; empty: the SQLite file here
    # A shared drive's folder here -> the name the shared index knows it by, the same on every
    # machine (e.g. "/mnt/docs" here and \\nas\docs on a Windows machine -> "//nas/docs").
    shared_roots: dict[str, str] = field(default_factory=dict)
    proxy: str = ""  # for model downloads; empty: the system's (HTTPS_PROXY, NO_PROXY)
    start_at_login: bool = False
    first_run_done: bool = False
    tray_notice_shown: bool = False

    @classmethod
    def load(cls, data_dir: Path) -> Settings:
        path = Path(data_dir) / FILE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable settings %s (%s)", path, exc)
            return cls()
        if not isinstance(data, dict):
            return cls()
        defaults = cls()
        values = {}
        for f in fields(cls):
            if f.name in data and _fits(data[f.name], getattr(defaults, f.name), f.name):
                values[f.name] = data[f.name]
        return cls(**values)

    def save(self, data_dir: Path) -> None:
        with atomic_output(Path(data_dir) / FILE_NAME) as tmp:
            kept = replace(self, database=without_password(self.database))
            tmp.write_text(json.dumps(asdict(kept), indent=2), encoding="utf-8")

    def index_settings(self) -> IndexSettings:
        return IndexSettings(max_file_mb=self.max_file_mb, timeout_s=self.timeout_s, chunk_tokens=self.chunk_tokens,
                             max_passages=self.max_passages, follow_links=self.follow_links,
                             memory_mb=self.memory_mb, low_priority=self.low_priority, ocr=self.ocr,
                             ocr_languages=self.ocr_languages, ocr_page_timeout_s=self.ocr_page_timeout_s,
                             max_archive_mb=self.max_archive_mb, max_archive_files=self.max_archive_files,
                             max_archive_depth=self.max_archive_depth, extraction_workers=self.extraction_workers)

    def overridden(self, **flags) -> Settings:
        """A copy with the given values (command-line flags) in place of the saved ones; a flag
        left at None keeps the setting."""
        return replace(self, **{k: v for k, v in flags.items() if v is not None})


def is_server_address(database: str | None) -> bool:
    return bool(database) and str(database).startswith(("postgresql://", "postgres://"))


def without_password(address: str) -> str:
    """A server's address as shown and kept: a password written into it is left out (libpq
    reads it from PGPASSWORD or ~/.pgpass)."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1@", address)


def _fits(value, default, name: str) -> bool:
    """A saved value of the right kind (a hand-edited file must not break the app)."""
    if name == "gpu":
        return value in GPU_CHOICES
    if name in ("model", "threads"):
        return value is None or (isinstance(value, str if name == "model" else int) and not isinstance(value, bool))
    if name == "shared_roots":
        return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) and k and v
                                               for k, v in value.items())
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    return isinstance(value, type(default))
