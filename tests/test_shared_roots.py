"""The names a shared index keeps for the folders of a shared drive, mounted at different places
on different machines (no server needed: the mapping alone)."""

from __future__ import annotations

from kenning.paths import SharedRoots
from kenning.settings import Settings

LINUX = SharedRoots({"/mnt/docs": "//nas/docs"}, sep="/")
WINDOWS = SharedRoots({"\\\\nas\\docs": "//nas/docs"}, sep="\\")


def test_a_file_on_the_drive_has_one_name_from_either_machine():
    assert LINUX.shared("/mnt/docs/reports/q3.pdf") == "//nas/docs/reports/q3.pdf"
    assert WINDOWS.shared("\\\\nas\\docs\\reports\\q3.pdf") == "//nas/docs/reports/q3.pdf"
    assert LINUX.local("//nas/docs/reports/q3.pdf") == "/mnt/docs/reports/q3.pdf"
    assert WINDOWS.local("//nas/docs/reports/q3.pdf") == "\\\\nas\\docs\\reports\\q3.pdf"
    assert LINUX.shared("/mnt/docs") == "//nas/docs" and LINUX.local("//nas/docs") == "/mnt/docs"


def test_only_what_lies_under_a_root_is_renamed():
    for path in ("/mnt/docsarchive/a.txt", "/home/me/notes.txt", "/mnt/doc"):
        assert LINUX.shared(path) == path
    assert LINUX.local("//nas/docs2/a.txt") == "//nas/docs2/a.txt"
    assert LINUX.local("/home/other/a.txt") == "/home/other/a.txt"  # another machine's own file
    assert LINUX.separator("//nas/docs/a") == "/" and WINDOWS.separator("C:\\Users\\me") == "\\"


def test_a_trailing_separator_in_the_settings_changes_nothing():
    roots = SharedRoots({"/mnt/docs/": "//nas/docs/"}, sep="/")
    assert roots.shared("/mnt/docs/a.txt") == "//nas/docs/a.txt" and roots.local("//nas/docs/a.txt") == "/mnt/docs/a.txt"


def test_the_setting_is_kept_and_a_broken_one_ignored(tmp_path):
    Settings(shared_roots={"/mnt/docs": "//nas/docs"}).save(tmp_path)
    assert Settings.load(tmp_path).shared_roots == {"/mnt/docs": "//nas/docs"}
    (tmp_path / "settings.json").write_text('{"shared_roots": {"/mnt/docs": 3}}')
    assert Settings.load(tmp_path).shared_roots == {}
