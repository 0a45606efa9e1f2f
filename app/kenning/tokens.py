"""A model's own tokenizer, through llama.cpp. The extraction child loads the vocabulary alone
(no weights: a few MB, a fraction of a second) to cut passages that fit the model's window, so
chunking runs beside the embedding, within the child's time and memory limits."""

from __future__ import annotations

from pathlib import Path

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

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        """Token ids; `special` adds [CLS]/[SEP] or their equivalents."""
        llama = self._llama
        data = text.encode("utf-8", "replace")
        capacity = len(data) + 8
        buffer = (llama.llama_token * capacity)()
        count = llama.llama_tokenize(self._vocab, data, len(data), buffer, capacity, special, False)
        if count < 0:  # buffer too small: the negated count is the size needed
            capacity = -count
            buffer = (llama.llama_token * capacity)()
            count = llama.llama_tokenize(self._vocab, data, len(data), buffer, capacity, special, False)
        return list(buffer[:count])

    def count(self, text: str) -> int:
        """Tokens `text` takes as a document, prefix and special tokens included."""
        return len(self.tokenize(self.document_prefix + text))

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
