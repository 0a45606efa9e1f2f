"""Route llama.cpp's C-level log lines into Python logging instead of the terminal."""

from __future__ import annotations

import ctypes
import logging
from contextlib import contextmanager

log = logging.getLogger("kenning.llama")
_callback = None
# ggml_log_level: 1 debug, 2 info, 3 warn, 4 error, 5 continuation of the previous line
_LEVELS = {3: logging.WARNING, 4: logging.ERROR}


def _install() -> None:
    global _callback
    if _callback is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def forward(level, text, _user_data):
        message = text.decode("utf-8", "replace").rstrip()
        if message:
            log.log(_LEVELS.get(level, logging.DEBUG), message)

    _callback = forward  # keep a reference: C holds only the pointer
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


@contextmanager
def quiet_llama():
    _install()
    yield
