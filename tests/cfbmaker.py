"""Write OLE compound files (the container of legacy .doc, .ppt and Outlook .msg files), for tests.

`write_cfb(path, streams)`: streams by "/"-separated name ("__substg1.0_0037001F"). Version 3,
512-byte sectors, and every stream kept at 4,096 bytes or more (`pad_to_regular`), so no mini
stream is needed: small streams are padded by the caller in a way its format ignores.
"""

from __future__ import annotations

import struct
from pathlib import Path

SECTOR = 512
FREE, END, FAT_MARK = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
MINI_CUTOFF = 4096


def pad_to_regular(data: bytes, filler: bytes = b"\0") -> bytes:
    """`data` padded to the size that keeps a stream out of the mini stream."""
    return data + filler * max(0, (MINI_CUTOFF - len(data)) // len(filler) + 1) if len(data) < MINI_CUTOFF else data


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b""):
        self.name, self.kind, self.data = name, kind, data
        self.children: list[_Entry] = []
        self.left = self.right = self.child = NOSTREAM
        self.start, self.index = END, 0


def write_cfb(path: Path, streams: dict[str, bytes]) -> Path:
    root = _Entry("Root Entry", 5)
    storages = {"": root}
    for name, data in streams.items():
        if len(data) < MINI_CUTOFF:
            raise ValueError(f"{name}: pad streams to {MINI_CUTOFF} bytes or more (pad_to_regular)")
        parts = name.split("/")
        parent = root
        for depth in range(1, len(parts)):
            key = "/".join(parts[:depth])
            if key not in storages:
                storages[key] = _Entry(parts[depth - 1], 1)
                parent.children.append(storages[key])
            parent = storages[key]
        parent.children.append(_Entry(parts[-1], 2, data))
    entries = _flatten(root)
    sectors: list[bytes] = []
    fat: list[int] = []

    def place(data: bytes) -> int:
        count = (len(data) + SECTOR - 1) // SECTOR
        first = len(sectors)
        for i in range(count):
            sectors.append(data[i * SECTOR:(i + 1) * SECTOR].ljust(SECTOR, b"\0"))
            fat.append(first + i + 1 if i + 1 < count else END)
        return first

    for entry in entries:
        if entry.kind == 2:
            entry.start = place(entry.data)
    directory = b"".join(_directory_entry(e) for e in entries)
    directory_start = place(directory.ljust(-(-len(directory) // SECTOR) * SECTOR, b"\0"))
    # Rewrite the directory now that every stream's first sector is known (placed already).
    directory = b"".join(_directory_entry(e) for e in entries)
    for i in range(len(directory) // SECTOR + (1 if len(directory) % SECTOR else 0)):
        sectors[directory_start + i] = directory[i * SECTOR:(i + 1) * SECTOR].ljust(SECTOR, b"\0")
    fat_sectors = 1
    while (len(sectors) + fat_sectors) > fat_sectors * (SECTOR // 4):
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("too large for this simple writer")
    fat_start = len(sectors)
    fat += [FAT_MARK] * fat_sectors
    table = struct.pack(f"<{len(fat)}I", *fat).ljust(fat_sectors * SECTOR, b"\xff")
    sectors += [table[i * SECTOR:(i + 1) * SECTOR] for i in range(fat_sectors)]
    difat = [fat_start + i for i in range(fat_sectors)] + [FREE] * (109 - fat_sectors)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, fat_sectors, directory_start, 0, MINI_CUTOFF, END, 0,
                                        END, 0)
              + struct.pack("<109I", *difat))
    Path(path).write_bytes(header + b"".join(sectors))
    return Path(path)


def _flatten(root: _Entry) -> list[_Entry]:
    """Entries in directory order; each storage's children chained through right siblings, in
    the order the format compares names (length, then upper case)."""
    entries: list[_Entry] = []

    def visit(entry: _Entry) -> None:
        entry.index = len(entries)
        entries.append(entry)
        ordered = sorted(entry.children, key=lambda e: (len(e.name), e.name.upper()))
        for child in ordered:
            visit(child)
        for current, following in zip(ordered, ordered[1:]):
            current.right = following.index
        if ordered:
            entry.child = ordered[0].index

    visit(root)
    return entries


def _directory_entry(entry: _Entry) -> bytes:
    name = entry.name.encode("utf-16-le") + b"\0\0"
    return (name.ljust(64, b"\0") + struct.pack("<HBB", len(name), entry.kind, 1)
            + struct.pack("<III", entry.left, entry.right, entry.child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
            + struct.pack("<IQ", entry.start if entry.kind == 2 else (END if entry.kind == 5 else 0), len(entry.data)))
