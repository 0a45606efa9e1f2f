"""Indexing: walk folders, skip what has not changed, and run each changed file through
extract → chunk (in the sandboxed child) → store, then embed its passages.

Two phases: a file's passages and keywords are committed in one transaction as soon as it is read
(it is searchable by keyword at once); the embedding phase then gives vectors to the passages
still waiting, a batch at a time, the first slices of every file before later ones. A passage
whose text already has a vector (an unchanged paragraph, a copy) is never embedded again. A kill
at any moment loses at most the file or batch in flight, and the next run resumes.
"""

from __future__ import annotations

import enum
import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kenning import extract
from kenning.embed import Embedder
from kenning.exclude import Exclusions
from kenning.extract import ExtractionError, UnsupportedFile
from kenning.extract.containers import is_container
from kenning.members import clear_scratch, read_container
from kenning.ocr_phase import OcrCache, OcrPhase
from kenning.passages import ChunkPlan, FilePassages, read_passages
from kenning.paths import is_inside
from kenning.sandbox import ExtractionSandbox
from kenning.scan import LinkPolicy, content_hash, walk_files
from kenning.settings import IndexSettings
from kenning.store import FileRecord, FileStatus, NewChunk, Store

log = logging.getLogger(__name__)

EMBED_BATCH_PASSAGES = 64


@dataclass
class IndexProgress:
    phase: str = "keywords"  # keywords (reading files) | meaning (embedding their passages)
    files_done: int = 0
    files_total: int = 0
    chunks_done: int = 0
    passages_done: int = 0  # embedded in this run
    passages_total: int = 0  # waiting for a vector when the meaning phase began
    current: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


@dataclass
class IndexReport:
    scanned: int = 0
    indexed: int = 0
    unchanged: int = 0
    failed: int = 0
    unsupported: int = 0
    needs_ocr: int = 0  # files with scanned pages or images, for the OCR phase
    ocr_pages: int = 0  # pages read by OCR in this run
    removed: int = 0
    renamed: int = 0
    chunks: int = 0
    embedded: int = 0  # passages given a vector (those unchanged or already known are not)
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) left out while scanning
    elsewhere: int = 0  # being read by an indexer on another machine (it records them)
    interrupted: bool = False  # stopped (paused, quitting) before every file was done


class _Claim(enum.Enum):
    UNCLAIMED = "not yet asked for"
    MINE = "this indexer reads it"
    ELSEWHERE = "an indexer on another machine is reading it"
    RECORDED = "recorded by another indexer since this scan"
    DONE = "read and recorded here"


@dataclass
class _Candidate:
    path: str
    folder_id: int | None
    size: int
    mtime: float
    content_hash: str | None = None
    container: bool = False  # an archive or mailbox (see `members`)
    claim: _Claim = _Claim.UNCLAIMED


@dataclass
class _Extracted:
    candidate: _Candidate
    passages: FilePassages


