#!/usr/bin/env python3
"""Write resources/samples/garden-birds.pdf: a small multi-page PDF (one topic per page), so the
installer smoke test can check that PDFs are extracted in the bundled sandbox child and that the
right page is reported.

    .venv/bin/python installer/make_sample_pdf.py [OUTPUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pymupdf

PAGES = [
    ("A field guide to garden birds",
     "This little guide describes three birds that visit an ordinary garden through the year. "
     "Each page covers one bird: how to recognise it, what it eats and where it nests.\n\n"
     "The European robin is small and round, with an orange-red breast and face. Robins sing "
     "through the winter and follow gardeners closely, waiting for worms turned up by a spade."),
    ("The blackbird",
     "The male blackbird is glossy black with a bright yellow-orange beak and eye ring; the female "
     "is brown. Blackbirds build a cup-shaped nest of grass and mud in hedges and shrubs, and may "
     "raise three broods between March and July. Their song is rich, slow and fluted, heard "
     "loudest at dusk from a rooftop or aerial."),
    ("The tawny owl",
     "The tawny owl is a nocturnal hunter. It sits silently on a branch after dark, listening, and "
     "drops onto mice, voles and shrews with soft feathers that make its flight almost silent. "
     "Its call is the familiar hoot, answered by a sharp kee-wick. By day it roosts close to the "
     "trunk of a tree, where small birds sometimes find it and mob it noisily."),
]


def main() -> int:
    default = Path(__file__).resolve().parents[1] / "resources" / "samples" / "garden-birds.pdf"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    doc = pymupdf.open()
    for number, (title, body) in enumerate(PAGES, start=1):
        page = doc.new_page(width=420, height=595)  # A5
        page.insert_textbox(pymupdf.Rect(40, 50, 380, 90), title, fontsize=18, fontname="helv")
        page.insert_textbox(pymupdf.Rect(40, 100, 380, 540), body, fontsize=11, fontname="helv", lineheight=1.4)
        page.insert_textbox(pymupdf.Rect(40, 550, 380, 570), f"page {number} of {len(PAGES)}", fontsize=8,
                            fontname="helv", align=pymupdf.TEXT_ALIGN_CENTER)
    doc.set_metadata({"title": "A field guide to garden birds", "author": "Kenning samples",
                      "creationDate": "D:20250101000000Z", "modDate": "D:20250101000000Z"})
    doc.save(out, garbage=4, deflate=True, no_new_id=True)
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(PAGES)} pages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
