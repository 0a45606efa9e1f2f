"""A model's own tokenizer, through llama.cpp. The extraction child loads the vocabulary alone
(no weights: a few MB, a fraction of a second) to cut passages that fit the model's window, so
chunking runs beside the embedding, within the child's time and memory limits."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from kenning.errors import ModelError
from kenning.models.llama_log import quiet_llama


class Tokenizer:
    """Counts and makes token ids; `vocab` is a loaded model's vocabulary, else the file's
    vocabulary is loaded on its own."""

    def __init__(self, model_path: Path, document_prefix: str = "", vocab=None):
        import llama_cpp

        self._llama = llama_cpp
        self.document_prefix = document_prefix
        self._model = None
        if vocab is None:
            params = llama_cpp.llama_model_default_params()
            params.vocab_only = True
            params.n_gpu_layers = 0
            with quiet_llama():
                llama_cpp.llama_backend_init()
                self._model = llama_cpp.llama_model_load_from_file(str(model_path).encode(), params)
            if not self._model:
                raise ModelError(f"{model_path}: llama.cpp could not read this model's vocabulary")
            vocab = llama_cpp.llama_model_get_vocab(self._model)
        self._vocab = vocab
        self._lock = threading.Lock()  # one buffer, reused: one call at a time
        self._capacity = 0
        self._buffer: Any = None  # a ctypes array of llama_token
        self._grow(4096)

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        """Token ids; `special` adds [CLS]/[SEP] or their equivalents."""
        with self._lock:
            count = self._run(text.encode("utf-8", "replace"), special)
            return list(self._buffer[:count])

    def count(self, text: str) -> int:
        """Tokens `text` takes as a document, prefix and special tokens included."""
        with self._lock:
            return self._run((self.document_prefix + text).encode("utf-8", "replace"), True)

    def _run(self, data: bytes, special: bool) -> int:
        """Tokenize into the reusable buffer (grown as needed); returns how many tokens."""
        if len(data) + 8 > self._capacity:
            self._grow(len(data) + 8)
        count = self._llama.llama_tokenize(self._vocab, data, len(data), self._buffer, self._capacity, special, False)
        if count < 0:  # buffer too small: the negated count is the size needed
            self._grow(-count)
            count = self._llama.llama_tokenize(self._vocab, data, len(data), self._buffer, self._capacity, special,
                                               False)
        return count

    def _grow(self, capacity: int) -> None:
        self._capacity = max(capacity, 2 * self._capacity)
        self._buffer = (self._llama.llama_token * self._capacity)()

    def close(self) -> None:
        if self._model:
            self._llama.llama_model_free(self._model)
            self._model = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


_cached: dict[tuple[str, str], Tokenizer] = {}


def tokenizer_for(model_path: str, document_prefix: str) -> Tokenizer:
    """One vocabulary-only tokenizer per model, kept for the life of the (child) process."""
    key = (model_path, document_prefix)
    if key not in _cached:
        _cached[key] = Tokenizer(Path(model_path), document_prefix)
    return _cached[key]
