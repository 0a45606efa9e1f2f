"""Which files are left out, and the reason given (no model needed)."""

from __future__ import annotations

from kenning.exclude import Exclusions


def test_built_in_patterns(tmp_path):
    rules = Exclusions()
    folder = str(tmp_path)
    assert "'.*'" in rules.why(f"{folder}/.git/config", folder)
    assert "node_modules" in rules.why(f"{folder}/app/node_modules/x/index.js", folder)
    assert rules.why(f"{folder}/report.docx.part", folder)
    assert rules.why(f"{folder}/~$report.docx", folder)
    assert rules.why(f"{folder}/notes/plan.md", folder) is None


def test_global_and_per_folder_patterns_with_negation(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    rules = Exclusions(("*.log",), {a: ("build/", "!build/keep.md")})
    assert "global" in rules.why(f"{b}/run.log", b)
    assert rules.why(f"{b}/build/out.txt", b) is None  # b has no such pattern
    assert f"folder {a}" in rules.why(f"{a}/build/out.txt", a)
    assert rules.why(f"{a}/src/main.py", a) is None


def test_a_path_outside_the_folder_is_not_judged(tmp_path):
    assert Exclusions(("*",)).why("/elsewhere/file.txt", str(tmp_path)) is None


def test_comments_and_blank_lines_are_ignored(tmp_path):
    rules = Exclusions(("# a comment", "  ", "*.bak"))
    assert rules.why(f"{tmp_path}/x.bak", str(tmp_path))
    assert rules.why(f"{tmp_path}/# a comment", str(tmp_path)) is None


def test_skips_checks_only_the_entry_itself(tmp_path):
    rules = Exclusions(("drafts/",))
    assert rules.skips(f"{tmp_path}/drafts", str(tmp_path), True)
    assert not rules.skips(f"{tmp_path}/drafts", str(tmp_path), False)  # a file named drafts
