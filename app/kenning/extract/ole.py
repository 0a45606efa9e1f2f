"""What the legacy Office readers (.doc, .ppt, .msg) share: opening an OLE compound file, and its
title and author."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import olefile

from kenning.extract.base import ExtractionError

MAX_OLE_BYTES = 512 * 2**20  # a legacy file is read whole; larger ones are refused


@contextmanager
def open_ole(path: Path, kind: str):
    if path.stat().st_size > MAX_OLE_BYTES:
        raise ExtractionError(f"{kind} file larger than {MAX_OLE_BYTES // 2**20} MB; not read")
    if not olefile.isOleFile(str(path)):
        raise ExtractionError(f"not a valid {kind} file")
    try:
        ole = olefile.OleFileIO(str(path))
    except MemoryError:
        raise
    except Exception as exc:  # olefile raises OSError, struct.error, IndexError... on damage
        raise ExtractionError(f"damaged {kind} file") from exc
    try:
        yield ole
    except (ExtractionError, MemoryError):
        raise
    except Exception as exc:
        raise ExtractionError(f"damaged {kind} file") from exc
    finally:
        ole.close()


def metadata(ole) -> tuple[str | None, str | None]:
    """Title and author from the file's summary information, where it has one."""
    try:
        meta = ole.get_metadata()
    except Exception:  # a damaged property set: the text can still be read
        return None, None
    return _text(meta.title, meta.codepage), _text(meta.author, meta.codepage)


def _text(value, codepage) -> str | None:
    if isinstance(value, bytes):
        encoding = f"cp{codepage}" if codepage and codepage not in (1200, 65001) else "utf-8"
        try:
            value = value.decode(encoding, "replace")
        except LookupError:
            value = value.decode("latin-1")
    cleaned = " ".join(str(value or "").replace("\x00", " ").split())
    return cleaned or None
