"""Coalescing file-system events into settled paths (no model needed)."""

from __future__ import annotations

import time

from kenning.watch import Settler


def wait_ready(settler: Settler, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = settler.ready()
        if ready:
            return ready
        time.sleep(0.01)
    return []


def test_a_storm_of_events_is_one_path_once_it_is_quiet(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("draft")
    settler = Settler(quiet_s=0.1)
    for _ in range(50):
        settler.touch(str(path))
    assert len(settler) == 1
    assert settler.ready() == []  # not quiet yet
    assert wait_ready(settler) == [str(path)]
    assert len(settler) == 0 and settler.ready() == []


def test_a_file_still_growing_is_not_handed_on(tmp_path):
    path = tmp_path / "copy.bin"
    path.write_bytes(b"x")
    settler = Settler(quiet_s=0.1)
    settler.touch(str(path))
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:  # a copy that writes without sending events
        with open(path, "ab") as f:
            f.write(b"more")
        assert settler.ready() == []
        time.sleep(0.03)
    assert wait_ready(settler) == [str(path)]


def test_a_deleted_file_settles_too(tmp_path):
    path = tmp_path / "gone.txt"
    path.write_text("x")
    settler = Settler(quiet_s=0.05)
    settler.touch(str(path))
    path.unlink()
    assert wait_ready(settler) == [str(path)]  # its removal must be indexed


def test_touch_wakes_the_service_and_next_due_says_when(tmp_path):
    settler = Settler(quiet_s=0.2)
    assert settler.next_due() is None
    settler.wakeup.clear()
    settler.touch(str(tmp_path / "a"))
    assert settler.wakeup.is_set()
    due = settler.next_due()
    assert due is not None and 0 < due - time.monotonic() <= 0.2
