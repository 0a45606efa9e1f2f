"""Reading scanned pages and photos of text with Tesseract (run as a program, when installed).

A page is rendered to a grey image (PDF pages by PyMuPDF, image frames by Pillow), handed to
`tesseract` on its standard input with a time limit, and read back as TSV: the words, their boxes
and their confidence. Output that is mostly low-confidence guesses (a holiday photo, a diagram) is
dropped, so pictures do not fill the index with noise. Boxes are kept as fractions of the page, so
the preview can mark a passage on a page that has no text layer.
"""

from __future__ import annotations

import io
import locale
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kenning.extract.base import ExtractionError

RENDER_DPI = 300  # Tesseract's accuracy drops well below this for ordinary print
MAX_PIXELS = 40_000_000  # a poster-sized page is rendered at a lower resolution instead
SMALL_IMAGE_PX = 1200  # a screenshot smaller than this (long side) is doubled: small glyphs misread
GOOD_CONFIDENCE = 60  # Tesseract's per-word confidence (0-100) of a word that is probably right
MIN_GOOD_SHARE = 0.5  # at least this share of the page's letters in good words, or it is noise
MIN_WORDS = 3

# Locale language (ISO 639-1) -> Tesseract's traineddata name, for the languages people most use.
_TESSERACT_NAMES = {
    "en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "pt": "por", "nl": "nld", "sv": "swe",
    "da": "dan", "nb": "nor", "nn": "nor", "no": "nor", "fi": "fin", "pl": "pol", "cs": "ces", "sk": "slk",
    "hu": "hun", "ro": "ron", "el": "ell", "tr": "tur", "ru": "rus", "uk": "ukr", "bg": "bul", "hr": "hrv",
    "sl": "slv", "et": "est", "lv": "lav", "lt": "lit", "ja": "jpn", "ko": "kor", "zh": "chi_sim",
    "ar": "ara", "he": "heb", "hi": "hin", "vi": "vie", "th": "tha", "id": "ind", "ca": "cat",
}
_WINDOWS_PLACES = (r"C:\Program Files\Tesseract-OCR\tesseract.exe", r"C:\Program Files (x86)\Tesseract-OCR\tesseract.exe")
_MAC_PLACES = ("/opt/homebrew/bin/tesseract", "/usr/local/bin/tesseract")


@dataclass
class OcrWord:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the page's width and height


@dataclass
class OcrPage:
    text: str  # lines joined by "\n", paragraphs by "\n\n"; "" when nothing legible was found
    words: list[OcrWord] = field(default_factory=list)
    failed: str = ""  # why the page could not be read (too slow...), or ""


LOOKUP_EVERY_S = 30.0  # Tesseract installed while Kenning runs is found within this long
_found: dict[str, tuple[float, object]] = {}


def _recent(name: str, find):
    now = time.monotonic()
    if name not in _found or now - _found[name][0] > LOOKUP_EVERY_S:
        _found[name] = (now, find())
    return _found[name][1]


def forget_lookups() -> None:
    """Look for Tesseract and its languages again at the next call (after installing it)."""
    _found.clear()


def tesseract_program() -> str | None:
    """The `tesseract` program, if it is installed (on the PATH or where its installers put it)."""
    return _recent("program", _find_program)


def _find_program() -> str | None:
    found = shutil.which("tesseract")
    if found:
        return found
    places = _WINDOWS_PLACES if sys.platform == "win32" else _MAC_PLACES if sys.platform == "darwin" else ()
    return next((p for p in places if os.path.isfile(p)), None)


def installed_languages() -> tuple[str, ...]:
    return _recent("languages", _list_languages)


