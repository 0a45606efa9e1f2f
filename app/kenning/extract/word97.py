"""Legacy Word documents (.doc, Word 97-2003) through olefile: the text is read from the
document's piece table, as Word itself assembles it; fields show their results, not their codes.

Older files (Word 6/95) and ones this reader cannot follow are handed to antiword or catdoc when
one is installed; otherwise the file is reported with what to install.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

from kenning.extract.base import Document, ExtractionError, Section
from kenning.extract.ole import metadata, open_ole

_WORD_95 = 0x0068  # nFib of Word 95; Word 97 and later (0x00C1 on) keep the piece table read here
_FIELD = re.compile("\x13[^\x13\x14\x15]*\x14([^\x13\x14\x15]*)\x15|\x13[^\x13\x14\x15]*\x15")
_CONTROL = str.maketrans({"\r": "\n\n", "\x0b": "\n", "\x0c": "\n\n", "\x07": "\t", "\x1e": "-", "\x1f": "",
                          "\x01": "", "\x08": "", "\x02": "", "\x05": ""})
TOOL_TIMEOUT_S = 60


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    with open_ole(path, "Word") as ole:
        title, author = metadata(ole)
        try:
            text = _piece_table_text(ole)
        except ExtractionError:
            raise
        except Exception:  # a structure this reader does not follow: a converter may
            text = None
    if text is None:
        text = _with_tool(path)
    return Document([Section(_tidy(text))], title, author)


def _piece_table_text(ole) -> str | None:
    if not ole.exists("WordDocument"):
        raise ExtractionError("not a Word document")
    word = ole.openstream("WordDocument").read()
    ident, fib_version = struct.unpack_from("<HH", word, 0)
    if ident != 0xA5EC or fib_version <= _WORD_95:  # Word 6/95 and older: another layout
        return None
    flags = struct.unpack_from("<H", word, 0x0A)[0]
    if flags & 0x0100:
        raise ExtractionError("encrypted or password-protected")
    table_name = "1Table" if flags & 0x0200 else "0Table"
    if not ole.exists(table_name):
        return None
    table = ole.openstream(table_name).read()
    main_length = struct.unpack_from("<i", word, 0x4C)[0]  # ccpText: the main document's characters
    clx_at, clx_length = struct.unpack_from("<II", word, 0x1A2)
    clx = table[clx_at:clx_at + clx_length]
    pieces = _pieces(clx)
    out, written = [], 0
    for start_cp, end_cp, fc in pieces:
        count = min(end_cp - start_cp, main_length - written)
        if count <= 0:
            break
        if fc & 0x40000000:  # 8-bit text, at half the offset
            at = (fc & 0x3FFFFFFF) // 2
            out.append(word[at:at + count].decode("cp1252", "replace"))
        else:
            out.append(word[fc:fc + 2 * count].decode("utf-16-le", "replace"))
        written += count
    return "".join(out)


def _pieces(clx: bytes) -> list[tuple[int, int, int]]:
    """The piece table: (first character, end character, file offset) of each run of text."""
    at = 0
    while at < len(clx) and clx[at] == 0x01:  # property modifiers, before the piece table
        at += 3 + struct.unpack_from("<H", clx, at + 1)[0]
    if at >= len(clx) or clx[at] != 0x02:
        raise ValueError("no piece table")
    size = struct.unpack_from("<I", clx, at + 1)[0]
    plc = clx[at + 5:at + 5 + size]
    count = (len(plc) - 4) // 12
    positions = struct.unpack_from(f"<{count + 1}i", plc, 0)
    pieces = []
    for i in range(count):
        fc = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * i + 2)[0]
        pieces.append((positions[i], positions[i + 1], fc))
    return pieces


def _tidy(text: str) -> str:
    text = _FIELD.sub(lambda m: m.group(1) or "", text)
    text = text.translate(_CONTROL)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _with_tool(path: Path) -> str:
    for program, arguments in (("antiword", ["-w", "0"]), ("catdoc", ["-w"])):
        found = shutil.which(program)
        if found is None:
            continue
        try:
            done = subprocess.run([found, *arguments, str(path)], capture_output=True, timeout=TOOL_TIMEOUT_S)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.decode("utf-8", "replace")
    raise ExtractionError("an older Word format this reader does not follow: install antiword or catdoc to read it")
