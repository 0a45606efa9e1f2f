"""installer/llama_wheel.py: the BLAS build against PyPI's OpenBLAS, without building llama.cpp."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "installer"))
import llama_wheel


def test_blas_is_built_in_only_when_asked_for_a_cpu_build_on_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    assert set(llama_wheel.BLAS_ARGS) <= set(llama_wheel.cmake_args("cpu", blas=True))
    assert not set(llama_wheel.BLAS_ARGS) & set(llama_wheel.cmake_args("cpu"))
    assert not set(llama_wheel.BLAS_ARGS) & set(llama_wheel.cmake_args("cuda", blas=True))
    monkeypatch.setattr(sys, "platform", "win32")
    assert not set(llama_wheel.BLAS_ARGS) & set(llama_wheel.cmake_args("cpu", blas=True))


def test_where_openblas_comes_from_is_part_of_the_cache_key():
    args = llama_wheel.cmake_args("cpu", blas=True)
    folders = {llama_wheel.wheel_folder(args, source) for source in ("", "system", llama_wheel.OPENBLAS)}
    assert len(folders) == 3


def _fake_openblas(folder: Path) -> Path:
    package = folder / "scipy_openblas32"
    (package / "include").mkdir(parents=True)
    (package / "lib").mkdir()
    (package / "include" / "cblas.h").write_text(
        "void scipy_cblas_sgemm(int m);\nvoid scipy_openblas_set_num_threads(int n);\n"
        "int scipy_openblas_get_parallel(void);\n")
    return package


def test_the_shim_maps_ggmls_blas_calls_onto_the_prefixed_names(tmp_path):
    package = _fake_openblas(tmp_path)
    args = llama_wheel.openblas_build_args(package, tmp_path)
    library = next(a for a in args if a.startswith("-DBLAS_LIBRARIES="))
    assert library == f"-DBLAS_LIBRARIES=-L{package / 'lib'};-lscipy_openblas"  # no path: no run path
    shim = Path(next(a for a in args if a.startswith("-DBLAS_INCLUDE_DIRS=")).split("=", 1)[1])
    caller = tmp_path / "caller.c"
    caller.write_text('#include <cblas.h>\nvoid f(void) { openblas_set_num_threads(1); cblas_sgemm(2);'
                      ' (void)openblas_get_parallel(); }\n')
    compiler = next((c for c in ("cc", "gcc", "clang") if shutil.which(c)), None)
    if compiler is None:
        pytest.skip("no C compiler")
    out = subprocess.run([compiler, "-E", f"-I{shim}", str(caller)], capture_output=True, text=True, check=True).stdout
    body = out[out.index("void f(void)"):]
    assert "scipy_openblas_set_num_threads(1)" in body and "scipy_cblas_sgemm(2)" in body
    assert "scipy_openblas_get_parallel()" in body


def test_the_library_is_added_to_the_wheel_and_its_record(tmp_path):
    wheel = tmp_path / "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("llama_cpp/lib/libllama.so", b"llama")
        archive.writestr("llama_cpp_python-0.3.36.dist-info/RECORD",
                         "llama_cpp/lib/libllama.so,sha256=x,5\nllama_cpp_python-0.3.36.dist-info/RECORD,,\n")
    library = tmp_path / "libscipy_openblas.so"
    library.write_bytes(b"\x7fELF openblas")
    assert not llama_wheel.holds_openblas(wheel)
    llama_wheel.add_library(wheel, library)
    assert llama_wheel.holds_openblas(wheel)
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("llama_cpp/lib/libscipy_openblas.so") == library.read_bytes()
        assert archive.read("llama_cpp/lib/libllama.so") == b"llama"
        assert (archive.getinfo("llama_cpp/lib/libscipy_openblas.so").external_attr >> 16) & 0o777 == 0o755
        record = archive.read("llama_cpp_python-0.3.36.dist-info/RECORD").decode().splitlines()
    digest = base64.urlsafe_b64encode(hashlib.sha256(library.read_bytes()).digest()).rstrip(b"=").decode()
    assert f"llama_cpp/lib/libscipy_openblas.so,sha256={digest},{library.stat().st_size}" in record
    assert len(record) == 3 and all(line.count(",") == 2 for line in record)
