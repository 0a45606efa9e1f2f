"""Archives and mailboxes: every member is a result of its own (`archive.zip › folder/report.pdf`),
found by a phrase from its text, opened and previewed from a private copy; bombs, damaged archives
and unreadable messages are reported and skipped. Real files, a real SQLite file, the real model."""

from __future__ import annotations

import mailbox
import os
import shutil
import tarfile
import zipfile
from email.message import EmailMessage
from pathlib import Path

import py7zr
import pytest
from docmaker import write_document
from storeview import open_store
from test_engine import check_consistent

from kenning.engine import Engine, file_on_disk
from kenning.preview import PagePreview, Previewer
from kenning.settings import IndexSettings

OTTERS = "Otters float on their backs in the kelp and hold paws so they do not drift apart while asleep."
BUDGET = "The quarterly budget review moved to Thursday because the auditors arrive on Wednesday."
GLACIER = "Glaciers grind slowly downhill and carve U-shaped valleys with moraines where they melt."


def documents(folder: Path) -> Path:
    write_document(folder / "otters.txt", "Otters", [OTTERS])
    write_document(folder / "reports" / "budget.docx", "Budget", [BUDGET])
    write_document(folder / "reports" / "glaciers.pdf", "Glaciers", [], pages=[["An introduction."], [GLACIER]])
    return folder


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return target


def names(results) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] if " › " not in r.path else r.path.split(" › ", 1)[1] for r in results]


def message(subject: str, body: str, sender: str = "ann@example.org", date: str = "Mon, 02 Mar 2026 10:00:00 +0000"):
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Date"] = sender, "bob@example.org", subject, date
    mail.set_content(body)
    return mail


@pytest.mark.parametrize("kind", ["zip", "tar", "tar.gz", "tar.bz2", "tar.xz", "7z"])
def test_documents_inside_an_archive_are_found_with_their_member_path_and_page(data_dir, tmp_path, kind):
    source = documents(tmp_path / "source")
    docs = tmp_path / "docs"
    docs.mkdir()
    archive = docs / f"papers.{kind}"
    if kind == "zip":
        zip_folder(source, archive)
    elif kind == "7z":
        with py7zr.SevenZipFile(archive, "w") as seven:
            seven.writeall(source, arcname="")
    else:
        mode = "w" if kind == "tar" else "w:" + kind.split(".")[1]
        with tarfile.open(archive, mode) as tar:
            tar.add(source, arcname="")
    with Engine(data_dir=data_dir) as engine:
        report = engine.index([docs])
        assert report.failed == 0, report.failures
        hit = engine.search("glaciers carve valleys moraines")[0]
        assert hit.path == f"{archive} › reports/glaciers.pdf" and hit.page == 2
        assert engine.search("auditors quarterly budget")[0].path == f"{archive} › reports/budget.docx"
        assert engine.search("otters hold paws", mode="bm25")[0].path == f"{archive} › otters.txt"
        assert file_on_disk(hit.path) == str(archive)
        check_consistent(open_store(data_dir))


def test_nested_archives_are_opened_to_the_depth_limit(data_dir, tmp_path):
    inner = zip_folder(documents(tmp_path / "source"), tmp_path / "inner.zip")
    docs = tmp_path / "docs"
    docs.mkdir()
    with tarfile.open(docs / "backup.tar.gz", "w:gz") as tar:
        tar.add(inner, arcname="old/inner.zip")
    with Engine(data_dir=data_dir) as engine:
        engine.index([docs])
        assert engine.search("otters hold paws", mode="bm25")[0].path == f"{docs}/backup.tar.gz › old/inner.zip › otters.txt"
    shallow = IndexSettings(max_archive_depth=1)
    shutil.copytree(data_dir / "models", tmp_path / "shallow" / "models")
    with Engine(data_dir=tmp_path / "shallow", index_settings=shallow) as engine:
        report = engine.index([docs])
        assert any("nested deeper than 1" in warning for warning in report.warnings)
        assert engine.search("otters", mode="bm25") == []


