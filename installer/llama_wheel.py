#!/usr/bin/env python3
"""Build (once) and install llama-cpp-python for this machine, with the right CPU/GPU options.

    python installer/llama_wheel.py [--backend cpu|cuda|metal|vulkan] [--pip PIP]

llama-cpp-python is compiled from source. We choose the CPU instruction sets ourselves instead of
`-march=native` because some virtual machines advertise Intel AMX in CPUID but fault on its first
instruction (SIGILL inside ggml's AMX matmul); AMX is therefore never enabled. The built wheel is
kept under ~/.cache/kenning/wheels/<key>, keyed by version, backend and flags, so a second run
installs in seconds and a change of flags never reuses a wrong build.

With `--blas` (Linux, CPU builds), ggml's BLAS backend is built in for the large matrix
products, linked against the OpenBLAS that PyPI ships as the `scipy-openblas32` wheel, so no root
and no system package is needed. That OpenBLAS names its symbols with a `scipy_` prefix: a small
cblas.h maps ggml's names onto them, and the library is copied into the built wheel beside
llama.cpp's own (they find each other through their `$ORIGIN` run path), so the installed
package needs nothing else at run time. When PyPI cannot be reached, a system OpenBLAS (Debian:
libopenblas-dev) is used if present, else the build goes without BLAS. It is not the default:
with the embedder's small batches (256 tokens, a context per core) the build without BLAS
embeds about 6% faster here (bench/embed.py; README's figures table).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

VERSION = "0.3.36"
OPENBLAS = "scipy-openblas32==0.3.34.481.3"  # from PyPI; 32-bit integers, as ggml's calls pass int
BLAS_ARGS = ["-DGGML_BLAS=ON", "-DGGML_BLAS_VENDOR=OpenBLAS"]
PREFIXED = ("cblas_sgemm", "openblas_set_num_threads", "openblas_get_parallel")  # what ggml-blas calls
X86_FEATURES = {  # cpuinfo flag -> ggml CMake option
    "avx": "GGML_AVX",
    "avx2": "GGML_AVX2",
    "fma": "GGML_FMA",
    "f16c": "GGML_F16C",
    "bmi2": "GGML_BMI2",
    "avx_vnni": "GGML_AVX_VNNI",
    "avx512f": "GGML_AVX512",
    "avx512vbmi": "GGML_AVX512_VBMI",
    "avx512_vnni": "GGML_AVX512_VNNI",
    "avx512_bf16": "GGML_AVX512_BF16",
}


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def system_openblas() -> bool:
    """OpenBLAS's development files (Debian: libopenblas-dev), found through pkg-config."""
    if shutil.which("pkg-config") is None:
        return False
    return subprocess.run(["pkg-config", "--exists", "openblas"], check=False).returncode == 0


def cmake_args(backend: str, blas: bool = False) -> list[str]:
    """`blas`: use ggml's BLAS backend (OpenBLAS) for the large matrix products, for CPU builds
    on Linux. Where the OpenBLAS comes from is settled by `built_wheel` (see the module's notes)."""
    args = ["-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_TESTS=OFF"]
    if backend == "cuda":
        args.append("-DGGML_CUDA=ON")
    elif backend == "vulkan":
        args.append("-DGGML_VULKAN=ON")
    elif backend == "metal":
        args.append("-DGGML_METAL=ON")
    if platform.machine().lower() in ("x86_64", "amd64") and sys.platform.startswith("linux"):
        flags = cpu_flags()
        args.append("-DGGML_NATIVE=OFF")
        args += [f"-D{opt}={'ON' if flag in flags else 'OFF'}" for flag, opt in X86_FEATURES.items()]
        args += ["-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"]
    if backend == "cpu" and blas and sys.platform.startswith("linux"):
        args += BLAS_ARGS
    return args