class Indexer:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        settings: IndexSettings | None = None,
    ):
        self.store = store
        self.embedder = embedder
        self.settings = settings or IndexSettings()
        self.on_progress: Callable[[IndexProgress], None] = lambda p: None
        self.should_stop: Callable[[], bool] = lambda: False
        self.plan = ChunkPlan(str(embedder.path), embedder.spec.document_prefix,
                              min(self.settings.chunk_tokens, embedder.window), self.settings.overlap_tokens,
                              self.settings.max_passages)
        self._extraction: list[ExtractionSandbox] = []  # the child processes, kept between calls
        self.ocr = OcrPhase(self, OcrCache(store.data_dir))
        self.scratch = store.data_dir / "unpacking"  # archives' members while they are read
        clear_scratch(self.scratch)

    def index(self, paths: list[Path], progress: Callable[[IndexProgress], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> IndexReport:
        """`should_stop` is asked between files: True ends the run early (`report.interrupted`);
        what was not done yet is found again by the next run."""
        self._listen(progress, should_stop)
        report = IndexReport()
        started = time.monotonic()
        candidates = self._scan(paths, report)
        self._index_candidates(candidates, report, IndexProgress(files_total=len(candidates)))
        report.seconds = time.monotonic() - started
        return report

    def _listen(self, progress, should_stop) -> None:
        self.on_progress = progress or (lambda p: None)
        self.should_stop = should_stop or (lambda: False)

    def _index_candidates(self, candidates: list[_Candidate], report: IndexReport, progress: IndexProgress) -> None:
        self.on_progress(progress)
        if not candidates:
            return
        pool = self._pool()
        width = len(pool)
        deferred: list[_Candidate] = []  # being read on another machine when their turn came
        try:
            # File i is read by child i % width, so the children read the next files while this
            # process stores the one before; results are stored in order (recently modified first).
            for i in range(min(width, len(candidates))):
                self._submit(pool[i], candidates[i])
            for i, candidate in enumerate(candidates):
                if self.should_stop():
                    report.interrupted = True
                    self.close()  # the files submitted next are not wanted now
                    break
                sandbox = pool[i % width]
                progress.current = candidate.path
                if candidate.claim == _Claim.ELSEWHERE:
                    deferred.append(candidate)
                else:
                    self._finish(sandbox, candidate, report, progress)
                if i + width < len(candidates):
                    self._submit(sandbox, candidates[i + width])
                progress.files_done = i + 1 - len(deferred)
                self.on_progress(progress)
            else:
                self._index_deferred(deferred, report, progress)
        except BaseException:
            self.close()  # requests may still be in flight: start clean next time
            raise
        finally:
            for candidate in candidates:
                if candidate.claim == _Claim.MINE:
                    self.store.release_file(candidate.path)

    def _index_deferred(self, deferred: list[_Candidate], report: IndexReport, progress: IndexProgress) -> None:
        """Files another machine was reading: most are recorded by now; the rest are read here,
        unless that machine is still at them (it records them; if it dies, the next scan finds them)."""
        sandbox = self._sandbox()
        for candidate in deferred:
            if self.should_stop():
                report.interrupted = True
                return
            progress.current = candidate.path
            self._submit(sandbox, candidate)
            if candidate.claim == _Claim.ELSEWHERE:
                report.elsewhere += 1
            else:
                self._finish(sandbox, candidate, report, progress)
            progress.files_done += 1
            self.on_progress(progress)

    def _finish(self, sandbox: ExtractionSandbox, candidate: _Candidate, report: IndexReport,
                progress: IndexProgress) -> None:
        if candidate.claim == _Claim.RECORDED:
            report.unchanged += 1
            return
        extracted = self._finish_extraction(sandbox, candidate, report)
        if extracted is not None:
            self._store(extracted, report)
            progress.chunks_done += len(extracted.passages.chunks)
        self.store.release_file(candidate.path)
        candidate.claim = _Claim.DONE

    def _submit(self, sandbox: ExtractionSandbox, candidate: _Candidate) -> None:
        """Read a file in the child once this indexer holds it (see `_claim`); scanned pages that
        OCR read before (the same content) come from the OCR cache. An archive or mailbox is read
        member by member, when its turn comes."""
        if not self._claim(candidate):
            return
        if not candidate.container:
            scans = self.ocr.cache.texts(candidate.content_hash, self.ocr.languages())
            sandbox.submit_call(read_passages, candidate.path, self.plan, scans)

    def _claim(self, candidate: _Candidate) -> bool:
        """Indexers on several machines may scan one shared folder at once: each file is read by
        the one that claims it, and one that was recorded since this scan is not read again."""
        if not self.store.claim_file(candidate.path):
            candidate.claim = _Claim.ELSEWHERE
            return False
        known = self.store.file(candidate.path)
        if known is not None and (known.size, known.mtime) == (candidate.size, candidate.mtime):
            self.store.release_file(candidate.path)
            candidate.claim = _Claim.RECORDED
            return False
        candidate.claim = _Claim.MINE
        return True

    def _index_container(self, sandbox: ExtractionSandbox, candidate: _Candidate, report: IndexReport) -> None:
        """An archive or mailbox: each member a file of its own, all stored in one transaction."""
        try:
            contents = read_container(sandbox, candidate.path, candidate.mtime, self.settings, self.plan,
                                      self.scratch)
        except (ExtractionError, UnsupportedFile) as exc:
            self._record_failure(candidate, FileStatus.FAILED, str(exc), report)
            return
        self.store.record_container(
            candidate.path, contents.members, folder_id=candidate.folder_id,
            file_type=extract.file_type(Path(candidate.path)), size=candidate.size, mtime=candidate.mtime,
            content_hash=candidate.content_hash, status=FileStatus.INDEXED, error=contents.note)
        report.indexed += sum(m.status == FileStatus.INDEXED for m in contents.members)  # a file a member
        report.chunks += sum(len(member.chunks) for member in contents.members)
        report.failures += [(m.path, m.error or "") for m in contents.members if m.status == FileStatus.FAILED]
        report.failed += sum(m.status == FileStatus.FAILED for m in contents.members)
        if contents.note:
            report.warnings.append(f"{candidate.path}: {contents.note}")

    def _pool(self) -> list[ExtractionSandbox]:
        """The extraction children (started when first asked for work), kept between calls."""
        if not self._extraction:
            self._extraction = [ExtractionSandbox(self.settings.timeout_s, self.settings.memory_mb)
                                for _ in range(extraction_workers(self.settings))]
        return self._extraction

    def _sandbox(self) -> ExtractionSandbox:
        return self._pool()[0]

    def close(self) -> None:
        for sandbox in self._extraction:
            sandbox.close()
        self._extraction = []

    # -- scanning ---------------------------------------------------------------------------

    def links(self) -> LinkPolicy:
        return LinkPolicy([folder for _, folder in self.store.folders()], self.settings.follow_links)

    def exclusions(self) -> Exclusions:
        return Exclusions(self.store.global_excludes(), self.store.folder_excludes())

    def _scan(self, paths: list[Path], report: IndexReport) -> list[_Candidate]:
        """Files that need (re)indexing. Unchanged files are counted, vanished ones removed, and a
        vanished file whose content reappears under a new name is renamed, not re-embedded."""
        exclusions = self.exclusions()
        found: list[tuple[str, int | None]] = []
        gone: set[str] = set()
        for given in paths:
            path = os.path.abspath(os.fspath(given))
            if os.path.isdir(path):
                folder_id = self.store.add_folder(path)
                skipped: list[tuple[str, str]] = []
                files = list(walk_files(path, exclusions, skipped, self.links()))
                self.store.replace_skipped(path, skipped)
                report.skipped += skipped
                gone |= set(self.store.files_under(folder_id)) - set(files)
                found += [(f, folder_id) for f in files]
            elif os.path.isfile(path):  # named by the user: read even through a link
                found.append((path, self._folder_of(path)))
            elif os.path.exists(path):
                report.warnings.append(f"{path}: not a regular file or folder ({_kind(path)}); not indexed")
            else:
                report.warnings.append(f"{path}: no such file or folder")
        return self._candidates(found, gone, report)

    def _candidates(self, found: list[tuple[str, int | None]], gone: set[str], report: IndexReport) -> list[_Candidate]:
        candidates: list[_Candidate] = []
        seen_real: set[str] = set()
        for file_path, folder_id in found:
            real = os.path.realpath(file_path)
            if real in seen_real:
                continue
            seen_real.add(real)
            report.scanned += 1
            candidate = self._candidate(file_path, folder_id, report)
            if candidate is not None and not self._renamed(candidate, gone, report):
                candidates.append(candidate)
        report.removed += self.store.remove_files(sorted(gone))
        candidates.sort(key=lambda c: -c.mtime)  # recently modified first
        return candidates

    def _renamed(self, candidate: _Candidate, gone: set[str], report: IndexReport) -> bool:
        """Is this new path a file that moved here (same content as one that vanished)? The
        watcher does not always report the old path (a move into a just-created folder)."""
        for record in self.store.files_by_hash(candidate.content_hash or ""):
            vanished = record.path in gone or not os.path.exists(record.path)
            if vanished and record.status == FileStatus.INDEXED and record.path != candidate.path:
                self.store.rename_file(
                    record.path, candidate.path, folder_id=candidate.folder_id,
                    file_type=extract.file_type(Path(candidate.path)), size=candidate.size, mtime=candidate.mtime,
                )
                gone.discard(record.path)
                report.renamed += 1
                return True
        return False

    def move(self, old: str, new: str) -> bool:
        """Follow a rename reported by the watcher without re-embedding; False if it cannot be
        followed that way (unknown source, changed content, excluded target...)."""
        record = self.store.file(old)
        if record is None or record.status != FileStatus.INDEXED or not os.path.isfile(new):
            return False
        folders = self.store.folders()
        folder = next((f for f in folders if is_inside(new, f[1])), None)
        if folder is None or self.exclusions().why(new, folder[1]):
            return False
        info = os.stat(new)
        if info.st_size != record.size:
            return False
        self.store.rename_file(old, new, folder_id=folder[0], file_type=extract.file_type(Path(new)),
                               size=info.st_size, mtime=info.st_mtime)
        return True

    def process(self, paths: list[str], progress: Callable[[IndexProgress], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> IndexReport:
        """Bring the given files up to date: (re)index changed ones, drop vanished ones, follow
        renames. Used by the watch service for the paths its events and queue name."""
        self._listen(progress, should_stop)
        report = IndexReport()
        started = time.monotonic()
        exclusions = self.exclusions()
        folders = self.store.folders()
        links = self.links()
        found, gone = [], set()
        for path in paths:
            folder = next((f for f in folders if is_inside(path, f[1])), None)
            refusal = links.refusal(path) if folder is not None else None
            if refusal:
                report.skipped.append((path, refusal))
                if self.store.file(path) is not None:
                    gone.add(path)
            elif os.path.isfile(path) and (folder is None or not exclusions.why(path, folder[1])):
                found.append((path, folder[0] if folder else None))
            elif not os.path.exists(path):  # a file, or a whole folder, that went away
                gone |= {path} | set(self.store.files_below(path))
            elif self.store.file(path) is not None:  # now excluded, or no longer a regular file
                gone.add(path)
        candidates = self._candidates(found, gone, report)
        self._index_candidates(candidates, report, IndexProgress(files_total=len(candidates)))
        report.seconds = time.monotonic() - started
        return report

    def _folder_of(self, path: str) -> int | None:
        for folder_id, folder in self.store.folders():
            if is_inside(path, folder):
                return folder_id
        return None

    def _candidate(self, path: str, folder_id: int | None, report: IndexReport) -> _Candidate | None:
        try:
            info = os.stat(path)
        except OSError as exc:
            report.warnings.append(f"{path}: {exc.strerror or exc}")
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        candidate = _Candidate(path, folder_id, info.st_size, info.st_mtime)
        known = self.store.file(path)
        if known and known.size == info.st_size and known.mtime == info.st_mtime:
            report.unchanged += 1
            return None
        if not extract.supported(Path(path)):
            self._record_failure(candidate, FileStatus.UNSUPPORTED, "unsupported file type", report)
            return None
        candidate.container = is_container(Path(path))
        limit_mb = self.settings.max_archive_mb if candidate.container else self.settings.max_file_mb
        if info.st_size > limit_mb * 1024 * 1024:
            what = "the archive limit in the settings" if candidate.container else "--max-file-mb"
            self._record_failure(candidate, FileStatus.FAILED, f"larger than the {limit_mb:g} MB limit (see {what})",
                                 report)
            return None
        try:
            candidate.content_hash = content_hash(path)
        except OSError as exc:
            self._record_failure(candidate, FileStatus.FAILED, f"cannot read: {exc.strerror or exc}", report)
            return None
        if known and known.content_hash == candidate.content_hash and known.status == FileStatus.INDEXED:
            self.store.touch_file(known.id, info.st_size, info.st_mtime)  # touched, not changed
            report.unchanged += 1
            return None
        return candidate

    # -- per file ---------------------------------------------------------------------------

    def _finish_extraction(self, sandbox, candidate: _Candidate, report: IndexReport) -> _Extracted | None:
        if candidate.container:
            self._index_container(sandbox, candidate, report)
            return None
        try:
            passages: FilePassages = sandbox.result()
        except UnsupportedFile as exc:
            self._record_failure(candidate, FileStatus.UNSUPPORTED, str(exc), report)
            return None
        except ExtractionError as exc:
            self._record_failure(candidate, FileStatus.FAILED, str(exc), report)
            return None
        if passages.empty and not passages.ocr_pages:
            self._record_failure(candidate, FileStatus.EMPTY, "no text found (an image-only or empty file?)", report)
            return None
        return _Extracted(candidate, passages)

    def _store(self, item: _Extracted, report: IndexReport) -> None:
        """The keyword phase of one file: its chunks, passages and keywords, in one transaction.
        A file with scanned pages keeps what text it has and waits for the OCR phase."""
        passages = item.passages
        scanned = len(passages.ocr_pages)
        note = self.ocr.waiting_reason(scanned) if scanned else passages.note
        self._record(item.candidate, FileStatus.NEEDS_OCR if scanned else FileStatus.INDEXED, error=note,
                     title=passages.title, author=passages.author, chunks=_new_chunks(passages))
        report.chunks += len(passages.chunks)
        if scanned:
            report.needs_ocr += 1
        else:
            report.indexed += 1
        if passages.note:
            report.warnings.append(f"{item.candidate.path}: {passages.note}")

    # -- the OCR phase ----------------------------------------------------------------------

    def ocr_all(self, report: IndexReport, progress: Callable[[IndexProgress], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> None:
        """The OCR phase to its end (or until `should_stop`): every scanned page read."""
        stop = should_stop or (lambda: False)
        state = IndexProgress(phase="ocr")
        started = time.monotonic()
        while not stop():
            step = self.ocr.step(stop)
            if step is None:
                break
            state.current, state.files_done, state.files_total = step.path, step.pages_done, step.pages_total
            report.ocr_pages += step.pages_read
            if step.finished and step.pages_total:
                report.needs_ocr = max(0, report.needs_ocr - 1)
                report.indexed += 1
            if progress:
                progress(state)
        else:
            report.interrupted = True
        report.seconds += time.monotonic() - started

    def store_ocr_result(self, record: FileRecord, passages: FilePassages, note: str | None) -> None:
        """A file's text once OCR has read its scanned pages (a file changed meanwhile is the
        scan's to read again; its record is left as it is)."""
        with self.store.transaction():
            current = self.store.file(record.path)
            if current is None or (current.size, current.mtime, current.content_hash) != (
                    record.size, record.mtime, record.content_hash):
                return
            self.store.record_file(
                record.path, folder_id=record.folder_id, file_type=record.file_type, size=record.size,
                mtime=record.mtime, content_hash=record.content_hash, status=FileStatus.INDEXED,
                error=note, title=passages.title, author=passages.author, chunks=_new_chunks(passages))

    def fail_stored(self, record: FileRecord, reason: str) -> None:
        """A stored file turned out unreadable (in the OCR phase): keep the reason, drop its text."""
        self.store.record_file(record.path, folder_id=record.folder_id, file_type=record.file_type,
                               size=record.size, mtime=record.mtime, content_hash=record.content_hash,
                               status=FileStatus.FAILED, error=reason)

    # -- the embedding phase ----------------------------------------------------------------

    def embed_all(self, report: IndexReport, progress: Callable[[IndexProgress], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> None:
        """The meaning phase to its end (or until `should_stop`): every waiting passage embedded."""
        started = time.monotonic()
        state = IndexProgress(phase="meaning", passages_total=self.store.waiting_count())
        while not (should_stop and should_stop()):
            done = self.embed_waiting()
            if not done:
                break
            state.passages_done += done
            report.embedded += done
            if progress:
                progress(state)
        else:
            report.interrupted = True
        report.seconds += time.monotonic() - started

    def embed_waiting(self, limit: int = EMBED_BATCH_PASSAGES) -> int:
        """Vectors for one batch of the passages still waiting; returns how many were embedded
        (0 when none wait, or when indexers on other machines hold every one that waits)."""
        table = self.store.vector_table
        rows = self.store.waiting_passages(limit)
        if not rows:
            return 0
        try:
            vectors = self.embedder.embed_passages([text for _, text in rows])
            self.store.store_vectors(table, rows, vectors)
        finally:
            self.store.release_passages(passage for passage, _ in rows)
        return len(rows)

    def _record(self, c: _Candidate, status: FileStatus, **details) -> None:
        self.store.record_file(
            c.path,
            folder_id=c.folder_id,
            file_type=extract.file_type(Path(c.path)),
            size=c.size,
            mtime=c.mtime,
            content_hash=c.content_hash,
            status=status,
            **details,
        )

    def _record_failure(self, c: _Candidate, status: FileStatus, reason: str, report: IndexReport) -> None:
        self._record(c, status, error=reason)
        if status == FileStatus.UNSUPPORTED:
            report.unsupported += 1
        else:
            report.failed += 1
            report.failures.append((c.path, reason))


def extraction_workers(settings: IndexSettings) -> int:
    """How many files are read at once: the setting, else two where there are two cores or more
    (one reads while the other's file is stored; more rarely pays, the store being one writer)."""
    return settings.extraction_workers or min(2, os.cpu_count() or 1)


def _new_chunks(passages: FilePassages) -> list[NewChunk]:
    return [NewChunk(k.ordinal, k.page, k.char_start, k.char_end, k.text) for k in passages.chunks]


def _kind(path: str) -> str:
    mode = os.stat(path).st_mode
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "a special file"
