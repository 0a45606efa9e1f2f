#!/usr/bin/env python3
"""Package the PyInstaller bundle as a Debian package with dpkg-deb (no network, no debhelper).

    python3 installer/linux/build_deb.py BUNDLE_DIR ICON_DIR OUT_DIR

    /opt/kenning/                          the bundle (kenning, kenning-app, _internal/)
    /usr/bin/kenning, /usr/bin/kenning-app symbolic links into /opt/kenning
    /usr/share/applications/kenning.desktop
    /usr/share/icons/hicolor/{scalable,NxN}/apps/kenning.{svg,png}
    /usr/share/kenning/kenning-autostart.desktop   start-at-login entry (opt-in, see README)
    /usr/share/doc/kenning/copyright

The version comes from pyproject.toml, the architecture from dpkg, and Depends from
dpkg-shlibdeps over every ELF file of the bundle (system libraries the bundle does not carry:
glibc, libGL/EGL, libxcb...). The desktop database and icon cache are refreshed by the dpkg
triggers of desktop-file-utils and hicolor-icon-theme, so there are no maintainer scripts.
Users' data (~/.local/share/Kenning) is theirs: neither removal nor purge touches it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PREFIX = "opt/kenning"
MAINTAINER = os.environ.get("KENNING_DEB_MAINTAINER", "Kenning developers <kenning@users.noreply.github.com>")
DESCRIPTION = """\
Private, on-device semantic search for the files on your computer
 Kenning reads your documents (PDF, EPUB, Word, PowerPoint, Excel, OpenDocument,
 HTML, Markdown, e-mail, plain text and source code), embeds their passages with a
 small language model that runs on this machine through llama.cpp, and finds files
 by meaning as well as by words. Nothing leaves your computer.
 .
 This package contains the desktop app (kenning-app, with a tray icon that keeps
 the index up to date) and the `kenning` command line, with everything they need,
 including the default embedding model (all-MiniLM-L6-v2, Q8_0)."""
# loaded with dlopen by Qt, so dpkg-shlibdeps cannot see them
EXTRA_DEPENDS = ["libegl1", "libgl1"]
# Qt's Wayland platform plugin needs these (without them Qt runs through XWayland); build servers
# often lack them, so dpkg-shlibdeps cannot name them there. xdg-utils opens results.
WAYLAND_LIBS = {"libwayland-client.so.0": "libwayland-client0", "libwayland-cursor.so.0": "libwayland-cursor0"}
RECOMMENDS = [*WAYLAND_LIBS.values(), "xdg-utils", "tesseract-ocr"]  # Tesseract reads scanned pages
SUGGESTS = ["unar", "antiword"]  # RAR archives; Word 6/95 documents


def version() -> str:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)[1]


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def shlib_depends(bundle: Path) -> tuple[str, set[str]]:
    """dpkg-shlibdeps over the bundle's ELF files, for the system libraries they need that the
    bundle does not carry. The bundle's libraries are declared in debian/shlibs.local as provided
    by this package (and -x drops that self-dependency); otherwise dpkg-shlibdeps, finding no
    information for a bundled libssl.so.3, falls back to the system's copy and depends on libssl3.
    A file needing a system library this build machine lacks (libwayland-cursor for the Wayland
    plugin, on a server) is left out of the analysis; the missing names are returned."""
    elves = sorted(p for p in bundle.rglob("*") if is_elf(p))
    private_dirs = sorted({str(p.parent) for p in elves} | {str(p.parent) for p in bundle.rglob("*.so*")})
    shlibs = set()
    for path in bundle.rglob("*.so*"):
        soname = re.fullmatch(r"(.+)\.so\.([\d.]+)", path.name) or re.fullmatch(r"(.+)-([\d.]+)\.so", path.name)
        if soname:
            shlibs.add(f"{soname[1]} {soname[2]} kenning")
    missing: set[str] = set()
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "debian").mkdir()
        (Path(scratch) / "debian" / "control").write_text(
            "Source: kenning\n\nPackage: kenning\nArchitecture: any\n", encoding="utf-8")
        (Path(scratch) / "debian" / "shlibs.local").write_text("".join(f"{line}\n" for line in sorted(shlibs)))
        for _ in range(5):
            result = subprocess.run(
                ["dpkg-shlibdeps", "-O", "--ignore-missing-info", "--warnings=0", "-xkenning",
                 *(f"-l{d}" for d in private_dirs), *(f"-e{p}" for p in elves)],
                cwd=scratch, capture_output=True, text=True,
            )
            unresolved = re.findall(r"cannot find library (\S+) needed by (\S+)", result.stderr)
            if result.returncode == 0 or not unresolved:
                break
            missing |= {name for name, _ in unresolved}
            skipped = {Path(path) for _, path in unresolved}
            elves = [p for p in elves if p not in skipped]
            print(f"build_deb: not on this machine: {', '.join(sorted(missing))}; leaving "
                  f"{len(skipped)} files that need them out of dpkg-shlibdeps", file=sys.stderr)
    if result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if "error" in line]
        raise SystemExit("dpkg-shlibdeps failed:\n" + "\n".join(errors[-20:]))
    found = re.search(r"^shlibs:Depends=(.*)$", result.stdout, re.M)
    return (found[1].strip() if found else ""), missing


def install(src: Path, dest: Path, mode: int = 0o644) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    dest.chmod(mode)


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    bundle, icons, out = (Path(a).resolve() for a in sys.argv[1:])
    for name in ("kenning", "kenning-app"):
        if not (bundle / name).is_file():
            raise SystemExit(f"{bundle / name} is missing: build the bundle first")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    ver = version()
    stage = Path(tempfile.mkdtemp(prefix="kenning-deb-"))
    try:
        root = stage / f"kenning_{ver}_{arch}"
        shutil.copytree(bundle, root / PREFIX, symlinks=True)
        (root / "usr/bin").mkdir(parents=True)
        for name in ("kenning", "kenning-app"):
            (root / "usr/bin" / name).symlink_to(f"/{PREFIX}/{name}")
        share = root / "usr/share"
        install(HERE / "kenning.desktop", share / "applications/kenning.desktop")
        install(HERE / "kenning-autostart.desktop", share / "kenning/kenning-autostart.desktop")
        install(REPO / "resources/icons/kenning.svg", share / "icons/hicolor/scalable/apps/kenning.svg")
        for png in sorted(icons.glob("kenning-*.png")):
            size = png.stem.split("-")[1]
            install(png, share / f"icons/hicolor/{size}x{size}/apps/kenning.png")
        doc = share / "doc/kenning"
        doc.mkdir(parents=True)
        (doc / "copyright").write_text(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
            "Upstream-Name: Kenning\n\n"
            "Files: *\nCopyright: Kenning developers\nLicense: MIT\n\n"
            f"Files: {PREFIX}/_internal/*\nCopyright: their respective authors\nLicense: various\n"
            " Third-party components bundled by PyInstaller, each under its own licence:\n"
            " Python (PSF-2.0), Qt 6 and PySide6 (LGPL-3.0), PyMuPDF and MuPDF (AGPL-3.0),\n"
            " llama.cpp (MIT), SQLite (public domain), sqlite-vec (MIT or Apache-2.0), SimSIMD (Apache-2.0), apsw\n"
            " (zlib), NumPy and OpenBLAS (BSD-3-Clause), lxml, python-docx, python-pptx,\n"
            " openpyxl, odfpy, selectolax, Pillow and others (see each project's licence).\n\n"
            f"Files: {PREFIX}/_internal/models/*\nCopyright: sentence-transformers authors\nLicense: Apache-2.0\n"
            " all-MiniLM-L6-v2, converted to GGUF (Q8_0) by Kenning.\n",
            encoding="utf-8",
        )
        subprocess.run(["chmod", "-R", "u=rwX,go=rX", str(root)], check=True)

        (root / "DEBIAN").mkdir()  # dpkg-shlibdeps finds the package root (for $ORIGIN) by it
        shlibs, missing = shlib_depends(root / PREFIX)
        depends = ", ".join(dict.fromkeys(filter(None, [*shlibs.split(", "), *EXTRA_DEPENDS])))
        unknown = missing - set(WAYLAND_LIBS)
        if unknown:
            print(f"build_deb: warning: no package known for {', '.join(sorted(unknown))}", file=sys.stderr)
        installed_kb = int(subprocess.run(["du", "-sk", "--apparent-size", str(root)], capture_output=True,
                                          text=True, check=True).stdout.split()[0])
        control = root / "DEBIAN" / "control"
        control.write_text(
            f"Package: kenning\nVersion: {ver}\nArchitecture: {arch}\nMaintainer: {MAINTAINER}\n"
            f"Installed-Size: {installed_kb}\nDepends: {depends}\nRecommends: {', '.join(RECOMMENDS)}\n"
            f"Suggests: {', '.join(SUGGESTS)}\n"
            f"Section: utils\nPriority: optional\nDescription: {DESCRIPTION}\n",
            encoding="utf-8",
        )
        out.mkdir(parents=True, exist_ok=True)
        deb = out / f"kenning_{ver}_{arch}.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb)], check=True)
        print(f"{deb} ({deb.stat().st_size / 1e6:.1f} MB)\nDepends: {depends}")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
