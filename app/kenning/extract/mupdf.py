"""PDF, EPUB, XPS/OXPS and MOBI through PyMuPDF: one section per page.

For the reflowable formats (EPUB, MOBI) the pages are MuPDF's layout pages. FB2 is read by
`fictionbook` instead: MuPDF 1.28 crashes the process on malformed FictionBook XML.
"""

from __future__ import annotations

import re
from pathlib import Path

import pymupdf

from kenning.extract.base import Document, ExtractionError, Section, ocr_text

# No TEXT_PRESERVE_LIGATURES: "ﬁ" comes out as "fi". Unknown glyphs become U+FFFD, not CIDs.
_FLAGS = pymupdf.TEXT_DEHYPHENATE | pymupdf.TEXT_MEDIABOX_CLIP
# MuPDF 1.28's own dehyphenation leaves most line-end hyphens, so join "hyphen-\nation" here
# (lower-case letters on both sides; "Jean-\nPaul" and "COVID-\n19" keep theirs).
_HYPHENATED = re.compile(r"(?<=[^\W\d_])[-\u00ad\u2010]\n(?=[^\W\d_])")

_SCANNED_KINDS = ("PDF", "XPS", "OXPS")  # fixed-layout pages that may be scans; a book's pictures are not

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    _check_signature(path)
    try:
        with pymupdf.open(path) as doc:
            return _read(doc, _kind(path))
    except (ExtractionError, MemoryError):
        raise
    except Exception as e:  # FileDataError, RuntimeError and friends from MuPDF
        if _out_of_memory(e):
            raise MemoryError from e
        raise ExtractionError(f"damaged or unreadable {_kind(path)} file") from e


def _out_of_memory(exc: Exception) -> bool:
    message = str(exc).lower()
    return any(word in message for word in ("malloc", "calloc", "realloc", "out of memory", "cannot allocate"))


def _read(doc: pymupdf.Document, kind: str) -> Document:
    if doc.needs_pass and not doc.authenticate(""):
        raise ExtractionError("encrypted or password-protected")
    count = doc.page_count  # lays out the whole book for EPUB and MOBI
    sections, scanned = [], []
    for number in range(count):
        try:
            page = doc[number]
            text = _page_text(page)
            if not text and kind in _SCANNED_KINDS and page.get_image_info():
                text = ocr_text(number + 1) or ""  # a scanned page: what OCR read, if it has run
                if ocr_text(number + 1) is None:
                    scanned.append(number + 1)
            sections.append(Section(text, number + 1))
        except MemoryError:
            raise
        except Exception as exc:
            if _out_of_memory(exc):  # MuPDF's own allocation failed: the limit, not damage
                raise MemoryError from exc
            continue  # one broken page does not spoil the others
    result = Document(sections, _meta(doc, "title"), _meta(doc, "author"), ocr_pages=scanned)
    if count and not sections:
        raise ExtractionError(f"damaged {kind} file: no page could be read")
    # MuPDF "repairs" broken PDFs into empty pages; that is damage, not an empty document.
    if (count == 0 or doc.is_repaired) and result.is_empty() and not scanned:
        raise ExtractionError(f"damaged {kind} file: no readable text")
    return result


def _check_signature(path: Path) -> None:
    """Refuse files whose bytes are not the format their name says.

    MuPDF ignores the extension and sniffs the content, and some of what it might take the
    bytes for (malformed FictionBook XML) crashes the whole process.
    """
    with open(path, "rb") as f:
        head = f.read(1024)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        ok = b"%PDF" in head
    elif suffix == ".mobi":
        ok = head[60:68] in (b"BOOKMOBI", b"TEXtREAd")
    else:  # EPUB, XPS and OXPS are zip archives
        ok = head.startswith(b"PK\x03\x04")
    if not ok:
        raise ExtractionError(f"not a valid {_kind(path)} file")


def _page_text(page: pymupdf.Page) -> str:
    blocks = page.get_text("blocks", flags=_FLAGS, sort=True)
    # A block is a paragraph or a heading; its lines stay as MuPDF laid them out.
    paragraphs = (_dehyphenate(b[4].strip()) for b in blocks if b[6] == 0)
    return "\n\n".join(p for p in paragraphs if p)


def _dehyphenate(text: str) -> str:
    def join(match: re.Match) -> str:
        before, after = text[match.start() - 1], text[match.end()]
        return "" if before.islower() and after.islower() else match.group()

    return _HYPHENATED.sub(join, text)


def _meta(doc: pymupdf.Document, key: str) -> str | None:
    value = (doc.metadata or {}).get(key) or ""
    return value.strip() or None


def _kind(path: Path) -> str:
    return path.suffix.lstrip(".").upper()
