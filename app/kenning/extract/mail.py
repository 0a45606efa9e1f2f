"""E-mail messages (.eml) through the standard library: headers, body, attachment names.

The text is a header block (From, To, Cc, Date, Subject), then the text/plain body, or the HTML
body as text when there is no plain one, then the names of attached files and the text of those
Kenning reads (PDF, Office, text...: a section each).
"""

from __future__ import annotations

import email
import email.policy
import tempfile
from email.message import EmailMessage
from pathlib import Path

from kenning.extract import plaintext, webpage
from kenning.extract.base import Document, ExtractionError, Section, UnsupportedFile, read_bytes_limited

_HEADERS = ("From", "To", "Cc", "Date", "Subject")
MAX_ATTACHMENTS_BYTES = 100 * 2**20  # of one message's attachments, read for their text
MAX_NESTING = 2  # a message attached to a message attached to a message is not read
_nesting = [0]


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
    attached = [p for p in message.walk() if p.get_filename() and not p.is_multipart()]
    if attached:
        parts.append("Attachments: " + ", ".join(str(p.get_filename()) for p in attached))
    text = "\n\n".join(parts).replace("\r\n", "\n")
    files = [(str(p.get_filename()), _payload(p)) for p in attached]
    return Document([Section(text), *attachment_sections(files)], _header(message, "Subject") or None,
                    _header(message, "From") or None)


def attachment_sections(attachments: list[tuple[str, bytes]]) -> list[Section]:
    """The text of the attached documents Kenning reads, a section each ("Attachment report.pdf: ...").
    An attachment is read like a file of its own (from a private temporary copy), within limits;
    one that cannot be read is left out, and the message is still indexed."""
    from kenning.extract import extract, supported
    from kenning.extract.archive import safe_name

    if _nesting[0] >= MAX_NESTING:
        return []
    sections, budget = [], MAX_ATTACHMENTS_BYTES
    with tempfile.TemporaryDirectory(prefix="kenning-attachments-") as folder:
        for number, (name, data) in enumerate(attachments):
            target = Path(folder) / str(number) / safe_name(name)
            if not supported(target) or not data or len(data) > budget:
                continue
            budget -= len(data)
            target.parent.mkdir()
            target.write_bytes(data)
            _nesting[0] += 1
            try:
                text = extract(target).text.strip()
            except (ExtractionError, UnsupportedFile):
                continue
            finally:
                _nesting[0] -= 1
                target.unlink()
            if text:
                sections.append(Section(f"Attachment {name}:\n\n{text}"))
    return sections


def _payload(part) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a damaged transfer encoding: the attachment is left out
        return b""
    return data if isinstance(data, bytes) else b""


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
