"""Scanning stage: the files under an indexed folder, and what may be read.

A symbolic link is followed only when its target stays inside an indexed folder (unless the user
allows every link): the user chose folders, not whatever they link to (`keys -> ~/.ssh`). A link
left out, a folder that cannot be listed and a name too long to open are reported, not fatal.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from kenning.exclude import Exclusions


def content_hash(path: str) -> str:
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class LinkPolicy:
    """Which symbolic links may be followed: those whose target is inside one of `folders`, or
    every one when `follow_all`."""

    folders: list[str]
    follow_all: bool = False
    _roots: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self._roots = [os.path.realpath(f).rstrip(os.sep) + os.sep for f in self.folders]

    def refusal(self, path: str) -> str | None:
        """Why the link `path` is not followed, or None if it may be (or is no link at all)."""
        if self.follow_all or not os.path.islink(path):
            return None
        target = os.path.realpath(path)
        if any((target + os.sep).startswith(root) for root in self._roots):
            return None
        return f"a link to {target}, outside the indexed folders (allow links in the settings to follow it)"


def walk_files(root: str, exclusions: Exclusions, skipped: list[tuple[str, str]],
               links: LinkPolicy | None = None) -> Iterator[str]:
    """Regular files under `root` that are not excluded, following each allowed directory link
    once (so a symlink loop ends); what is left out for a reason other than an exclusion is added to
    `skipped` as (path, why)."""
    policy = links or LinkPolicy([root])
    seen_dirs: set[str] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        real = os.path.realpath(directory)
        if real in seen_dirs:
            continue
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            skipped.append((directory, f"cannot list this folder ({exc.strerror or exc})"))
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir()
                if exclusions.skips(entry.path, root, is_dir):
                    continue
                refusal = policy.refusal(entry.path) if entry.is_symlink() else None
                if refusal:
                    skipped.append((entry.path, refusal))
                elif is_dir:
                    stack.append(entry.path)
                elif entry.is_file():
                    yield entry.path
            except OSError as exc:  # e.g. a name too long to open (past PATH_MAX)
                skipped.append((entry.path, f"cannot read ({exc.strerror or exc})"))
