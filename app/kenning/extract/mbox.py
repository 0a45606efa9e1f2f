"""Mailboxes (mbox: Thunderbird, Apple Mail exports, Google Takeout): each message becomes a member
of its own, read by `mail` like an .eml file, so every message is a result of its own.

Run in the extraction child, like archive unpacking (see `archive.py`): the messages are copied into
a private folder, one .eml each, within the member and size limits.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import mailbox
from pathlib import Path

from kenning.extract.archive import UnpackBudget, Unpacked, UnpackLimits
from kenning.extract.base import ExtractionError

SUFFIXES = (".mbox", ".mbx")
_SEPARATOR = " · "


def is_mailbox(path: Path) -> bool:
    """An .mbox file, or a file without an extension that starts like one (Thunderbird's "Inbox")."""
    if path.name.lower().endswith(SUFFIXES):
        return True
    if path.suffix or path.name.startswith("."):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(5) == b"From "
    except OSError:
        return False


def unpack(path: Path, into: Path, limits: UnpackLimits, only: int | None = None) -> list[Unpacked]:
    budget = UnpackBudget(limits, "mailbox")
    found = []
    into.mkdir(parents=True, exist_ok=True)
    try:
        box = mailbox.mbox(path, create=False)
        try:
            for number, key in enumerate(box.iterkeys(), start=1):
                if only is not None and number != only:
                    continue
                data = box.get_bytes(key)
                if not budget.member(len(data)):
                    continue
                budget.add(len(data))
                target = into / f"{number}.eml"
                target.write_bytes(data)
                subject, sent = _subject_and_date(data)
                found.append(Unpacked(f"{number}{_SEPARATOR}{subject}", str(target), len(data), sent))
        finally:
            box.close()
    except (ExtractionError, MemoryError, FileNotFoundError):
        raise
    except Exception as exc:  # mailbox's parser on damaged input
        raise ExtractionError(f"damaged mailbox ({type(exc).__name__})") from exc
    return found


def unpack_one(path: Path, name: str, into: Path, limits: UnpackLimits) -> str:
    number = name.split(_SEPARATOR, 1)[0]
    found = unpack(path, into, limits, only=int(number)) if number.isdigit() else []
    if not found:
        raise ExtractionError(f"message {number} is no longer in {path.name}")
    return found[0].path


def _subject_and_date(data: bytes) -> tuple[str, float | None]:
    """The message's subject (to name it) and when it was sent (its date in filters)."""
    try:
        headers = email.message_from_bytes(data.split(b"\n\n", 1)[0], policy=email.policy.default)
        subject, date = headers.get("Subject"), headers.get("Date")
    except Exception:  # a header the parser cannot read: the number alone names the message
        subject = date = None
    try:
        sent = email.utils.parsedate_to_datetime(str(date)).timestamp() if date else None
    except (TypeError, ValueError, OverflowError):
        sent = None
    name = " ".join(str(subject).split()) if subject else "(no subject)"
    return name.replace(" › ", " > ")[:120], sent
