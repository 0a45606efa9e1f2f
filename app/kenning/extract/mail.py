"""E-mail messages (.eml) through the standard library: headers, body, attachment names.

The text is a header block (From, To, Cc, Date, Subject), then the text/plain body, or the HTML
body as text when there is no plain one, then the names of attached files (not their content).
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from kenning.extract import plaintext, webpage
from kenning.extract.base import Document, ExtractionError, Section, read_bytes_limited

_HEADERS = ("From", "To", "Cc", "Date", "Subject")


def extract(path: Path) -> Document:
    data = read_bytes_limited(path)
    if not data:
        return Document()
    try:
        return _extract(email.message_from_bytes(data, policy=email.policy.default))
    except (ExtractionError, MemoryError):
        raise
    except Exception as e:  # the email package has parser bugs that raise on odd input
        raise ExtractionError("damaged e-mail message") from e


def _extract(message: EmailMessage) -> Document:
    headers = [(name, _header(message, name)) for name in _HEADERS]
    if not any(value for _, value in headers) and not _header(message, "Message-ID"):
        raise ExtractionError("not an e-mail message")

    parts = ["\n".join(f"{name}: {value}" for name, value in headers if value)]
    body = _body(message)
    if body:
        parts.append(body)
    attachments = [
        str(p.get_filename()) for p in message.walk() if p.get_filename() and not p.is_multipart()
    ]
    if attachments:
        parts.append("Attachments: " + ", ".join(attachments))
    text = "\n\n".join(parts).replace("\r\n", "\n")
    return Document(
        [Section(text)], _header(message, "Subject") or None, _header(message, "From") or None
    )


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the default policy cannot parse: take it raw
        raw = [v for k, v in message.raw_items() if k.lower() == name.lower()]
        value = raw[0] if raw else None
    return " ".join(str(value).split()) if value is not None else ""


def _body(message: EmailMessage) -> str:
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None:
        return _part_text(plain).strip()
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        return webpage.html_to_text(_part_text(html))
    if not message.is_multipart() and message.get_content_maintype() == "text":
        return _part_text(message).strip()
    return ""


def _part_text(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):
        pass  # an unknown or wrong charset: guess from the bytes
    payload = part.get_payload(decode=True)
    payload = payload if isinstance(payload, bytes) else b""
    try:
        return plaintext.decode(payload)
    except ExtractionError:
        return ""
