"""Plain text, Markdown, data files and source code: the text as it is, in one section.

Decoding: a byte-order mark wins; then strict UTF-8 (or UTF-8 with a few bad bytes); then
charset-normalizer's best guess. NUL bytes (outside UTF-16) or control characters mean binary
data. Only line endings are normalised, to "\\n", so chunk offsets stay meaningful.
"""

from __future__ import annotations

import codecs
import locale
import re
import unicodedata
from pathlib import Path

import charset_normalizer

from kenning.extract.base import Document, ExtractionError, Section, read_head

EXTENSIONS = tuple(
    (
        ".txt .text .md .markdown .rst .adoc .org .log .json .jsonl .yaml .yml .toml "
        ".ini .cfg .conf .properties .xml .tex .bib "
        ".py .pyi .js .mjs .ts .tsx .jsx .vue .svelte .java .c .h .cpp .hpp .cc .cxx .cs .go "
        ".rs .rb .php .sh .bash .zsh .fish .ps1 .bat .sql .swift .kt .kts .scala .r .m .mm "
        ".lua .pl .pm .dart .hs .ml .ex .exs .erl .clj .jl .zig .groovy .gradle .cmake "
        ".css .scss .sass .less .proto .graphql"
    ).split()
)

_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SNIFF = 8192
_MARKDOWN_TITLE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def extract(path: Path) -> Document:
    data, truncated = read_head(path)
    if not data:
        return Document()
    text = decode(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    title = None
    if path.suffix.lower() in (".md", ".markdown"):
        match = _MARKDOWN_TITLE.search(text)
        title = match.group(1).strip() if match else None
    return Document([Section(text)], title, truncated=truncated)


def decode(data: bytes) -> str:
    """Bytes of a text file as a string; ExtractionError if they are not text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, "replace")
    head = data[:_SNIFF]
    if b"\x00" in head:
        guessed = _wide_without_bom(head)
        if guessed is None:
            raise ExtractionError("binary data, not text")
        return _checked(data.decode(guessed, "replace"))
    try:
        return _checked(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    # UTF-8 with a few broken bytes (a cut-off file, one bad copy-paste) is still UTF-8.
    text = data.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore")) - broken
    if non_ascii >= 10 * broken:
        return _checked(text)
    try:
        return _checked(data.decode(_guess_encoding(data[:262144]), "replace"))
    except ExtractionError:
        guessed = _plausible_utf16(head)  # UTF-16 with no zero byte at all: CJK text, no spaces
        if guessed is None:
            raise
        return _checked(data.decode(guessed, "replace"))


def _guess_encoding(sample: bytes) -> str:
    results = charset_normalizer.from_bytes(sample)
    best = results.best()
    if best is None:
        raise ExtractionError("binary data, not text")
    # On short Western text charset-normalizer often ranks a sibling code page first (French
    # read as Baltic cp1257: "été" becomes "ētē"); the user's own legacy code page is likelier.
    if best.encoding in _LATIN_CODE_PAGES:
        for match in results:
            if match.encoding == _LEGACY and match.chaos <= best.chaos + 0.15:
                return _LEGACY
    return best.encoding


def _legacy_code_page() -> str:
    """The system's ANSI code page on Windows (cp1250...cp1258), else Western cp1252."""
    try:
        name = codecs.lookup(locale.getpreferredencoding(False)).name
    except LookupError:
        name = ""
    return name if re.fullmatch(r"cp125[0-8]", name) else "cp1252"


_LEGACY = _legacy_code_page()
_LATIN_CODE_PAGES = {
    "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "cp437", "cp775", "cp850", "cp858",
    "latin_1", "hp_roman8", "mac_roman", "mac_latin2", "mac_iceland", "mac_turkish",
    *(f"iso8859_{n}" for n in (2, 3, 4, 9, 10, 13, 14, 15, 16)),
}  # fmt: skip


def _wide_without_bom(head: bytes) -> str | None:
    """UTF-32 or UTF-16 text without a byte-order mark, told apart by where its zero bytes fall:
    in UTF-16 only at one parity (each space, newline, digit or Latin letter has one), in UTF-32
    in the upper half of every four bytes."""
    head = head[: len(head) // 4 * 4]
    quarters = [head[i::4].count(0) for i in range(4)]
    count = max(1, len(head) // 4)
    if quarters[2] == quarters[3] == count and quarters[0] < count:
        return "utf-32-le"
    if quarters[0] == quarters[1] == count and quarters[3] < count:
        return "utf-32-be"
    zeros_even, zeros_odd = quarters[0] + quarters[2], quarters[1] + quarters[3]
    for encoding, zeros, others in (("utf-16-le", zeros_odd, zeros_even), ("utf-16-be", zeros_even, zeros_odd)):
        if zeros and others <= 0.002 * len(head) and _plausible(head, encoding):
            return encoding
    return None


_TEXT_CATEGORIES = ("L", "M", "N", "P", "S", "Z")


def _plausible(head: bytes, encoding: str) -> bool:
    """Does `head` decode, as `encoding`, to text (letters, marks, digits, punctuation, spaces)?"""
    text = head.decode(encoding, "replace")
    if not text:
        return False
    good = sum(1 for c in text if c in "\t\n\r" or (unicodedata.category(c)[0] in _TEXT_CATEGORIES
                                                      and unicodedata.category(c) not in ("Co", "Cn")))
    return good >= 0.97 * len(text)


def _plausible_utf16(head: bytes) -> str | None:
    """For text with no zero byte that nothing else reads: UTF-16 of CJK, Hangul or kana."""
    candidates = []
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = head[: len(head) // 2 * 2].decode(encoding)
        except UnicodeDecodeError:
            continue
        east_asian = sum(1 for c in text if "\u3000" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af"
                         or "\uff00" <= c <= "\uffef")
        if text and east_asian >= 0.9 * len(text):
            candidates.append(encoding)
    return candidates[0] if len(candidates) == 1 else None


def _checked(text: str) -> str:
    sample = text[:_SNIFF]
    controls = sum(
        1 for c in sample if c not in "\t\n\r\f\v\x1b" and unicodedata.category(c) == "Cc"
    )
    if controls > 0.05 * len(sample):
        raise ExtractionError("binary data, not text")
    return text