def test_an_archive_bomb_and_too_many_members_are_refused_and_reported(data_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    with zipfile.ZipFile(docs / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("zeros.txt", b"0" * (12 * 2**20))  # 12 MB that compress to a few KB
    with zipfile.ZipFile(docs / "many.zip", "w") as many:
        for number in range(30):
            many.writestr(f"note-{number}.txt", f"Note {number} about otters.")
    zip_folder(documents(tmp_path / "source"), docs / "fine.zip")
    limits = IndexSettings(max_archive_mb=5, max_archive_files=20)
    with Engine(data_dir=data_dir, index_settings=limits) as engine:
        report = engine.index([docs])
        reasons = dict(report.failures)
        assert "unpacks to more than 5 MB" in reasons[str(docs / "bomb.zip")]
        assert "more than 20 files" in reasons[str(docs / "many.zip")]
        assert engine.search("otters hold paws", mode="bm25")[0].path == f"{docs}/fine.zip › otters.txt"
        assert not list((data_dir / "unpacking").iterdir())  # nothing left behind
        check_consistent(open_store(data_dir))


def test_damaged_archives_and_members_are_reported_and_skipped(data_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    good = zip_folder(documents(tmp_path / "source"), tmp_path / "good.zip")
    (docs / "cut.zip").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (docs / "noise.tar.gz").write_bytes(os.urandom(3000))
    with zipfile.ZipFile(docs / "mixed.zip", "w") as mixed:
        mixed.writestr("broken.pdf", b"%PDF-1.7 this is not really a PDF")
        mixed.writestr("fine.txt", OTTERS)
    with Engine(data_dir=data_dir) as engine:
        report = engine.index([docs])
        reasons = dict(report.failures)
        assert "damaged ZIP archive" in reasons[str(docs / "cut.zip")]
        assert "damaged TAR archive" in reasons[str(docs / "noise.tar.gz")]
        assert f"{docs}/mixed.zip › broken.pdf" in reasons
        assert engine.search("otters hold paws", mode="bm25")[0].path == f"{docs}/mixed.zip › fine.txt"
        assert any(path == f"{docs}/mixed.zip › broken.pdf" for path, _, _ in engine.status().failures)


def test_changing_renaming_and_deleting_an_archive_follows_its_members(data_dir, tmp_path):
    source = documents(tmp_path / "source")
    docs = tmp_path / "docs"
    docs.mkdir()
    archive = zip_folder(source, docs / "papers.zip")
    with Engine(data_dir=data_dir) as engine:
        engine.index([docs])
        (source / "otters.txt").write_text(OTTERS.replace("Otters", "Sea otters") + " A new sentence.", "utf-8")
        (source / "reports" / "budget.docx").unlink()
        zip_folder(source, archive)
        report = engine.index([docs])
        assert report.embedded == 1  # only the changed member's passage; the PDF kept its vectors
        assert engine.search("auditors", mode="bm25") == []
        moved = docs / "renamed.zip"
        archive.rename(moved)
        again = engine.index([docs])
        assert again.renamed == 1 and again.embedded == 0
        assert engine.search("moraines", mode="bm25")[0].path == f"{moved} › reports/glaciers.pdf"
        moved.unlink()
        engine.index([docs])
        assert engine.search("moraines", mode="bm25") == []
        store = open_store(data_dir)
        assert store.value("SELECT count(*) FROM files") == 0
        check_consistent(store)


def test_a_member_opens_and_previews_from_a_private_copy(data_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    zip_folder(documents(tmp_path / "source"), docs / "papers.zip")
    with Engine(data_dir=data_dir) as engine:
        engine.index([docs])
        hit = engine.search("glaciers carve valleys moraines")[0]
        copy = Path(engine.local_copy(hit.path))
        assert copy.name == "glaciers.pdf" and copy.read_bytes()[:4] == b"%PDF"
        assert copy.is_relative_to(data_dir) and (os.stat(copy.parent).st_mode & 0o077) == 0
    previewer = Previewer(data_dir=data_dir)
    try:
        page = previewer.preview(hit.path, hit.page, hit.char_start, hit.char_end)
    finally:
        previewer.close()
    assert isinstance(page, PagePreview) and page.page == 2 and page.highlights


# -- mail -----------------------------------------------------------------------------------------


def test_each_message_of_an_mbox_is_a_result_with_its_subject_and_date(data_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    box = mailbox.mbox(docs / "Inbox.mbox")
    box.add(message("Hedgehog census results", "The count found 44 hedgehogs in the gardens this spring."))
    box.add(message("Lunch on Friday", "Shall we try the new noodle bar by the station?",
                    date="Fri, 10 Apr 2026 12:00:00 +0000"))
    box.add(b"From nobody\nthis is not a message at all, only noise\n")
    box.close()
    thunderbird = docs / "Local Folders" / "Archives"  # Thunderbird's mbox files have no extension
    thunderbird.parent.mkdir()
    shutil.copy(docs / "Inbox.mbox", thunderbird)
    with Engine(data_dir=data_dir) as engine:
        report = engine.index([docs])
        hits = engine.search("noodle bar", mode="bm25")
        assert sorted(h.path for h in hits) == sorted([f"{thunderbird} › 2 · Lunch on Friday",
                                                        f"{docs}/Inbox.mbox › 2 · Lunch on Friday"])
        assert engine.search("how many hedgehogs were counted")[0].path.endswith("› 1 · Hedgehog census results")
        assert any("not an e-mail message" in reason for _, reason in report.failures)
        lunch = open_store(data_dir).file(f"{docs}/Inbox.mbox › 2 · Lunch on Friday")
        assert lunch.file_type == "eml" and lunch.mtime == pytest.approx(1775822400)
        copy = Path(engine.local_copy(hits[0].path))
        assert copy.suffix == ".eml" and b"noodle bar" in copy.read_bytes()


def test_maildir_messages_are_indexed_like_eml_files(data_dir, tmp_path):
    docs = tmp_path / "docs"
    (docs / "Mail").mkdir(parents=True)
    box = mailbox.Maildir(docs / "Mail" / "work", create=True)
    read = mailbox.MaildirMessage(message("Server room keys", "The spare keys for the server room hang in the porter's lodge."))
    read.set_subdir("cur")
    box.add(read)
    new = mailbox.MaildirMessage(message("Glacier trip", GLACIER))
    new.set_subdir("new")
    box.add(new)
    with Engine(data_dir=data_dir) as engine:
        report = engine.index([docs])
        assert report.failed == 0
        assert "cur" in Path(engine.search("porter's lodge spare keys", mode="bm25")[0].path).parts
        hit = engine.search("moraines", mode="bm25")[0]
        assert open_store(data_dir).file(hit.path).file_type == "eml"


def test_a_rar_archive_says_what_it_needs(data_dir, tmp_path):
    from kenning.extract.archive import rar_decoder

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "old.rar").write_bytes(b"Rar!\x1a\x07\x00" + os.urandom(200))  # a RAR signature, then noise
    with Engine(data_dir=data_dir) as engine:
        reason = dict(engine.index([docs]).failures)[str(docs / "old.rar")]
    assert ("damaged RAR archive" if rar_decoder() else "install unrar, unar, 7z or bsdtar") in reason


def test_member_names_cannot_reach_outside_the_private_folder(data_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    with zipfile.ZipFile(docs / "evil.zip", "w") as evil:
        evil.writestr("../../escaped.txt", "Marmalade is made from Seville oranges.")
        evil.writestr("/etc/absolute.txt", "Quinces set without added pectin.")
    with tarfile.open(docs / "links.tar", "w") as tar:
        link = tarfile.TarInfo("passwd.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with Engine(data_dir=data_dir) as engine:
        engine.index([docs])
        assert {r.path for r in engine.search("marmalade quinces", mode="bm25")} == {
            f"{docs}/evil.zip › ../../escaped.txt", f"{docs}/evil.zip › /etc/absolute.txt"}
        assert engine.search("root", mode="bm25") == []  # a link in an archive is not followed
    assert not (tmp_path / "escaped.txt").exists() and not (data_dir.parent / "escaped.txt").exists()
