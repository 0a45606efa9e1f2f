"""Which llama.cpp build Kenning runs on: GPU offload or CPU only, and the CPU features it uses.

Loading llama.cpp takes a quarter of a second or more, longer than `kenning --version` should: the
commands that load it anyway (`kenning status`, the app's About) keep the summary in the user's
cache, keyed by the library files; `--version` reads that, or what the files say.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import platformdirs


def backend_summary(cached: bool = False) -> str:
    """e.g. "llama.cpp (llama-cpp-python 0.3.16), CPU only; CPU: SSE3 AVX AVX2 FMA". `cached`: do
    not load llama.cpp; the summary kept from the last time it was loaded, else what its files say
    (nothing is written then: `kenning --version` leaves the home folder as it was)."""
    key = _build_key()
    cache = Path(platformdirs.user_cache_dir("kenning")) / f"backend-{key}.txt" if key else None
    if cached:
        if cache is not None and cache.is_file():
            return cache.read_text(encoding="utf-8").strip()
        return _describe_files()
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
    parts = [f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in _library_files()]
    if not parts:
        return None
    import hashlib

    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()


def _library_files() -> list[Path]:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.origin:
        return []
    return sorted(f for f in (Path(spec.origin).parent / "lib").glob("*") if f.is_file())


def _describe_files() -> str:
    """The build as its files tell it, without loading it (no CPU features, then)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("llama_cpp_python")
    except PackageNotFoundError:
        return "llama.cpp: not installed"
    names = " ".join(f.name.lower() for f in _library_files())
    gpu = next((name for name in ("cuda", "metal", "vulkan", "hip", "sycl") if f"ggml-{name}" in names), None)
    kind = f"GPU offload available ({gpu.upper()})" if gpu else "CPU only"
    blas = " + BLAS" if "ggml-blas" in names else ""
    return f"llama.cpp (llama-cpp-python {release}), {kind}{blas}"


def _load_and_describe() -> str:
    import llama_cpp

    features = llama_cpp.llama_print_system_info().decode(errors="replace")
    enabled = [part.split("=")[0].split(":")[-1].strip() for part in features.split("|")
               if part.strip().endswith("= 1")]
    gpu = "GPU offload available" if llama_cpp.llama_supports_gpu_offload() else "CPU only"
    blas = " + BLAS" if any(Path(llama_cpp.__file__).parent.glob("lib/*ggml-blas*")) else ""
    return (f"llama.cpp (llama-cpp-python {llama_cpp.__version__}), {gpu}{blas}; "
            f"CPU: {' '.join(enabled) or 'basic'}")
