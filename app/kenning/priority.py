"""Background indexing at low priority: the service's thread, and the threads and processes it
starts (llama.cpp's workers, the extraction child inherit it), gives way to what the person is
doing: nice 10 and the lowest best-effort I/O class on Linux (as `nice -n 10 ionice -c2 -n7`), a
background thread on macOS and Windows. Best effort: where the system refuses, indexing simply
runs at normal priority."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform
import sys
import threading

log = logging.getLogger(__name__)

NICE = 10
_IOPRIO_WHO_PROCESS = 1  # with a thread id: that thread
_IOPRIO_CLASS_BE, _IOPRIO_LOWEST = 2, 7
_IOPRIO_SYSCALLS = {"x86_64": (251, 252), "aarch64": (30, 31), "riscv64": (30, 31), "ppc64le": (273, 274),
                    "s390x": (282, 283), "armv7l": (314, 315), "i686": (289, 290)}  # (set, get)


def lower_this_thread() -> bool:
    """Lower the calling thread's CPU and I/O priority; whether the system allowed it."""
    try:
        if sys.platform.startswith("linux"):
            return _linux()
        if sys.platform == "darwin":
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            return libc.setpriority(3, 0, 0x1000) == 0  # PRIO_DARWIN_THREAD, this thread, PRIO_DARWIN_BG
        if sys.platform == "win32":
            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            return bool(kernel32.SetThreadPriority(kernel32.GetCurrentThread(), 0x00010000))  # BACKGROUND_BEGIN
    except (OSError, AttributeError) as exc:
        log.info("indexing keeps its normal priority (%s)", exc)
    return False


def _linux() -> bool:
    thread = threading.get_native_id()
    os.setpriority(os.PRIO_PROCESS, thread, max(NICE, os.getpriority(os.PRIO_PROCESS, thread)))
    numbers = _IOPRIO_SYSCALLS.get(platform.machine())
    if numbers is None:
        return True
    libc = ctypes.CDLL(None, use_errno=True)
    value = (_IOPRIO_CLASS_BE << 13) | _IOPRIO_LOWEST
    return libc.syscall(numbers[0], _IOPRIO_WHO_PROCESS, thread, value) == 0


def io_priority(thread: int) -> tuple[int, int] | None:
    """(class, level) of a thread's I/O priority on Linux, None where it cannot be read."""
    numbers = _IOPRIO_SYSCALLS.get(platform.machine()) if sys.platform.startswith("linux") else None
    if numbers is None:
        return None
    value = ctypes.CDLL(None, use_errno=True).syscall(numbers[1], _IOPRIO_WHO_PROCESS, thread)
    return None if value < 0 else (value >> 13, value & 0x1FFF)
