#!/usr/bin/env python3
"""Build llama.cpp's shared libraries for an installer: the same llama-cpp-python version and
backend as installer/llama_wheel.py, but for a CPU baseline instead of the build machine's CPU.

    .venv/bin/python installer/portable_llama.py [--backend cpu|cuda|vulkan|metal]
                                                 [--cpu x86-64-v3|x86-64|native] OUT_DIR

llama_wheel.py (what `make setup` runs) tunes the build to the machine it runs on: on a build
server with AVX-512 the libraries would stop with SIGILL ("illegal instruction") on most desktop
and laptop CPUs. An installer needs a baseline every target CPU has:

    x86-64-v3  (default) AVX, AVX2, FMA, F16C, BMI2: Intel Haswell (2013) / AMD Excavator (2015) on
    x86-64     the generic 64-bit baseline (SSE2): any 64-bit PC, several times slower embedding
    native     the build machine's own choice (llama_wheel.py's flags): for local testing only

Never AVX-512, never AMX (llama_wheel.py's reason: some VMs advertise AMX and fault on it). On ARM
(Linux aarch64, Apple silicon) the baseline is the compiler's generic target (GGML_NATIVE=OFF).

The wheel is built once and cached in ~/.cache/kenning/wheels/<key> beside llama_wheel.py's
builds; its llama_cpp/lib/* is unpacked into OUT_DIR, which installer/kenning.spec collects when
KENNING_LLAMA_LIB=OUT_DIR. The build environment's own llama-cpp-python is left as it is (its
Python code is the same for every build; only the shared libraries differ).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llama_wheel

BASELINES = {
    "x86-64-v3": {"avx", "avx2", "fma", "f16c", "bmi2"},
    "x86-64": set(),
}
X86 = platform.machine().lower() in ("x86_64", "amd64")


def portable_args(backend: str, cpu: str) -> list[str]:
    if cpu == "native":
        return llama_wheel.cmake_args(backend, blas=False)
    flags = BASELINES[cpu]
    original = llama_wheel.cpu_flags
    llama_wheel.cpu_flags = lambda: flags  # llama_wheel picks ggml's x86 options from these (Linux)
    try:
        args = llama_wheel.cmake_args(backend, blas=False)  # the bundle must not need a system OpenBLAS
    finally:
        llama_wheel.cpu_flags = original
    if "-DGGML_NATIVE=OFF" not in args:  # Windows, macOS, ARM: llama_wheel leaves the CPU to ggml
        args.append("-DGGML_NATIVE=OFF")
        if X86:
            args += [f"-D{opt}={'ON' if flag in flags else 'OFF'}" for flag, opt in llama_wheel.X86_FEATURES.items()]
            args += ["-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"]
    return args


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to receive llama_cpp/lib's files")
    parser.add_argument("--backend", default="cpu", choices=["cpu", "cuda", "metal", "vulkan"])
    parser.add_argument("--cpu", default="x86-64-v3", choices=[*BASELINES, "native"])
    parser.add_argument("--print-args", action="store_true", help="print the CMake arguments and stop")
    options = parser.parse_args()
    args = " ".join(portable_args(options.backend, options.cpu))
    if options.print_args:
        print(args)
        return 0
    try:
        installed = metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        installed = None
    if installed != llama_wheel.VERSION:
        print(f"portable_llama: the environment has llama-cpp-python {installed}, the libraries will be "
              f"{llama_wheel.VERSION}; run `make setup` first", file=sys.stderr)
        return 1
    key = hashlib.sha256(f"{llama_wheel.VERSION} {sys.version_info[:2]} {args}".encode()).hexdigest()[:16]
    wheel_dir = Path.home() / ".cache" / "kenning" / "wheels" / key
    wheels = sorted(wheel_dir.glob("llama_cpp_python-*.whl"))
    if not wheels:
        print(f"building llama-cpp-python {llama_wheel.VERSION} for {options.cpu} ({args}); this takes several "
              "minutes", flush=True)
        env = dict(os.environ, CMAKE_ARGS=args, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", str(wheel_dir),
             f"llama-cpp-python=={llama_wheel.VERSION}"],
            check=True,
            env=env,
        )
        wheels = sorted(wheel_dir.glob("llama_cpp_python-*.whl"))
    shutil.rmtree(options.out, ignore_errors=True)
    options.out.mkdir(parents=True)
    with zipfile.ZipFile(wheels[-1]) as wheel:
        for member in wheel.infolist():
            if member.filename.startswith("llama_cpp/lib/") and not member.is_dir():
                target = options.out / Path(member.filename).name
                with wheel.open(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                mode = (member.external_attr >> 16) & 0o777
                target.chmod(mode or 0o755)
    (options.out / "BUILD-ARGS").write_text(f"{options.backend} {options.cpu}\n{args}\n")
    print(f"llama.cpp libraries ({options.backend}, {options.cpu}) in {options.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
