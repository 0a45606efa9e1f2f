"""Screenshots of the desktop app over a small sample index, for the README and for checking the
look by eye.

    python tests/screenshots.py [--out bench/out/screenshots] [--dark]
    xvfb-run -a python tests/screenshots.py           # on a real (virtual) X server
    QT_QPA_PLATFORM=offscreen python tests/screenshots.py

Builds an index in a temporary folder from resources/samples plus a few generated documents
(among them a multi-page PDF), prepares the default model there, then saves:
main-window.png (results and the PDF preview, passage highlighted), text-preview.png,
scanned-preview.png (a scanned page read by OCR, the passage marked from the words' boxes),
empty-state.png, folders-dialog.png, status-view.png (taken while the service indexes),
settings-dialog.png (the model catalogue) and status-view-switch.png (a model switch pending).
HOME points into the temporary folder so paths show as "~/Documents/...".
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

DOCUMENTS = {
    "Reports/museum-annual-report-2024.pdf": ("Natural History Museum — Annual Report 2024", [
        ["The museum welcomed visitors from 41 countries this year and reopened the west wing after "
         "two years of restoration. This report covers our exhibitions, research, learning programmes "
         "and finances.",
         "Our thanks go to the volunteers who gave more than 12,000 hours of their time."],
        ["Exhibitions. The new dinosaur fossil hall opened in March with a complete Triceratops skeleton "
         "found in Montana, and drew 182,000 visitors in its first six months, a record for the museum.",
         "A travelling exhibition on deep-sea life came from Lisbon in the autumn; its bioluminescence "
         "room was the most photographed space in the building."],
        ["Learning. 640 school groups took part in fossil-handling workshops. Evening lectures on "
         "climate and biodiversity sold out every month, and recordings reached 90,000 listeners."],
        ["Finances. Income rose 14 percent, led by admissions and memberships. Conservation of the "
         "mineral collection and new climate control in the archive were the largest capital costs."],
    ]),
    "Reports/coral-reef-survey.pdf": ("Coral reef survey, Ningaloo", [
        ["Water temperatures stayed above 29 °C for five weeks, and 38 percent of surveyed colonies "
         "showed bleaching.", "Branching corals were hit hardest; massive Porites largely recovered."],
        ["Recommendations: repeat the transects in May, and add temperature loggers at three sites."],
    ]),
    "Home/office-lease.docx": ("Office lease agreement", [
        "The tenant leases the second floor of 14 Harbour Street for a term of three years.",
        "Rent is due on the first day of each month. The deposit equals three months' rent and is "
        "returned within 30 days of the end of the lease.",
        "Either party may end the lease early with six months' written notice.",
    ]),
    "Home/lisbon-trip.odt": ("Lisbon, four days", [
        "Day one: tram 28 up to the castle, then custard tarts in Belém.",
        "Day two: the Oceanarium and a walk along the river to the Gulbenkian garden.",
    ]),
    "Work/kickoff-meeting.eml": ("Project kickoff", [
        "Agenda: scope, milestones, and who owns the database migration.",
        "Priya owns the migration; first milestone is the schema freeze on 14 June.",
    ]),
    "Work/budget-2025.xlsx": ("Budget 2025", [
        "Quarterly budget: revenue, operating expenses, payroll and tax liabilities.",
    ]),
    "Work/climate-talk.pptx": ("Climate talk", [
        "Greenhouse gases trap heat; carbon dioxide has risen by half since 1850.",
        "Heatwaves and marine heatwaves are now several times more likely.",
    ]),
}

INBOX_FILES = 60  # indexed while the status view is open, so it has something to show


def write_samples(documents: Path) -> None:
    from docmaker import write_document, write_truncated_pdf

    for relative, (title, content) in DOCUMENTS.items():
        if relative.endswith(".pdf"):
            write_document(documents / relative, title, [], pages=content)
        else:
            write_document(documents / relative, title, content)
    shutil.copytree(REPO / "resources" / "samples", documents / "Notes", dirs_exist_ok=True)
    write_truncated_pdf(documents / "Reports" / "scanned-invoice.pdf")  # shows up in Folders, with why
    from scanmaker import write_scanned_pdf

    write_scanned_pdf(documents / "Scans" / "parish-council-minutes.pdf", SCANNED_MINUTES,
                      title="Parish Council — Minutes")  # image-only pages: read by OCR, if Tesseract is here


SCANNED_MINUTES = [
    ["Present: the chair, the clerk and seven councillors. Apologies from Mrs Patel.",
     "1. The footpath behind the church will be resurfaced in April; the county pays two thirds."],
    ["2. The hedgehog census counted 44 hedgehogs in village gardens, up from 31 last spring.",
     "3. The bus shelter on Mill Lane needs a new roof before winter; the clerk will ask for quotes."],
]


def write_inbox(inbox: Path) -> None:
    from docmaker import write_document

    topics = ["sailing", "gardening", "chess", "astronomy", "baking", "cycling", "birdwatching", "pottery"]
    for i in range(INBOX_FILES):
        topic = topics[i % len(topics)]
        paragraphs = [f"Notes on {topic}, part {i + 1}. " + " ".join(
            f"Paragraph {j} about {topic} practice, equipment and what went well this week." for j in range(40))]
        write_document(inbox / f"{topic}-{i + 1:02d}.txt", f"{topic.title()} {i + 1}", paragraphs)


def dark_palette():
    """A dark desktop's palette (as a dark theme would hand it to Qt), to check nothing in the
    app assumes light colours."""
    from PySide6.QtGui import QColor, QPalette

    roles = QPalette.ColorRole
    palette = QPalette()
    for role, colour in {
        roles.Window: "#2b2b2b", roles.WindowText: "#e6e6e6", roles.Base: "#1e1e1e",
        roles.AlternateBase: "#262626", roles.Text: "#e6e6e6", roles.Button: "#353535",
        roles.ButtonText: "#e6e6e6", roles.Highlight: "#3d7bd9", roles.HighlightedText: "#ffffff",
        roles.PlaceholderText: "#9a9a9a", roles.ToolTipBase: "#353535", roles.ToolTipText: "#e6e6e6",
        roles.Dark: "#151515", roles.Mid: "#3a3a3a", roles.Shadow: "#000000", roles.Light: "#4a4a4a",
        roles.Link: "#7fb0ff",
    }.items():
        palette.setColor(role, QColor(colour))
    return palette


def wait(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(condition, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        wait(30)
    return False


STARTED = time.monotonic()


def save(widget, path: Path) -> None:
    wait(250)  # let layouts settle and previews paint
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path} ({time.monotonic() - STARTED:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "screenshots")
    parser.add_argument("--dark", action="store_true", help="use a dark palette, as a dark desktop theme would")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    scratch = Path(tempfile.mkdtemp(prefix="kenning-shots-"))
    home = scratch / "home"
    os.environ["HOME"] = str(home)  # before Qt and platformdirs read it
    os.environ.setdefault("XDG_RUNTIME_DIR", str(scratch / "runtime"))
    (scratch / "runtime").mkdir(mode=0o700)
    documents = home / "Documents"
    data_dir = scratch / "data"
    try:
        return take(out, documents, data_dir, home / "Inbox", args.dark)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def take(out: Path, documents: Path, data_dir: Path, inbox: Path, dark: bool) -> int:
    from PySide6.QtWidgets import QApplication

    from kenning.engine import Engine
    from kenning.gui.app import KenningApp
    from kenning.settings import Settings

    write_samples(documents)
    write_inbox(inbox)
    print("preparing the model and indexing the samples…")
    with Engine(data_dir=data_dir) as engine:
        engine.add_folder(documents, ("Drafts/", "*.tmp"))
        report = engine.index([documents])
    print(f"indexed {report.indexed} files ({report.failed} failed)")
    Settings(first_run_done=True, tray_notice_shown=True).save(data_dir)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    if dark:
        app.setPalette(dark_palette())
    kenning = KenningApp(data_dir, first_run=False)
    window = kenning.window
    window.resize(1280, 800)
    kenning.show_window()
    wait_until(lambda: kenning.link.state() == "idle", 60)
    suffix = "-dark" if dark else ""

    save(window, out / f"empty-state{suffix}.png")

    window.field.setText("when did the fossil exhibition open and how many people came")
    wait_until(lambda: window.model.rowCount() > 0)
    wait_until(lambda: window.preview.page_view.page.highlights != [])
    save(window, out / f"main-window{suffix}.png")

    window.field.setText("how much notice to end the lease")
    wait_until(lambda: window.model.rowCount() > 0 and window.model.result(0).path.endswith(".docx"))
    wait_until(lambda: window.preview.stack.currentWidget() is window.preview.text_view)
    save(window, out / f"text-preview{suffix}.png")

    window.field.setText("how many hedgehogs did the census find")
    if wait_until(lambda: window.model.rowCount() > 0 and window.model.result(0).path.endswith("minutes.pdf"), 30):
        wait_until(lambda: window.preview.page_view.page.highlights != [])
        save(window, out / f"scanned-preview{suffix}.png")
    else:
        print("note: no scanned-preview.png (is Tesseract installed?)")

    kenning.show_folders()
    kenning.folders_dialog.resize(900, 520)
    save(kenning.folders_dialog, out / f"folders-dialog{suffix}.png")
    kenning.folders_dialog.hide()

    kenning.show_status()
    kenning.status_view.resize(560, 330)
    kenning.link.add_folder(str(inbox))
    def mid_way() -> bool:
        status = kenning.link.status
        return status is not None and status.state == "indexing" and status.done >= 3 and status.queued > 0

    caught = wait_until(mid_way, 90)
    if not caught:
        print("note: indexing finished before the status view could be caught mid-way")
    save(kenning.status_view, out / f"status-view{suffix}.png")
    wait_until(lambda: kenning.link.state() == "idle", 90)
    kenning.status_view.hide()
    take_model_views(kenning, data_dir, out, suffix)

    kenning.shutdown()
    return 0


def take_model_views(kenning, data_dir: Path, out: Path, suffix: str) -> None:
    """The settings dialog's model catalogue, and the status view while a switch to a second
    model (a copy of the default under another name) waits, the service paused."""
    from kenning.gui.settings_dialog import SettingsDialog
    from kenning.models.library import ModelLibrary

    link = kenning.link
    status = link.tasks.call(lambda engine: engine.status())
    dialog = SettingsDialog(data_dir, kenning.settings, status.model, kenning.window,
                            index_dimensions=status.dimensions, passages=status.chunks)
    dialog.show()
    save(dialog, out / f"settings-dialog{suffix}.png")
    dialog.close()

    library = ModelLibrary(data_dir)
    copy = data_dir.parent / "minilm-copy.gguf"
    shutil.copyfile(library.get().path, copy)
    library.import_gguf(copy, "minilm-copy")
    link.pause()
    wait_until(lambda: link.state() == "paused", 30)
    link.switch_model("minilm-copy")
    wait_until(lambda: link.model_switch is not None, 60)
    kenning.show_status()
    kenning.status_view.resize(560, 420)
    save(kenning.status_view, out / f"status-view-switch{suffix}.png")
    link.cancel_switch()
    wait_until(lambda: link.model_switch is None, 30)
    link.resume()


if __name__ == "__main__":
    raise SystemExit(main())
