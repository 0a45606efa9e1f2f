#!/usr/bin/env python3
"""Build (once) and install llama-cpp-python for this machine, with the right CPU/GPU options.

    python installer/llama_wheel.py [--backend cpu|cuda|metal|vulkan] [--pip PIP]

llama-cpp-python is compiled from source. We choose the CPU instruction sets ourselves instead of
`-march=native` because some virtual machines advertise Intel AMX in CPUID but fault on its first
instruction (SIGILL inside ggml's AMX matmul); AMX is therefore never enabled. The built wheel is
kept under ~/.cache/kenning/wheels/<key>, keyed by version, backend and flags, so a second run
installs in seconds and a change of flags never reuses a wrong build. On Linux, when OpenBLAS's
development files are installed, ggml's BLAS backend is built in too (about a fifth faster
embedding here); without them the build is the same minus that.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

VERSION = "0.3.36"
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


def openblas_available() -> bool:
    """OpenBLAS's development files (Debian: libopenblas-dev), found through pkg-config."""
    if not sys.platform.startswith("linux") or shutil.which("pkg-config") is None:
        return False
    return subprocess.run(["pkg-config", "--exists", "openblas"], check=False).returncode == 0


def cmake_args(backend: str, blas: bool | None = None) -> list[str]:
    """`blas`: use ggml's BLAS backend (OpenBLAS) for the large matrix products; by default when
    OpenBLAS is installed, for CPU builds on Linux (measured: +22% embedding throughput)."""
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
    if backend == "cpu" and (openblas_available() if blas is None else blas):
        args += ["-DGGML_BLAS=ON", "-DGGML_BLAS_VENDOR=OpenBLAS"]
    return args


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="cpu", choices=["cpu", "cuda", "metal", "vulkan"])
    parser.add_argument("--pip", default=f"{sys.executable} -m pip")
    parser.add_argument("--print-args", action="store_true", help="print the CMake arguments and stop")
    options = parser.parse_args()
    args = " ".join(cmake_args(options.backend))
    if options.print_args:
        print(args)
        return 0
    pip = options.pip.split()
    key = hashlib.sha256(f"{VERSION} {sys.version_info[:2]} {args}".encode()).hexdigest()[:16]
    wheel_dir = Path.home() / ".cache" / "kenning" / "wheels" / key
    wheels = sorted(wheel_dir.glob("llama_cpp_python-*.whl"))
    if not wheels:
        print(f"building llama-cpp-python {VERSION} ({args}); this takes several minutes", flush=True)
        env = dict(os.environ, CMAKE_ARGS=args, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
        subprocess.run(
            [*pip, "wheel", "--no-deps", "--no-cache-dir", "-w", str(wheel_dir), f"llama-cpp-python=={VERSION}"],
            check=True,
            env=env,
        )
        wheels = sorted(wheel_dir.glob("llama_cpp_python-*.whl"))
    subprocess.run([*pip, "install", "-q", "--no-deps", "--force-reinstall", str(wheels[-1])], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
