"""Write files of the legacy and other formats Kenning reads, with known text, for tests:
Word 97 .doc, PowerPoint 97 .ppt and Outlook .msg (OLE compound files, through `cfbmaker`), .xls
(xlwt), RTF, subtitles, flat OpenDocument, CSV.

The binary writers follow Microsoft's published layouts ([MS-DOC] FIB and piece table, [MS-PPT]
records, [MS-OXMSG] property streams), with only the parts a reader needs.
"""

from __future__ import annotations

import struct
from html import escape
from pathlib import Path

from cfbmaker import pad_to_regular, write_cfb


def write_doc(path: Path, paragraphs: list[str]) -> Path:
    """A Word 97 document: the text as one UTF-16 piece, paragraphs ended by \\r."""
    text = "".join(p + "\r" for p in paragraphs)
    text_at = 0x800
    fib = bytearray(text_at)
    struct.pack_into("<HH", fib, 0, 0xA5EC, 0x00C1)  # wIdent, nFib (Word 97)
    struct.pack_into("<H", fib, 0x0A, 0x0200)  # fWhichTblStm: the table is "1Table"
    struct.pack_into("<i", fib, 0x4C, len(text))  # ccpText
    clx = b"\x02" + struct.pack("<I", 4 * 2 + 8) + struct.pack("<ii", 0, len(text)) + struct.pack("<HIH", 0, text_at, 0)
    struct.pack_into("<II", fib, 0x1A2, 0, len(clx))  # fcClx, lcbClx: the piece table at the table's start
    word = bytes(fib) + text.encode("utf-16-le")
    return write_cfb(path, {"WordDocument": pad_to_regular(word), "1Table": pad_to_regular(clx)})


def _record(kind: int, body: bytes, container: bool = False, instance: int = 0) -> bytes:
    return struct.pack("<HHI", (instance << 4) | (0xF if container else 0), kind, len(body)) + body


def write_ppt(path: Path, slides: list[list[str]]) -> Path:
    """A PowerPoint 97 presentation: a SlideListWithText holding each slide's text atoms."""
    body = b""
    for number, texts in enumerate(slides, start=1):
        body += _record(0x03F3, struct.pack("<IIiII", number, 0, 1, 0, 256 + number))  # SlidePersistAtom
        for text in texts:
            body += _record(0x0F9F, struct.pack("<I", 1))  # TextHeaderAtom (body text)
            body += _record(0x0FA0, text.encode("utf-16-le"))  # TextCharsAtom
    document = _record(0x03E8, _record(0x0FF0, body, container=True), container=True)  # Document > SlideList
    # Zero bytes after the records read as empty records of no type: readers pass over them.
    return write_cfb(path, {"PowerPoint Document": pad_to_regular(document)})


def write_msg(path: Path, subject: str, body: str, sender: str, attachments: list[tuple[str, bytes]] = ()) -> Path:
    """An Outlook message: Unicode string properties, a submit time, attachments with their data."""
    def unicode(prop: int, value: str, storage: str = "") -> tuple[str, bytes]:
        name = f"__substg1.0_{prop:04X}001F"
        # NUL padding: a string property ends at its first NUL for readers of padded streams.
        return (f"{storage}/{name}" if storage else name), pad_to_regular(value.encode("utf-16-le") + b"\0\0")

    streams = dict([unicode(0x0037, subject), unicode(0x1000, body), unicode(0x0C1A, sender),
                    unicode(0x0E04, "Bob Example")])
    filetime = (1_775_822_400 + 11_644_473_600) * 10_000_000  # 2026-04-10 12:00 UTC
    properties = bytes(32) + struct.pack("<HHIQ", 0x0040, 0x0039, 6, filetime)
    streams["__properties_version1.0"] = pad_to_regular(properties)
    for number, (name, data) in enumerate(attachments):
        storage = f"__attach_version1.0_#{number:08X}"
        streams.update([unicode(0x3707, name, storage)])
        streams[f"{storage}/__substg1.0_37010102"] = pad_to_regular(data, b"\0") if len(data) < 4096 else data
    return write_cfb(path, streams)


def write_xls(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import xlwt

    book = xlwt.Workbook()
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    book.save(str(path))
    return Path(path)


def write_rtf(path: Path, title: str, paragraphs: list[str]) -> Path:
    def encoded(text: str) -> str:
        return "".join(ch if ord(ch) < 128 else (f"\\'{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch)}?")
                       for ch in text)

    picture = "{\\pict\\pngblip " + "89504e47" * 500 + "}"  # a picture's hex: not text
    body = "".join(f"{{\\pard {encoded(p)}\\par}}\n" for p in paragraphs)
    Path(path).write_text(f"{{\\rtf1\\ansi\\deff0{{\\fonttbl{{\\f0 Times;}}}}{{\\info{{\\title {encoded(title)}}}"
                          f"{{\\author Ada Lovelace}}}}\n{picture}\n{body}}}", encoding="ascii")
    return Path(path)


def write_srt(path: Path, cues: list[str]) -> Path:
    blocks = [f"{n}\n00:00:{n:02d},000 --> 00:00:{n:02d},900\n<i>{cue}</i>" for n, cue in enumerate(cues, start=1)]
    Path(path).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return Path(path)


def write_vtt(path: Path, cues: list[str]) -> Path:
    blocks = [f"cue-{n}\n00:{n:02d}.000 --> 00:{n:02d}.900 align:start\n<c.yellow>{cue}</c>"
              for n, cue in enumerate(cues, start=1)]
    Path(path).write_text("WEBVTT\n\nNOTE made by a test\n\n" + "\n\n".join(blocks) + "\n", encoding="utf-8")
    return Path(path)


def write_fodt(path: Path, title: str, paragraphs: list[str]) -> Path:
    body = "".join(f"<text:p>{escape(p)}</text:p>" for p in paragraphs)
    Path(path).write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">'
        f"<office:meta><dc:title>{escape(title)}</dc:title><dc:creator>Ada Lovelace</dc:creator></office:meta>"
        f"<office:body><office:text>{body}</office:text></office:body></office:document>", encoding="utf-8")
    return Path(path)


def write_fods(path: Path, rows: list[list[str]]) -> Path:
    cells = "".join("<table:table-row>" + "".join(
        f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p></table:table-cell>' for v in row)
        + "</table:table-row>" for row in rows)
    Path(path).write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">'
        f'<office:body><office:spreadsheet><table:table table:name="Birds">{cells}</table:table>'
        "</office:spreadsheet></office:body></office:document>", encoding="utf-8")
    return Path(path)