def fetch_openblas(pip: list[str], folder: Path) -> Path | None:
    """Unpack PyPI's OpenBLAS wheel into `folder`; its package folder, or None when unavailable."""
    download = [*pip, "download", "-q", "--no-deps", "--only-binary", ":all:", "-d", str(folder), OPENBLAS]
    if subprocess.run(download, check=False).returncode != 0:
        return None
    for wheel in folder.glob("scipy_openblas32-*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(folder)
    package = folder / "scipy_openblas32"
    return package if (package / "include" / "cblas.h").exists() else None


def openblas_build_args(package: Path, folder: Path) -> list[str]:
    """CMake arguments linking ggml-blas against the unpacked PyPI OpenBLAS (named outright:
    CMake's FindBLAS would look for an unprefixed `sgemm` and not find one)."""
    shim = folder / "cblas-shim"
    shim.mkdir()
    names = "".join(f"#define {name} scipy_{name}\n" for name in PREFIXED)
    (shim / "cblas.h").write_text(f'#include "{package / "include" / "cblas.h"}"\n{names}')
    # As -L/-l flags, not a path: CMake would put a library path's folder (here a temporary one)
    # into the run path of the installed libraries, ahead of the system's.
    return [f"-DBLAS_LIBRARIES=-L{package / 'lib'};-lscipy_openblas", f"-DBLAS_INCLUDE_DIRS={shim}"]


def add_library(wheel: Path, library: Path) -> None:
    """Put `library` into the wheel's llama_cpp/lib and list it in the wheel's RECORD."""
    data = library.read_bytes()
    name = f"llama_cpp/lib/{library.name}"
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    rewritten = wheel.with_suffix(".partial")
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.endswith(".dist-info/RECORD"):
                content = content.rstrip(b"\n") + f"\n{name},sha256={digest},{len(data)}\n".encode()
            target.writestr(item, content)
        entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        entry.external_attr = 0o755 << 16
        target.writestr(entry, data, zipfile.ZIP_DEFLATED)
    rewritten.replace(wheel)


def build(pip: list[str], args: list[str], wheel_dir: Path, extra: list[str]) -> None:
    shown = " ".join(args)
    print(f"building llama-cpp-python {VERSION} ({shown}); this takes several minutes", flush=True)
    env = dict(os.environ, CMAKE_ARGS=" ".join(args + extra), CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-cache-dir", "-w", str(wheel_dir), f"llama-cpp-python=={VERSION}"],
        check=True,
        env=env,
    )


def wheel_folder(args: list[str], blas_source: str) -> Path:
    """The cache folder of a build: keyed by version, Python, flags and where OpenBLAS came from."""
    described = " ".join(args) + (f" {blas_source}" if blas_source else "")
    key = hashlib.sha256(f"{VERSION} {sys.version_info[:2]} {described}".encode()).hexdigest()[:16]
    return Path.home() / ".cache" / "kenning" / "wheels" / key


def built_wheel(pip: list[str], args: list[str]) -> Path:
    """The cached wheel for `args`, built first when missing (with OpenBLAS as the notes say)."""
    if not set(BLAS_ARGS) <= set(args):
        return cached_or_built(pip, args, "", [])
    cached = sorted(wheel_folder(args, OPENBLAS).glob("llama_cpp_python-*.whl"))
    if cached and holds_openblas(cached[-1]):
        return cached[-1]
    with tempfile.TemporaryDirectory(prefix="kenning-openblas-") as scratch:
        folder = Path(scratch)
        package = fetch_openblas(pip, folder)
        if package is not None:
            wheel = cached_or_built(pip, args, OPENBLAS, openblas_build_args(package, folder))
            if not holds_openblas(wheel):  # also a build whose copying was interrupted
                add_library(wheel, next((package / "lib").glob("libscipy_openblas*.so")))
            return wheel
    if system_openblas():
        print(f"{OPENBLAS} could not be downloaded: building with the system's OpenBLAS", flush=True)
        return cached_or_built(pip, args, "system", [])
    print(f"{OPENBLAS} could not be downloaded and no system OpenBLAS is installed: building without BLAS "
          "(the default build)", flush=True)
    return cached_or_built(pip, [arg for arg in args if arg not in BLAS_ARGS], "", [])


def holds_openblas(wheel: Path) -> bool:
    with zipfile.ZipFile(wheel) as archive:
        return any(name.startswith("llama_cpp/lib/libscipy_openblas") for name in archive.namelist())


def cached_or_built(pip: list[str], args: list[str], blas_source: str, extra: list[str]) -> Path:
    wheel_dir = wheel_folder(args, blas_source)
    if not any(wheel_dir.glob("llama_cpp_python-*.whl")):
        build(pip, args, wheel_dir, extra)
    return sorted(wheel_dir.glob("llama_cpp_python-*.whl"))[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="cpu", choices=["cpu", "cuda", "metal", "vulkan"])
    parser.add_argument("--pip", default=f"{sys.executable} -m pip")
    parser.add_argument("--blas", action="store_true",
                        help="build in ggml's BLAS backend with PyPI's OpenBLAS (Linux, CPU builds)")
    parser.add_argument("--print-args", action="store_true", help="print the CMake arguments and stop")
    options = parser.parse_args()
    args = cmake_args(options.backend, blas=options.blas)
    if options.print_args:
        print(" ".join(args))
        return 0
    pip = options.pip.split()
    wheel = built_wheel(pip, args)
    subprocess.run([*pip, "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
