"""Rich Text Format (.rtf) through striprtf: the text, without control words, pictures and fonts."""

from __future__ import annotations

import re
from pathlib import Path

from striprtf.striprtf import rtf_to_text

from kenning.extract.base import Document, ExtractionError, Section, read_head

# Embedded pictures and objects are long runs of hex digits: dropped before parsing (they are most
# of a large RTF file's bytes, and striprtf would walk every one of them).
_BINARY_GROUPS = re.compile(r"\{\\\*?\\(?:pict|objdata|blipuid|datastore|themedata|colorschememapping)\b[^{}]*\}")
_INFO = re.compile(r"\{\\info(.*?)\}\s*\}", re.DOTALL)


def extract(path: Path) -> Document:
    data, truncated = read_head(path)
    if not data:
        return Document()
    raw = data.decode("latin-1")  # RTF is 7-bit; other characters come as \'xx and \uN escapes
    if not raw.lstrip().startswith("{\\rtf"):
        raise ExtractionError("not an RTF document")
    title, author = _info(raw, "title"), _info(raw, "author")
    try:
        text = rtf_to_text(_BINARY_GROUPS.sub("", raw), errors="replace")
    except MemoryError:
        raise
    except Exception as exc:  # striprtf on malformed input
        raise ExtractionError("damaged RTF document") from exc
    text = re.sub(r"\n{3,}", "\n\n", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return Document([Section(text)], title, author, truncated=truncated)


def _info(raw: str, field: str) -> str | None:
    match = re.search(r"\{\\" + field + r"\s+([^{}]*)\}", raw[:200_000])
    if not match:
        return None
    try:
        value = rtf_to_text("{\\rtf1 " + match.group(1) + "}", errors="replace").strip()
    except Exception:  # a damaged info group: no title
        return None
    return value or None
