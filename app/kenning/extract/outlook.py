"""Outlook messages (.msg) through olefile: the same text as an .eml gives (From, To, Cc, Date,
Subject, the body, the attachments' names and text), read from the message's MAPI properties."""

from __future__ import annotations

import datetime
import struct
from pathlib import Path

from kenning.extract import mail, webpage
from kenning.extract.base import Document, ExtractionError, Section
from kenning.extract.ole import open_ole

_SUBJECT, _BODY, _HTML, _HEADERS = 0x0037, 0x1000, 0x1013, 0x007D
_SENDER_NAME, _SENDER_ADDRESS, _SENDER_SMTP = 0x0C1A, 0x0C1F, 0x5D01
_TO, _CC = 0x0E04, 0x0E03
_SUBMITTED, _DELIVERED, _CODEPAGE = 0x0039, 0x0E06, 0x3FFD
_ATTACHMENT_NAME, _ATTACHMENT_SHORT_NAME, _ATTACHMENT_DATA = 0x3707, 0x3704, 0x3701
_FILETIME_EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    with open_ole(path, "Outlook message") as ole:
        if not any(entry[0].startswith("__substg1.0_") for entry in ole.listdir()):
            raise ExtractionError("not an Outlook message")
        fixed = _fixed_properties(ole, "__properties_version1.0", header=32)
        codepage = fixed.get(_CODEPAGE)
        read = lambda prop, storage="": _string(ole, storage, prop, codepage if isinstance(codepage, int) else 1252)
        sender = read(_SENDER_NAME)
        address = read(_SENDER_SMTP) or read(_SENDER_ADDRESS)
        sent = fixed.get(_SUBMITTED) or fixed.get(_DELIVERED)
        headers = [("From", f"{sender} <{address}>" if sender and address and "@" in address else sender or address),
                   ("To", read(_TO)), ("Cc", read(_CC)),
                   ("Date", sent.strftime("%a, %d %b %Y %H:%M:%S +0000") if isinstance(sent, datetime.datetime) else ""),
                   ("Subject", read(_SUBJECT))]
        body = read(_BODY).strip()
        if not body:
            html = read(_HTML) or _binary(ole, "", _HTML).decode("utf-8", "replace")
            body = webpage.html_to_text(html) if html else ""
        attachments = _attachments(ole, read)
        subject = read(_SUBJECT)
    text = "\n".join(f"{name}: {value}" for name, value in headers if value)
    parts = [Section("\n\n".join(p for p in (text, body) if p))]
    if attachments:
        parts[0].text += "\n\nAttachments: " + ", ".join(name for name, _ in attachments)
        parts += mail.attachment_sections(attachments)
    return Document(parts, subject or None, sender or address or None)


def _attachments(ole, read) -> list[tuple[str, bytes]]:
    found = []
    storages = sorted({entry[0] for entry in ole.listdir() if entry[0].startswith("__attach_version1.0_")})
    for storage in storages:
        name = read(_ATTACHMENT_NAME, storage) or read(_ATTACHMENT_SHORT_NAME, storage) or "attachment"
        found.append((name, _binary(ole, storage, _ATTACHMENT_DATA)))
    return found


def _stream(ole, storage: str, prop: int, kind: int) -> str:
    name = f"__substg1.0_{prop:04X}{kind:04X}"
    return f"{storage}/{name}" if storage else name


def _string(ole, storage: str, prop: int, codepage: int) -> str:
    unicode_name = _stream(ole, storage, prop, 0x001F)
    if ole.exists(unicode_name):
        return ole.openstream(unicode_name).read().decode("utf-16-le", "replace").split("\x00", 1)[0]
    narrow = _stream(ole, storage, prop, 0x001E)
    if ole.exists(narrow):
        try:
            return ole.openstream(narrow).read().decode(f"cp{codepage}", "replace").split("\x00", 1)[0]
        except LookupError:
            return ole.openstream(narrow).read().decode("cp1252", "replace").split("\x00", 1)[0]
    return ""


def _binary(ole, storage: str, prop: int) -> bytes:
    name = _stream(ole, storage, prop, 0x0102)
    return ole.openstream(name).read() if ole.exists(name) else b""


def _fixed_properties(ole, name: str, header: int) -> dict[int, object]:
    """The fixed-size properties (times, numbers) of a message: 16-byte records after a header."""
    if not ole.exists(name):
        return {}
    data = ole.openstream(name).read()
    found: dict[int, object] = {}
    for at in range(header, len(data) - 15, 16):
        kind, prop = struct.unpack_from("<HH", data, at)
        if kind == 0x0040:  # a FILETIME: 100 ns since 1601
            ticks = struct.unpack_from("<Q", data, at + 8)[0]
            try:
                found[prop] = _FILETIME_EPOCH + datetime.timedelta(microseconds=ticks // 10)
            except OverflowError:
                continue
        elif kind == 0x0003:
            found[prop] = struct.unpack_from("<i", data, at + 8)[0]
    return found
