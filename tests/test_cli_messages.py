"""The CLI's messages and exit codes when there is nothing to do or the input is wrong (no model)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from kenning import cli, launcher

HEAVY = ("pymupdf", "openpyxl", "docx", "pptx", "odf", "lxml", "numpy", "llama_cpp", "apsw")


def run(*args: str, check_rc: int | None = 0):
    result = subprocess.run([sys.executable, "-m", "kenning", *args], capture_output=True, text=True, timeout=120)
    if check_rc is not None:
        assert result.returncode == check_rc, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def test_help_loads_no_parser_model_or_database_library():
    code = ("import sys\nfrom kenning import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stderr.strip().splitlines()[-1] == "[]"
    assert "kenning index" in result.stdout


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from ((f"{name} {n}", s) for n, s in _subparsers(sub))


def test_every_command_and_option_is_described():
    undescribed = []
    for name, sub in _subparsers(cli._parser()):
        if not sub.description:
            undescribed.append(name)
        undescribed += [f"{name} {action.dest}" for action in sub._actions
                        if not action.help and not isinstance(action, argparse._SubParsersAction)]
    assert not undescribed


def test_data_dir_is_taken_before_or_after_the_command(tmp_path):
    before = json.loads(run("--data-dir", str(tmp_path / "a"), "status", "--json").stdout)
    after = json.loads(run("status", "--json", "--data-dir", str(tmp_path / "b")).stdout)
    assert before["data_dir"] == str(tmp_path / "a") and after["data_dir"] == str(tmp_path / "b")
    nested = json.loads(run("folders", "list", "--json", "--data-dir", str(tmp_path / "b")).stdout)
    assert nested == []


def test_indexing_a_path_that_does_not_exist_fails(tmp_path):
    result = run("--data-dir", str(tmp_path / "d"), "index", str(tmp_path / "nonexistent"), check_rc=1)
    assert f"{tmp_path / 'nonexistent'}: no such file or folder" in result.stderr
    assert "Indexed" not in result.stderr


def test_searching_before_anything_is_indexed_says_how_to_start(tmp_path):
    result = run("--data-dir", str(tmp_path / "d"), "search", "garden birds", check_rc=1)
    assert "nothing is indexed yet" in result.stderr and "kenning index" in result.stderr
    assert "model" not in result.stderr.lower()  # it did not prepare the model first
    assert not list((tmp_path / "d").rglob("*.gguf"))


def test_unknown_file_type_is_rejected_with_the_known_ones(tmp_path):
    result = run("--data-dir", str(tmp_path / "d"), "search", "--type", "pdff", "budget", check_rc=2)
    assert "unknown file type pdff" in result.stderr and "pdf, " in result.stderr and "docx" in result.stderr


def test_folder_commands_on_nothing(tmp_path):
    data = str(tmp_path / "d")
    assert "No folders yet" in run("--data-dir", data, "folders", "list").stdout
    removed = run("--data-dir", data, "folders", "remove", str(tmp_path / "nope"), check_rc=1)
    assert "is not an indexed folder" in removed.stderr and "Removed" not in removed.stdout


def test_pause_without_a_service_is_kept_and_shown(tmp_path):
    data = str(tmp_path / "d")
    said = run("--data-dir", data, "pause").stdout
    assert "not running" in said and "stays paused" in said
    assert "indexing paused" in run("--data-dir", data, "status").stdout
    assert json.loads(run("--data-dir", data, "status", "--json").stdout)["paused"] is True
    run("--data-dir", data, "resume")
    assert json.loads(run("--data-dir", data, "status", "--json").stdout)["paused"] is False


@pytest.mark.parametrize(("number", "noun", "expected"), [(0, "file", "0 files"), (1, "file", "1 file"),
                                                          (1204, "passage", "1,204 passages")])
def test_counts_are_plural_only_when_they_should_be(number, noun, expected):
    assert cli._count(number, noun) == expected
    assert cli._count(1, "weak match", "weak matches") == "1 weak match"


def test_the_app_without_a_desktop_says_so_in_one_line_before_loading_qt(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = ("import sys\nfrom kenning.launcher import app_main\nrc = app_main([])\n"
            "print('PySide6' in sys.modules, file=sys.stderr)\nraise SystemExit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and lines[-1] == "False"
    assert len(lines) == 2 and "no desktop found" in lines[0] and "kenning search" in lines[0]


@pytest.mark.parametrize(("environ", "platform", "missing"), [
    ({}, "linux", True),
    ({"DISPLAY": ":4242"}, "linux", True),  # no X server has that socket
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({"DISPLAY": "remote.example:10.0"}, "linux", False),  # forwarded over the network: Qt finds out
    ({}, "win32", False),
    ({}, "darwin", False),
])
def test_what_counts_as_a_desktop(environ, platform, missing):
    assert (launcher.missing_desktop(environ, platform) is not None) == missing
