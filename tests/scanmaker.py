"""Scans and photos of text for OCR tests and benchmarks: text set on a page, rendered to a
picture (no text layer left), then wrapped in a PDF or saved as an image file.

`write_scanned_pdf(path, pages)`: one image-only page per group of paragraphs.
`write_text_image(path, paragraphs)`: PNG, JPEG, TIFF (one frame per group with `pages`), WebP, BMP.
"""

from __future__ import annotations

import io
from pathlib import Path

from docmaker import _pdf_bytes

SCAN_DPI = 200


def page_images(groups: list[list[str]], dpi: int = SCAN_DPI, title: str | None = None) -> list[bytes]:
    """Each group of paragraphs set on an A4 page and rendered as a grey PNG."""
    import pymupdf

    doc = pymupdf.open("pdf", _pdf_bytes(title, groups, "scanner"))
    return [page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY).tobytes("png") for page in doc]


def write_scanned_pdf(path: Path, pages: list[list[str]], dpi: int = SCAN_DPI, title: str | None = None) -> Path:
    import pymupdf

    out = pymupdf.open()
    for png in page_images(pages, dpi, title):
        page = out.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=png)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    out.save(str(path), deflate=True)
    return Path(path)


def write_text_image(path: Path, paragraphs: list[str], *, pages: list[list[str]] | None = None,
                     dpi: int = SCAN_DPI, exif_description: str | None = None) -> Path:
    from PIL import Image, ImageOps

    frames = [Image.open(io.BytesIO(png)).convert("L") for png in page_images(pages or [paragraphs], dpi)]
    # A photo of a page shows only its printed part: crop the empty paper around the text.
    frames = [frame.crop(_padded(ImageOps.invert(frame).getbbox() or (0, 0, *frame.size), frame.size))
              for frame in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {}
    if exif_description:
        exif = Image.Exif()
        exif[0x010E] = exif_description
        options["exif"] = exif
    kind = {".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP", ".bmp": "BMP",
            ".png": "PNG"}[path.suffix.lower()]
    if kind == "JPEG":
        options["quality"] = 90
    if kind == "WEBP":
        options["lossless"] = True
    if len(frames) > 1:
        frames[0].save(path, kind, save_all=True, append_images=frames[1:], **options)
    else:
        frames[0].save(path, kind, **options)
    return path


def _padded(box: tuple[int, int, int, int], size: tuple[int, int], pad: int = 40) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return max(0, left - pad), max(0, top - pad), min(size[0], right + pad), min(size[1], bottom + pad)
