"""Web pages (.html .htm .xhtml) through selectolax (lexbor): the visible text, in one section.

Scripts, styles, templates, hidden elements and the <head> are dropped (the <title> becomes the
document title). Block elements start new lines or paragraphs; other whitespace collapses as a
browser would collapse it. `html_to_text` is also used for HTML-only e-mail.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from kenning.extract import plaintext
from kenning.extract.base import Document, Section, read_head

# Private-use characters mark breaks while whitespace is collapsed, then become \n\n, \n, \t.
_PARAGRAPH, _LINE, _CELL = "\ue000", "\ue001", "\ue002"
_MARKERS = re.compile("[\ue000-\ue002]")
_BREAKS = re.compile("[ \ue000\ue001]*[\ue000\ue001][ \ue000\ue001]*")

_DROP = "script, style, noscript, template, head, svg, math, iframe, object, canvas, [hidden]"
_PARAGRAPH_TAGS = (
    "p, h1, h2, h3, h4, h5, h6, blockquote, table, ul, ol, dl, section, article, header, "
    "footer, aside, nav, main, figure, form, fieldset, address, details, hr, hgroup, dialog"
)
_LINE_TAGS = "div, li, dt, dd, tr, caption, figcaption, summary, legend, option"
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([a-z0-9_.:-]+)""",
    re.IGNORECASE,
)


MAX_MARKUP_BYTES = 12 * 1024 * 1024  # parsed at once: lexbor's tree takes many times this


def extract(path: Path) -> Document:
    data, truncated = read_head(path)
    if len(data) > MAX_MARKUP_BYTES:
        data, truncated = data[:MAX_MARKUP_BYTES], True
    if not data:
        return Document()
    text, title, author = parse(decode(data))
    return Document([Section(text)] if text else [], title, author, truncated=truncated)


def html_to_text(markup: str) -> str:
    return parse(markup)[0]


def parse(markup: str) -> tuple[str, str | None, str | None]:
    """(visible text, <title>, <meta name=author>) of an HTML document."""
    tree = LexborHTMLParser(_MARKERS.sub("", markup))
    title = _clean(tree.css_first("title"))
    author_meta = tree.css_first('meta[name="author" i]')
    author = (author_meta.attributes.get("content") or "").strip() if author_meta else ""

    for node in tree.css(_DROP + ', [style*="display:none" i], [style*="display: none" i]'):
        if node.tag != "html":  # the root element cannot be removed
            node.decompose()
    for node in tree.css("pre"):  # keep the line structure of preformatted text
        node.replace_with(_PARAGRAPH + node.text(deep=True).replace("\n", _LINE) + _PARAGRAPH)
    for node in tree.css(_PARAGRAPH_TAGS):
        node.insert_before(_PARAGRAPH)
        node.insert_after(_PARAGRAPH)
    for node in tree.css(_LINE_TAGS):
        node.insert_before(_LINE)
        node.insert_after(_LINE)
    for node in tree.css("br"):
        node.insert_after(_LINE)
    for node in tree.css("td, th"):
        node.insert_after(_CELL)

    root = tree.body or tree.root
    raw = root.text(deep=True, separator="") if root is not None else ""
    return _layout(raw), title, author or None


def _layout(raw: str) -> str:
    text = re.sub(r"\s+", " ", raw)
    # A run of break markers is one break: a paragraph break if any of them is one.
    text = _BREAKS.sub(lambda m: "\n\n" if _PARAGRAPH in m.group() else "\n", text)
    text = re.sub(r" ?\ue002 ?", "\t", text)
    lines = (line.strip(" ").rstrip("\t ") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _clean(node) -> str | None:
    if node is None:
        return None
    return " ".join(node.text(deep=True).split()) or None


def decode(data: bytes) -> str:
    """The declared charset if there is a usable one, else the plain-text detection."""
    match = _DECLARED_CHARSET.search(data[:4096])
    if match and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        name = (match.group(1) or match.group(2)).decode("ascii").lower()
        try:
            encoding = codecs.lookup(name).name
        except LookupError:
            encoding = None
        # As browsers do: a page that could declare "utf-16" in ASCII is not UTF-16, and
        # "latin-1" really means windows-1252.
        if encoding in ("utf-16", "utf-16-le", "utf-16-be"):
            encoding = "utf-8"
        elif encoding in ("latin-1", "iso8859-1", "ascii"):
            encoding = "cp1252"
        if encoding and b"\x00" not in data[:4096]:
            return data.decode(encoding, "replace")
    return plaintext.decode(data)
