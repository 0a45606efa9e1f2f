"""Which llama.cpp build Kenning runs on: GPU offload or CPU only, and the CPU features it uses.

Loading llama.cpp takes a quarter of a second or more, longer than `kenning --version` should; the
summary is kept in the user's cache, keyed by the library files, so it is worked out once per build.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import platformdirs


def backend_summary(cached: bool = False) -> str:
    """e.g. "llama.cpp (llama-cpp-python 0.3.16), CPU only; CPU: SSE3 AVX AVX2 FMA"."""
    key = _build_key() if cached else None
    cache = Path(platformdirs.user_cache_dir("kenning")) / f"backend-{key}.txt" if key else None
    if cache is not None and cache.is_file():
        return cache.read_text(encoding="utf-8").strip()
    summary = _load_and_describe()
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(summary + "\n", encoding="utf-8")
        except OSError:
            pass  # a read-only cache only costs time
    return summary


def _build_key() -> str | None:
    """A name that changes whenever the installed llama.cpp build does (its files' sizes and times)."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.origin:
        return None
    package = Path(spec.origin).parent
    parts = [f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in sorted(package.glob("lib/*")) if f.is_file()]
    if not parts:
        return None
    import hashlib

    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()


def _load_and_describe() -> str:
    import llama_cpp

    features = llama_cpp.llama_print_system_info().decode(errors="replace")
    enabled = [part.split("=")[0].split(":")[-1].strip() for part in features.split("|")
               if part.strip().endswith("= 1")]
    gpu = "GPU offload available" if llama_cpp.llama_supports_gpu_offload() else "CPU only"
    blas = " + BLAS" if any(Path(llama_cpp.__file__).parent.glob("lib/*ggml-blas*")) else ""
    return (f"llama.cpp (llama-cpp-python {llama_cpp.__version__}), {gpu}{blas}; "
            f"CPU: {' '.join(enabled) or 'basic'}")
