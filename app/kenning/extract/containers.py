"""Files that hold other files: archives (`archive`) and mailboxes (`mbox`). Each readable member
is indexed as a file of its own, named `container › member` (`reports.zip › 2024/q1.pdf`,
`Inbox.mbox › 12 · Budget`), nested archives as `outer.zip › inner.tar › notes.md`.

`unpack` and `unpack_one` run in the extraction child, like every other parser.
"""

from __future__ import annotations

import os
from pathlib import Path

from kenning.extract import archive, mbox
from kenning.extract.archive import Unpacked, UnpackLimits

MEMBER_SEPARATOR = " › "

__all__ = [
    "MEMBER_SEPARATOR",
    "UnpackLimits",
    "Unpacked",
    "is_container",
    "member_path",
    "split_member",
    "unpack",
    "unpack_one",
]


def is_container(path: Path) -> bool:
    return archive.is_archive(path) or mbox.is_mailbox(path)


def unpack(path: str, into: str, limits: UnpackLimits) -> list[Unpacked]:
    """In the child: the members worth reading (documents, nested archives; every message) copied
    into the folder `into`."""
    from kenning.extract import supported

    source, target = Path(path), Path(into)
    if mbox.is_mailbox(source):
        return mbox.unpack(source, target, limits)
    return archive.unpack(source, target, lambda name: _readable(Path(name), supported), limits)


def unpack_one(path: str, name: str, into: str, limits: UnpackLimits) -> str:
    """In the child: the one member `name` copied into `into`; its path there."""
    source, target = Path(path), Path(into)
    if mbox.is_mailbox(source):
        return mbox.unpack_one(source, name, target, limits)
    return archive.unpack_one(source, name, target, limits)


def _readable(name: Path, supported) -> bool:
    return not name.name.startswith("._") and "__MACOSX" not in name.parts and (supported(name) or is_container(name))


def member_path(container: str, name: str) -> str:
    """How a member is named in the index and in results."""
    return container + MEMBER_SEPARATOR + name.replace(MEMBER_SEPARATOR, " > ")


def split_member(path: str) -> tuple[str, list[str]] | None:
    """(the container file on disk, the member names inside it, outermost first) for a member's
    path; None for a path that names no member."""
    parts = path.split(MEMBER_SEPARATOR)
    for cut in range(1, len(parts)):
        outer = MEMBER_SEPARATOR.join(parts[:cut])
        if os.path.isfile(outer):
            return outer, parts[cut:]
    return None
