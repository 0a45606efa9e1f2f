"""The GUI's status model and `kenning status --json` show the same figures during a run: the app's
ServiceLink runs the real service on real files; paused half-way, both views are compared."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import subprocess
import sys

from test_two_phase import long_notes

from kenning.gui.service_link import ServiceLink
from kenning.gui.status_text import index_summary
from kenning.service_status import ServiceState, ServiceStatus, describe, progress_of

WAIT_MS = 120_000


def cli_status(data_dir) -> dict:
    out = subprocess.run([sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "status", "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_the_app_and_the_cli_agree_on_the_counts_mid_run(qtbot, data_dir, tmp_path):
    docs = tmp_path / "docs"
    for number in range(40):
        long_notes(docs / f"notes-{number:02d}.txt", paragraphs=8)
    link = ServiceLink(data_dir)
    try:
        link.add_folder(str(docs))
        link.start()
        qtbot.waitUntil(lambda: link.status is not None and link.status.state == ServiceState.INDEXING
                        and (link.status.files_done > 0 or link.status.passages_done > 0), timeout=WAIT_MS)
        link.pause()
        qtbot.waitUntil(lambda: link.status is not None and link.status.state == ServiceState.PAUSED, timeout=WAIT_MS)
        qtbot.wait(2500)  # the service publishes at most once a second: let the file catch up
        link.poll()
        qtbot.waitUntil(lambda: not link._polling, timeout=WAIT_MS)
        ours = link.status
        theirs = cli_status(data_dir)
        published = ServiceStatus.from_json(json.dumps(theirs["service"]))
        assert published.state == ServiceState.PAUSED
        for figure in ("queued", "done", "failed", "passages_done", "passages_waiting", "files_done", "files_total"):
            assert getattr(published, figure) == getattr(ours, figure), figure
        assert describe(published) == index_summary(ours)  # the status bar's line, word for word
        assert progress_of(published) == progress_of(ours)
        assert theirs["files"]["indexed"] == link.files_indexed() > 0
        assert theirs["passages_waiting"] == ours.passages_waiting
    finally:
        link.shutdown()
