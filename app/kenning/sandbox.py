"""Run extraction (and preview rendering) in a child process with a time and memory limit.

A PDF that makes MuPDF loop forever, eat all memory or crash takes down only the child: the file
is reported as failed and a fresh child serves the next one. One request is in flight at a time,
so the caller can embed one file while the child extracts the next. A request is a module-level
function and its arguments (pickled by name), run in the child.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable
from enum import Enum
from multiprocessing.connection import Connection
from pathlib import Path

from kenning.extract import Document, ExtractionError, UnsupportedFile

log = logging.getLogger(__name__)


class Reply(str, Enum):
    """What the child answers, with its payload."""

    OK = "ok"  # a Document
    UNSUPPORTED = "unsupported"  # why not
    ERROR = "error"  # why not


def extract_document(path: str) -> Document:
    from kenning.extract import extract  # in the child: the parent need not load every parser

    return extract(Path(path))


def _child_main(conn: Connection, memory_bytes: int | None) -> None:
    os.umask(0o077)  # what it unpacks (archive members, copies to open) is the user's alone
    if memory_bytes and sys.platform != "win32":
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    while True:
        try:
            function, args = conn.recv()
        except (EOFError, OSError):  # the parent went away (a kill, a crash): end quietly
            return
        try:
            conn.send(_answer(function, args, memory_bytes))
        except (OSError, ValueError):
            return


def _answer(function: Callable, args: tuple, memory_bytes: int | None) -> tuple[Reply, object]:
    try:
        return Reply.OK, function(*args)
    except FileNotFoundError:
        return Reply.ERROR, "the file is no longer there"
    except UnsupportedFile as exc:
        return Reply.UNSUPPORTED, str(exc)
    except ExtractionError as exc:
        return Reply.ERROR, str(exc)
    except MemoryError:
        limit = f" ({memory_bytes // 2**20} MB; raise it in the settings)" if memory_bytes else ""
        return Reply.ERROR, f"needs more memory than the extraction limit{limit}"
    except OSError as exc:
        return Reply.ERROR, f"cannot read: {exc.strerror or exc}"
    except Exception as exc:  # a parser bug must not end the worker
        return Reply.ERROR, f"{type(exc).__name__}: {exc}"[:500]


class ExtractionSandbox:
    def __init__(self, timeout_s: float = 60.0, memory_mb: int | None = 800):
        self.timeout_s = timeout_s
        self.memory_bytes = memory_mb * 1024 * 1024 if memory_mb else None
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._pending: str | None = None
        self._pending_timeout = timeout_s

    def _connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("no extraction child is running")
        return self._conn

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        self._process = self._context.Process(
            target=_child_main, args=(child, self.memory_bytes), daemon=True, name="kenning-extract"
        )
        self._process.start()
        child.close()
        self._conn = parent

    def _stop(self) -> None:
        if self._process is not None and self._process.pid is not None:
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None
        self._pending = None

    def submit(self, path: Path) -> None:
        """Start extracting `path`; `result()` brings its Document."""
        self.submit_call(extract_document, os.fspath(path))

    def submit_call(self, function: Callable, *args, timeout_s: float | None = None) -> None:
        """Start `function(*args)` in the child; `result()` brings its answer (within `timeout_s`,
        else the sandbox's own limit)."""
        if self._pending is not None:
            raise RuntimeError("one request at a time")
        if self._process is None or not self._process.is_alive():
            self._stop()
            self._start()
        self._connection().send((function, args))
        # Named by its first argument (the file): the rest (a chunk plan, a book's OCR text) can be
        # large, and this runs for every file.
        self._pending = f"{function.__name__}({args[0]!r}, ...)"[:200] if args else function.__name__
        self._pending_timeout = self.timeout_s if timeout_s is None else timeout_s

    def call(self, function: Callable, *args):
        """`function(*args)` in the child, within the limits."""
        self.submit_call(function, *args)
        return self.result()

    def call_within(self, timeout_s: float, function: Callable, *args):
        """`function(*args)` in the child, within `timeout_s` instead of the usual time limit."""
        self.submit_call(function, *args, timeout_s=timeout_s)
        return self.result()

    def result(self):
        """The answer to the request in flight; ExtractionError/UnsupportedFile if it cannot be had."""
        path, self._pending = self._pending, None
        try:
            conn = self._connection()
            timeout = self._pending_timeout
            if not conn.poll(timeout):
                self._stop()
                raise ExtractionError(f"extraction took longer than {timeout:g} s; skipped")
            kind, payload = conn.recv()
        except (EOFError, OSError):
            code = self._process.exitcode if self._process else None
            self._stop()
            if code is not None and code < 0:
                raise ExtractionError(f"the parser crashed on this file (signal {-code})") from None
            limit = f" (the limit is {self.memory_bytes // 2**20} MB)" if self.memory_bytes else ""
            raise ExtractionError(f"the parser crashed on this file (out of memory?{limit})") from None
        if kind == Reply.OK:
            return payload
        if kind == Reply.UNSUPPORTED:
            raise UnsupportedFile(payload)
        log.debug("extraction failed for %s: %s", path, payload)
        raise ExtractionError(payload)

    def extract(self, path: Path) -> Document:
        self.submit(path)
        return self.result()

    def close(self) -> None:
        self._stop()