def _list_languages() -> tuple[str, ...]:
    program = tesseract_program()
    if program is None:
        return ()
    try:
        listing = subprocess.run([program, "--list-langs"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in listing.splitlines()[1:] if line.strip() and line.strip() != "osd")


def choose_languages(setting: str = "") -> str:
    """Tesseract's `-l` value: the languages named in the setting ("deu+eng"; empty: the system
    locale's, plus English), those whose traineddata is installed; "" when none is."""
    installed = installed_languages()
    wanted = [name for name in setting.replace(",", "+").split("+") if name.strip()] if setting else _locale_languages()
    chosen = [name.strip() for name in wanted if name.strip() in installed]
    if not chosen and installed:
        chosen = ["eng"] if "eng" in installed else [installed[0]]
    return "+".join(dict.fromkeys(chosen))


def _locale_languages() -> list[str]:
    names = []
    for value in (os.environ.get("LC_ALL"), os.environ.get("LANG"), locale.getlocale()[0]):
        code = (value or "").split(".")[0].split("_")[0].lower()
        if code in _TESSERACT_NAMES:
            names.append(_TESSERACT_NAMES[code])
    return [*names, "eng"]


def describe_tesseract() -> str:
    """One line for `kenning status`: whether OCR can run, and with which languages."""
    program = tesseract_program()
    if program is None:
        return "Tesseract: not installed (scanned pages and images are not read; see the README)"
    languages = installed_languages()
    return f"Tesseract: {program} (languages: {', '.join(languages) or 'none installed'})"


def read_page(path: str, page: int, languages: str, timeout_s: float, program: str | None = None) -> OcrPage:
    """In the extraction child: OCR one page (1-based) of a PDF-like file, or one frame of an image,
    with the `tesseract` at `program` (the parent found it; default: look for it)."""
    from kenning.extract import image as image_format

    if image_format.handles(Path(path)):
        png = image_format.frame_png(Path(path), page, SMALL_IMAGE_PX, MAX_PIXELS)
    else:
        png = _pdf_page_png(path, page)
    return recognise(png, languages, timeout_s, program)


def recognise(png: bytes, languages: str, timeout_s: float, program: str | None = None) -> OcrPage:
    """The words Tesseract reads in a PNG image."""
    program = program or tesseract_program()
    if program is None:
        raise ExtractionError("needs OCR (install Tesseract)")
    width, height = _png_size(png)
    command = [program, "stdin", "stdout", "--psm", "3", *(["-l", languages] if languages else []), "tsv"]
    try:
        done = subprocess.run(command, input=png, capture_output=True, timeout=timeout_s,
                              env=os.environ | {"OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired:
        return OcrPage("", failed=f"OCR took longer than {timeout_s:g} s")
    except OSError as exc:
        return OcrPage("", failed=f"Tesseract could not run ({exc.strerror or exc})")
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return OcrPage("", failed=f"Tesseract failed: {(reason or ['exit ' + str(done.returncode)])[-1][:200]}")
    return _parse_tsv(done.stdout.decode("utf-8", "replace"), width, height)


def _parse_tsv(tsv: str, width: int, height: int) -> OcrPage:
    lines: dict[tuple[int, int, int], list[OcrWord]] = {}
    good = total = 0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        left, top, w, h = (int(c) for c in cells[6:10])
        confidence, text = float(cells[10]), cells[11].strip()
        key = (int(cells[2]), int(cells[3]), int(cells[4]))  # block, paragraph, line
        lines.setdefault(key, []).append(
            OcrWord(text, (left / width, top / height, (left + w) / width, (top + h) / height)))
        total += len(text)
        good += len(text) if confidence >= GOOD_CONFIDENCE else 0
    words = [word for line in lines.values() for word in line]
    if len(words) < MIN_WORDS or good < MIN_GOOD_SHARE * total:
        return OcrPage("")
    paragraphs: list[list[str]] = []
    last_paragraph = None
    for (block, paragraph, _), line in lines.items():
        if (block, paragraph) != last_paragraph:
            paragraphs.append([])
            last_paragraph = (block, paragraph)
        paragraphs[-1].append(" ".join(word.text for word in line))
    return OcrPage("\n\n".join("\n".join(p) for p in paragraphs), words)


def _pdf_page_png(path: str, page: int) -> bytes:
    import pymupdf

    with pymupdf.open(path) as doc:
        if not 1 <= page <= doc.page_count:
            raise ExtractionError(f"no page {page}")
        rect = doc[page - 1].rect
        dpi = RENDER_DPI
        pixels = (rect.width / 72 * dpi) * (rect.height / 72 * dpi)
        if pixels > MAX_PIXELS:
            dpi = int(dpi * (MAX_PIXELS / pixels) ** 0.5)
        pixmap = doc[page - 1].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        return pixmap.tobytes("png")


def _png_size(png: bytes) -> tuple[int, int]:
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ExtractionError("not a PNG image")
    stream = io.BytesIO(png[16:24])
    return max(1, int.from_bytes(stream.read(4), "big")), max(1, int.from_bytes(stream.read(4), "big"))
