"""Images (PNG, JPEG, TIFF with its pages, WebP, BMP, GIF) through Pillow: the description a camera
or a photo manager wrote (EXIF, XMP) as text at once, and each frame as a page for OCR.

Without OCR an image with no description has no text: `Document.ocr_pages` lists its frames, and
the indexer reads them with Tesseract later (see `ocr.py`), or reports that it needs OCR.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from pathlib import Path

from PIL import ExifTags, Image, ImageSequence, UnidentifiedImageError

from kenning.extract import FORMATS
from kenning.extract.base import Document, ExtractionError, Section, ocr_text

MAX_FRAMES = 500  # pages of a TIFF read; an animation's later frames are not text pages
MAX_MEGAPIXELS = 150  # larger images are refused before they are decoded (a decompression bomb)
_MULTI_PAGE = (".tif", ".tiff")

_EXIF_TEXT = {  # tag -> what it is; Windows' XP* tags hold UTF-16
    ExifTags.Base.ImageDescription: "description", ExifTags.Base.XPTitle: "title",
    ExifTags.Base.XPSubject: "subject", ExifTags.Base.XPComment: "comment", ExifTags.Base.XPKeywords: "keywords",
    ExifTags.Base.Artist: "author", ExifTags.Base.XPAuthor: "author", ExifTags.Base.Copyright: "copyright",
}
_XMP_FIELDS = ("title", "description", "subject", "creator", "Headline", "Caption-Abstract")
_XMP_ITEM = re.compile(r"<rdf:li[^>]*>(.*?)</rdf:li>", re.DOTALL)

Image.MAX_IMAGE_PIXELS = MAX_MEGAPIXELS * 1_000_000


def handles(path: Path) -> bool:
    return path.suffix.lower() in FORMATS["image"]


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    with _open(path) as image:
        meta = _metadata(image)
        frames = min(getattr(image, "n_frames", 1), MAX_FRAMES) if path.suffix.lower() in _MULTI_PAGE else 1
    sections = [Section("\n".join(f"{name.capitalize()}: {value}" for name, value in meta.items()))] if meta else []
    waiting = []
    for frame in range(1, frames + 1):
        text = ocr_text(frame)
        if text is None:
            waiting.append(frame)
        sections.append(Section(text or "", frame))
    return Document(sections, meta.get("title") or meta.get("description"), meta.get("author"), ocr_pages=waiting)


def frame_png(path: Path, frame: int, small_px: int, max_pixels: int) -> bytes:
    """Frame `frame` (1-based) as a grey PNG for OCR: small images enlarged, huge ones reduced."""
    with _open(path) as image:
        for number, current in enumerate(ImageSequence.Iterator(image), start=1):
            if number == frame:
                return _for_ocr(current, small_px, max_pixels)
    raise ExtractionError(f"no page {frame}")


def _for_ocr(image: Image.Image, small_px: int, max_pixels: int) -> bytes:
    grey = image.convert("L") if image.mode != "L" else image.copy()
    width, height = grey.size
    if width * height > max_pixels:
        scale = (max_pixels / (width * height)) ** 0.5
        grey = grey.resize((max(1, int(width * scale)), max(1, int(height * scale))), Image.Resampling.LANCZOS)
    elif max(width, height) < small_px:
        grey = grey.resize((width * 2, height * 2), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    grey.save(out, "PNG")
    return out.getvalue()


def _open(path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            image.load()  # decode now, so damage shows here and not half-way through OCR
            return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ExtractionError(f"image larger than {MAX_MEGAPIXELS} megapixels; not read") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ExtractionError(f"damaged or unreadable {path.suffix.lstrip('.').upper()} image") from exc


def _metadata(image: Image.Image) -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        exif = image.getexif()
        tags = {**exif, **exif.get_ifd(ExifTags.IFD.Exif)}
    except Exception:  # a damaged EXIF block: the picture can still be read
        tags = {}
    for tag, name in _EXIF_TEXT.items():
        value = _exif_string(tags.get(tag))
        if value and name not in found:
            found[name] = value
    comment = _user_comment(tags.get(ExifTags.Base.UserComment))
    if comment and "comment" not in found:
        found["comment"] = comment
    for name, value in _xmp(image).items():
        found.setdefault(name.lower(), value)
    return found


def _exif_string(value) -> str:
    if isinstance(value, bytes):  # XP* tags: UTF-16-LE, NUL-terminated
        value = value.decode("utf-16-le", "replace")
    elif isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        value = bytes(value).decode("utf-16-le", "replace")
    return " ".join(str(value).replace("\x00", " ").split()) if value else ""


def _user_comment(value) -> str:
    if not isinstance(value, bytes) or len(value) <= 8:
        return _exif_string(value) if isinstance(value, str) else ""
    prefix, body = value[:8], value[8:]
    encoding = "utf-16-le" if prefix.startswith(b"UNICODE") else "latin-1"
    return " ".join(body.decode(encoding, "replace").replace("\x00", " ").split())


def _xmp(image: Image.Image) -> dict[str, str]:
    raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    packet = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    found = {}
    for name in _XMP_FIELDS:
        match = re.search(rf"<(?:\w+:)?{name}\b[^>]*>(.*?)</(?:\w+:)?{name}>", packet, re.DOTALL)
        if not match:
            continue
        items = _XMP_ITEM.findall(match.group(1)) or [match.group(1)]
        value = ", ".join(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items)
        if value.strip():
            found["subject" if name in ("subject",) else name] = value.strip()
    if "Headline" in found:
        found.setdefault("title", found.pop("Headline"))
    if "Caption-Abstract" in found:
        found.setdefault("description", found.pop("Caption-Abstract"))
    if "creator" in found:
        found.setdefault("author", found.pop("creator"))
    return found
