"""Read a PyTorch `pytorch_model.bin` state dict without PyTorch, and without running its pickle.

Only the zip format (PyTorch >= 1.6) is read. The unpickler allows just the few globals a state
dict needs, so a malicious file cannot run code; anything else is refused with a clear message.
"""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from kenning.errors import ModelError

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "DoubleStorage": np.float64,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "BFloat16Storage": "bfloat16",
}


class _Storage:
    def __init__(self, dtype, raw: bytes):
        self.dtype, self.raw = dtype, raw

    def array(self) -> np.ndarray:
        if self.dtype == "bfloat16":
            widened = np.frombuffer(self.raw, dtype=np.uint16).astype(np.uint32) << 16
            return widened.view(np.float32)
        return np.frombuffer(self.raw, dtype=self.dtype)


def _rebuild_tensor(storage: _Storage, offset, size, stride, *_ignored) -> np.ndarray:
    flat = storage.array()
    if not size:
        return flat[offset : offset + 1].reshape(())
    if min(size) < 0 or min(stride) < 0 or offset < 0:
        raise ModelError("tensor with a negative size, stride or offset")
    last = offset + sum((n - 1) * step for n, step in zip(size, stride))
    if min(size) > 0 and last >= flat.size:  # as_strided would read past the storage
        raise ModelError("tensor reaches past the end of its storage")
    itemsize = flat.itemsize
    view = np.lib.stride_tricks.as_strided(
        flat[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride)
    )
    return np.ascontiguousarray(view)


def load_pytorch_bin(path: Path) -> dict[str, np.ndarray]:
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise ModelError(
            f"{path}: legacy (pre-zip) PyTorch file; it cannot be read without PyTorch. "
            "Save the model as model.safetensors instead"
        )
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if len(pickles) != 1:
            raise ModelError(f"{path}: not a PyTorch state dict (no data.pkl)")
        root = pickles[0][: -len("data.pkl")]

        class RestrictedUnpickler(pickle.Unpickler):
            def find_class(self, module: str, name: str):
                if module == "collections" and name == "OrderedDict":
                    return OrderedDict
                if module == "torch._utils" and name == "_rebuild_tensor_v2":
                    return _rebuild_tensor
                if module == "torch" and name in _STORAGE_DTYPES:
                    return name
                raise ModelError(
                    f"{path}: holds {module}.{name}, which Kenning does not load without PyTorch; "
                    "save the model as model.safetensors instead"
                )

            def persistent_load(self, pid):
                _, storage_type, key, _location, _numel = pid
                raw = archive.read(f"{root}data/{key}")
                return _Storage(_STORAGE_DTYPES[storage_type], raw)

        try:
            state = RestrictedUnpickler(archive.open(pickles[0])).load()
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"{path}: cannot read PyTorch weights ({exc})") from exc
    if not isinstance(state, dict):
        raise ModelError(f"{path}: not a state dict")
    return dict(state)
