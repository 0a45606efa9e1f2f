"""`kenning` command line: a thin caller of the engine (the GUI and the service call the same API).
Every command also takes --data-dir, --model, --gpu, --threads and -v after its name.

    kenning [--data-dir DIR] index PATH...
    kenning [--data-dir DIR] search [--json] [--all] [--limit N] [--batch FILE] [QUERY]
    kenning [--data-dir DIR] status [--json]
    kenning [--data-dir DIR] models list|import PATH|convert HF_DIR [--quant Q] [-o OUT]
    kenning [--data-dir DIR] models download NAME [--proxy URL]
    kenning [--data-dir DIR] models use NAME [--dimensions N] | models use --cancel
    kenning [--data-dir DIR] folders add|remove|list|exclude ...
    kenning [--data-dir DIR] watch [PATH...]      (the indexing service, in the foreground)
    kenning [--data-dir DIR] pause|resume
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kenning import __version__
from kenning.errors import IndexDamaged, KenningError, QueryError
from kenning.models.catalogue import CATALOGUE
from kenning.paths import default_data_dir
from kenning.progress import ProgressLine
from kenning.query import MAX_RESULTS
from kenning.service_status import ServiceLock, ServiceState, describe
from kenning.settings import GPU_CHOICES, Settings

if TYPE_CHECKING:  # the engine loads numpy, llama.cpp and more: not for --help and --version
    from kenning.engine import Engine
    from kenning.search import Filters

EXIT_ERROR = 1
EXIT_USAGE = 2
HISTORY_FILE = "search-history"  # the interactive prompt's earlier queries, in the data dir
HISTORY_LINES = 1000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json(value, **options) -> str:
    """JSON text; a file name with bytes that are not UTF-8 keeps them as \\udcXX escapes, which
    any JSON reader turns back into the same (surrogate-escaped) string."""
    text = json.dumps(value, ensure_ascii=False, **{k: v for k, v in options.items() if k != "ensure_ascii"})
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _VersionAction(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        from kenning.backend import backend_summary

        print(f"kenning {__version__}\n{backend_summary(cached=True)}")
        parser.exit()


def _common_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options every command takes, before or after its name (`kenning --data-dir D search q` and
    `kenning search --data-dir D q`). After the name they default to nothing, so that they do not
    undo the same option given before it."""
    quiet: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    parser.add_argument("--data-dir", type=Path, **quiet,
                        help="where the index and models live (default: the user data dir)")
    parser.add_argument("--database", metavar="postgresql://...", **quiet,
                        help="a PostgreSQL server holding a shared index (default: the app's setting, else the "
                             "SQLite file in the data dir); its password comes from PGPASSWORD or ~/.pgpass")
    parser.add_argument("--model", **quiet, help="embedding model name (default: the index's model, else all-minilm-l6-v2)")
    parser.add_argument("--gpu", choices=GPU_CHOICES, **quiet,
                        help="offload the model to the GPU (default: the app's setting, auto)")
    parser.add_argument("--threads", type=_positive, **quiet,
                        help="CPU threads for embedding (default: the app's setting, physical cores)")
    parser.add_argument("-v", "--verbose", action="store_true", **quiet, help="log details to stderr")


class _Commands:
    """Adds subcommands that each take the common options and describe themselves in --help."""

    def __init__(self, parser: argparse.ArgumentParser, dest: str, title: str):
        self.common = argparse.ArgumentParser(add_help=False)
        _common_options(self.common, suppress=True)
        self.group = parser.add_subparsers(dest=dest, required=True, title=title, metavar="COMMAND")

    def add(self, name: str, summary: str, description: str = "", leaf: bool = True) -> argparse.ArgumentParser:
        return self.group.add_parser(name, help=summary, description=description or summary,
                                     parents=[self.common] if leaf else [],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kenning", description="Search the files on this computer by meaning, privately.",
        epilog="Start with `kenning index ~/Documents`, then `kenning search \"what you remember\"`. "
               "`kenning COMMAND --help` describes each command.")
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and the llama.cpp backend")
    _common_options(parser, suppress=False)
    commands = _Commands(parser, "command", "commands")

    index = commands.add("index", "index folders and files (running it again updates the index)",
                         "Index folders and files once: new and changed files are read, deleted ones are "
                         "forgotten.\nWhile the Kenning service runs, the paths are handed to it instead.")
    index.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a folder or a file")
    index.add_argument("--max-file-mb", type=float, help="skip files larger than this (default: the app's setting, 200)")
    index.add_argument("--timeout", type=float, help="seconds allowed to read one file (default: the app's setting, 60)")

    search = commands.add("search", "search the index (a prompt when no query is given)",
                          'Search by meaning and by words. In a query, "an exact phrase" must appear, '
                          "-word and -\"a phrase\" must not.\nWeak matches are hidden unless --all is "
                          "given; --json marks each result's match as good or weak.")
    search.add_argument("query", nargs="?", help="what to look for (leave out for a prompt)")
    search.add_argument("--json", action="store_true", help="one JSON object per query per line")
    search.add_argument("--all", action="store_true", help="show weak matches too, not only good ones")
    search.add_argument("--limit", type=_positive, default=10,
                        help=f"how many files to show (default 10, at most {MAX_RESULTS:,})")
    search.add_argument("--batch", metavar="FILE", help="file with one query per line ('-' for stdin)")
    search.add_argument("--folder", help="only files under this folder")
    search.add_argument("--type", action="append", default=[], metavar="TYPE",
                        help="only this file type (pdf, docx, ...); repeatable")
    search.add_argument("--after", metavar="YYYY-MM-DD", help="only files modified on or after this day")
    search.add_argument("--before", metavar="YYYY-MM-DD", help="only files modified before this day")
    search.add_argument("--mode", choices=["hybrid", "vector", "bm25"], default="hybrid",
                        help="hybrid (default): meaning and words; vector: meaning only; bm25: words only")

    status = commands.add("status", "what is indexed, what failed and why")
    status.add_argument("--json", action="store_true", help="all of it as one JSON object")
    status.add_argument("--why", type=Path, metavar="PATH", help="explain whether PATH is indexed, and if not, why")
    status.add_argument("--check", action="store_true", help="check the index database for damage")

    folders = commands.add("folders", "the folders Kenning indexes and watches", leaf=False)
    folder_commands = _Commands(folders, "folders_command", "folder commands")
    folders_add = folder_commands.add("add", "add folders (the service indexes and watches them)")
    folders_add.add_argument("paths", nargs="+", type=Path, metavar="FOLDER", help="a folder to index and watch")
    folders_add.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                             help="a .gitignore-style pattern to leave out; repeatable")
    folders_remove = folder_commands.add("remove", "stop indexing folders and forget their files")
    folders_remove.add_argument("paths", nargs="+", type=Path, metavar="FOLDER", help="an indexed folder")
    folders_list = folder_commands.add("list", "folders with their counts and exclusions")
    folders_list.add_argument("--json", action="store_true", help="as a JSON list")
    folders_exclude = folder_commands.add("exclude", "set the exclusion patterns of all folders",
                                          "Set the .gitignore-style patterns left out of every folder; "
                                          "none clears them.")
    folders_exclude.add_argument("patterns", nargs="*", metavar="PATTERN", help="e.g. node_modules/ or *.log")

    watch = commands.add("watch", "run the indexing service in the foreground: index, then follow changes")
    watch.add_argument("paths", nargs="*", type=Path, metavar="FOLDER", help="folders to add before starting")
    watch.add_argument("--pause-on-battery", action="store_true", help="pause indexing while on battery power")
    commands.add("pause", "pause indexing (the service, now or when it next starts)")
    commands.add("resume", "resume indexing")

    models = commands.add("models", "list, download, switch, import or convert embedding models", leaf=False)
    model_commands = _Commands(models, "models_command", "model commands")
    model_commands.add("list", "installed and known models")
    model_import = model_commands.add("import", "add a GGUF embedding model file")
    model_import.add_argument("path", type=Path, metavar="FILE.gguf", help="a GGUF file of an embedding model")
    model_import.add_argument("--name", help="name to use (default: the file name)")
    fetch = model_commands.add("download", "download a catalogue model (from huggingface.co)")
    fetch.add_argument("name", choices=sorted(n for n, spec in CATALOGUE.items() if spec.download), metavar="NAME",
                       help="one of " + ", ".join(sorted(n for n, spec in CATALOGUE.items() if spec.download)))
    fetch.add_argument("--proxy", help="HTTP(S) proxy URL (default: the HTTPS_PROXY environment variable)")
    use = model_commands.add("use", "switch the index to another model (search keeps working meanwhile)")
    use.add_argument("name", nargs="?", help="an installed model (see `kenning models list`)")
    use.add_argument("--dimensions", type=_positive, help="a smaller vector size, for Matryoshka models")
    use.add_argument("--cancel", action="store_true", help="cancel a switch in progress")
    convert = model_commands.add("convert", "convert a Hugging Face BERT folder to GGUF")
    convert.add_argument("folder", type=Path, help="a folder with config.json, tokenizer and safetensors")
    convert.add_argument("--quant", choices=["q8_0", "q4_k_m", "f16"], default="q8_0",
                         help="weight precision (default q8_0)")
    convert.add_argument("-o", "--output", type=Path, help="output .gguf (default: into the model library)")
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a name with bytes that are not text prints them as "?"
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="kenning: %(levelname)s: %(message)s",
    )
    if not args.verbose:
        logging.getLogger("kenning.llama").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, _interrupt)  # a stop asked for is Ctrl+C: `watch` stops cleanly
    try:
        handlers = {"index": cmd_index, "search": cmd_search, "status": cmd_status, "folders": cmd_folders,
                    "watch": cmd_watch, "models": cmd_models, "pause": cmd_pause, "resume": cmd_pause}
        with _engine(args) as engine:
            return handlers[args.command](engine, args)
    except KenningError as exc:
        print(f"kenning: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, QueryError) else EXIT_ERROR
    except KeyboardInterrupt:
        print("kenning: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # e.g. a --batch file that does not exist, a full disk
        print(f"kenning: {exc.filename or ''}{': ' if exc.filename else ''}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR


def _count(number: int, noun: str, plural: str | None = None) -> str:
    """ "1 file", "2 files", "1,204 passages"."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def _engine(args) -> Engine:
    """The engine, configured from the app's settings with the command line's flags on top."""
    from kenning.engine import Engine

    line = ProgressLine()
    data_dir = args.data_dir or default_data_dir()
    settings = Settings.load(data_dir).overridden(
        model=args.model, gpu=args.gpu, threads=args.threads, database=getattr(args, "database", None),
        max_file_mb=getattr(args, "max_file_mb", None), timeout_s=getattr(args, "timeout", None),
    )
    say = lambda message: line.message(f"kenning: {message}")
    try:
        return Engine.from_settings(data_dir, settings, on_model_progress=say)
    except IndexDamaged:
        if args.command not in ("index", "watch"):
            raise
        lock = ServiceLock(data_dir)
        lock.acquire()  # a running service repairs it itself; else we may
        try:
            engine = Engine.from_settings(data_dir, settings, on_model_progress=say, repair_damaged=True)
        finally:
            lock.release()
        _say_repaired(engine)
        return engine


def _say_repaired(engine: Engine) -> None:
    print(f"kenning: the index was damaged; it was moved aside to {engine.repaired_to} and is rebuilt "
          "from your files", file=sys.stderr)


def cmd_pause(engine: Engine, args) -> int:
    pausing = args.command == "pause"
    engine.set_paused(pausing)
    if engine.service_running():
        print(f"Indexing {'paused' if pausing else 'resumed'}.")
    elif pausing:
        print("The Kenning service is not running; when it starts, indexing stays paused until "
              "`kenning resume`.")
    else:
        print("Indexing resumed: the Kenning service indexes when it runs.")
    return 0


def cmd_index(engine: Engine, args) -> int:

    missing = [path for path in args.paths if not os.path.lexists(path)]
    for path in missing:
        print(f"kenning: {path}: no such file or folder", file=sys.stderr)
    paths = [path for path in args.paths if path not in missing]
    if not paths:
        return EXIT_ERROR
    lock = ServiceLock(engine.data_dir)
    try:
        lock.acquire()
    except KenningError:
        _hand_to_service(engine, paths)
        return EXIT_ERROR if missing else 0
    try:
        if lock.unclean or engine.needs_check():  # the last writer died, or a reader met damage
            _check(engine)
        line = ProgressLine()
        engine.prepare_model()  # before the progress bar starts
        try:
            report = engine.index(paths, progress=line.index)
        except IndexDamaged:  # found while reading it: rebuild, then index into the new one
            line.clear()
            engine.repair()
            _say_repaired(engine)
            report = engine.index(paths, progress=line.index)
        line.clear()
    finally:
        lock.release()
    for warning in report.warnings:
        print(f"kenning: warning: {warning}", file=sys.stderr)
    for path, reason in report.skipped:
        print(f"kenning: skipped: {path}: {reason}", file=sys.stderr)
    for path, reason in report.failures:
        print(f"kenning: failed: {path}: {reason}", file=sys.stderr)
    rate = report.chunks / report.seconds if report.seconds else 0.0
    print(
        f"Indexed {_count(report.indexed, 'file')} ({_count(report.chunks, 'chunk')}, {rate:.1f} chunks/s; "
        f"{_count(report.embedded, 'passage')} embedded, the rest unchanged or already known) in "
        f"{report.seconds:.1f} s; {report.unchanged:,} unchanged, {report.failed:,} failed, "
        f"{report.unsupported:,} unsupported, {report.removed:,} removed"
        + (f"; {_count(report.elsewhere, 'file')} being read by another machine" if report.elsewhere else "")
        + (f"; {_count(report.ocr_pages, 'scanned page')} read by OCR." if report.ocr_pages else "."),
        file=sys.stderr,
    )
    if report.needs_ocr:
        print(f"kenning: {_count(report.needs_ocr, 'file')} with scanned pages or images "
              + ("wait for OCR (`kenning index` again to go on)." if engine.ocr_available()
                 else "need OCR: install Tesseract (see `kenning status`) and index again."), file=sys.stderr)
    return EXIT_ERROR if missing else 0


def _check(engine: Engine) -> None:
    try:
        engine.check()
    except IndexDamaged:
        engine.repair()
        _say_repaired(engine)


def _hand_to_service(engine: Engine, paths: list[Path]) -> None:
    """The service owns writes while it runs: give it the work instead of competing with it."""
    engine.hand_to_service(paths)
    print("kenning: the Kenning service is running; it will index these (see `kenning status`).", file=sys.stderr)


def cmd_folders(engine: Engine, args) -> int:
    if args.folders_command == "add":
        for path in args.paths:
            print(f"Added {engine.add_folder(path, tuple(args.exclude))}")
        if not engine.service_running():
            print("Run `kenning watch` (or the app) to index and watch it, or `kenning index` once.")
    elif args.folders_command == "remove":
        for path in args.paths:
            print(f"Removed {path} ({_count(engine.remove_folder(path), 'file')} forgotten)")
    elif args.folders_command == "exclude":
        engine.set_global_excludes(tuple(args.patterns))
        print(f"Global exclusions: {', '.join(args.patterns) or '(none beyond the built-in ones)'}")
    else:
        folders = engine.folders()
        if args.json:
            print(_json([vars(f) | {"exclude": list(f.exclude)} for f in folders], ensure_ascii=False, indent=2))
        elif not folders:
            print("No folders yet: add one with `kenning folders add FOLDER`, or index one with `kenning index FOLDER`.")
        for folder in [] if args.json else folders:
            excluded = f"; excludes {', '.join(folder.exclude)}" if folder.exclude else ""
            print(f"{folder.path}: {_count(folder.files, 'file')}, {_count(folder.failed, 'problem')}{excluded}")
    return 0


def cmd_watch(engine: Engine, args) -> int:
    from kenning.service import Service

    for path in args.paths:
        engine.add_folder(path)
    if not engine.folders():
        raise KenningError("no folders to watch: give one, e.g. `kenning watch ~/Documents`")
    service = Service(engine.data_dir, engine=engine, pause_on_battery=args.pause_on_battery)
    service.start()
    print(f"Watching {', '.join(engine.folder_paths())} (Ctrl+C to stop).", file=sys.stderr)
    last = ""
    try:
        while service.snapshot().state not in (ServiceState.STOPPED, ServiceState.ERROR):
            status = service.snapshot()
            line = f"{status.state.value}: {status.queued} queued, {status.done} done, {status.failed} failed"
            if line != last:
                print(line, file=sys.stderr, flush=True)
                last = line
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
    status = service.snapshot()
    if status.state == ServiceState.ERROR:
        raise KenningError(status.message)
    return 0


class StopAsked(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl+C. Not KeyboardInterrupt itself: Python marks that one unhandled
    when it crosses code an extension module runs while it loads, and then ends the process with
    SIGINT on exit even after `main` caught it."""


def _interrupt(*_signal_args) -> None:
    raise StopAsked  # SIGTERM stops `watch` as cleanly as Ctrl+C


def _filters(args) -> Filters:
    from kenning.extract import known_types
    from kenning.search import Filters, parse_date

    types = tuple(t.lower().lstrip(".") for t in args.type)
    unknown = [t for t in types if t not in known_types()]
    if unknown:
        raise QueryError(f"unknown file type {', '.join(unknown)}; Kenning reads {', '.join(known_types())}")
    return Filters(
        folder=str(Path(args.folder).expanduser().absolute()) if args.folder else None,
        file_types=types,
        modified_after=parse_date(args.after) if args.after else None,
        modified_before=parse_date(args.before) if args.before else None,
    )


def _queries(args) -> list[str] | None:
    if args.batch:
        if args.batch == "-":
            return [line.strip() for line in sys.stdin if line.strip()]
        with open(args.batch, encoding="utf-8") as source:
            return [line.strip() for line in source if line.strip()]
    if args.query is not None:
        return [args.query]
    return None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def cmd_search(engine: Engine, args) -> int:
    if args.limit > MAX_RESULTS:
        print(f"kenning: showing at most {MAX_RESULTS:,} results (--limit {args.limit:,} asked for more)",
              file=sys.stderr)
        args.limit = MAX_RESULTS
    filters = _filters(args)
    queries = _queries(args)
    if queries is None and not sys.stdin.isatty():
        raise QueryError("give a QUERY, or --batch FILE")
    if not engine.files_indexed():
        if engine.service_running():
            raise KenningError("nothing is indexed yet: the Kenning service is indexing your folders "
                               "(see `kenning status`)")
        raise KenningError("nothing is indexed yet: index a folder first, e.g. `kenning index ~/Documents`")
    if queries is None:
        return _interactive(engine, args, filters)
    status = 0
    for query in queries:
        try:
            results = engine.search(query, args.limit, filters, args.mode)
        except QueryError as exc:
            if not args.batch:
                raise
            print(f"kenning: {query!r}: {exc}", file=sys.stderr)
            results, status = [], 2
        _print_results(query, results, args, engine.passages_waiting())
    return status


def _print_results(query: str, results, args, waiting: int = 0) -> None:
    """Good matches (all of them with --all); `waiting`: passages found by keyword only so far
    (their vectors are still being made)."""
    from kenning.relevance import Match

    shown = results if args.all else [r for r in results if r.match is Match.GOOD]
    hidden = len(results) - len(shown)
    if args.json:
        answer: dict = {"query": query, "results": [r.to_json() for r in shown]}
        if hidden:
            answer["weak_hidden"] = hidden
        if waiting:
            answer["passages_waiting"] = waiting
        print(_json(answer, ensure_ascii=False), flush=True)
        return
    if waiting:
        print(f"(Still embedding {_count(waiting, 'passage')}: some results are found by their words only.)")
    more = f"{_count(hidden, 'weak match', 'weak matches')} hidden; --all shows them" if hidden else ""
    if not shown:
        print(f"No good match{f' ({more})' if more else ''}.")
    for rank, result in enumerate(shown, 1):
        page = f" (page {result.page})" if result.page else ""
        weak = "  (weak match)" if result.match is Match.WEAK else ""
        print(f"{rank:2d}. {result.path}{page}  [{result.score:.2f}]{weak}")
        print(f"    {result.snippet}")
    if shown and more:
        print(f"({more}.)")
    sys.stdout.flush()


def _interactive(engine: Engine, args, filters: Filters) -> int:
    history = _PromptHistory(engine.data_dir / HISTORY_FILE)
    engine.prepare_model()
    print("Type a query and press Enter (Up for earlier ones, Ctrl+D to quit).", file=sys.stderr)
    try:
        while True:
            try:
                query = input("search> ").strip()
            except EOFError:
                print(file=sys.stderr)
                return 0
            if not query:
                continue
            try:
                _print_results(query, engine.search(query, args.limit, filters, args.mode), args)
            except QueryError as exc:
                print(f"kenning: {exc}", file=sys.stderr)
    finally:
        history.save()


class _PromptHistory:
    """Line editing and Up/Down through earlier queries, this session's and earlier sessions'
    (kept in the data dir, readable by the user alone), where the platform has readline."""

    def __init__(self, path: Path):
        self.path = path
        try:
            import readline
        except ImportError:
            self.readline = None
            return
        self.readline = readline
        readline.set_history_length(HISTORY_LINES)
        try:
            readline.read_history_file(path)
        except (OSError, UnicodeDecodeError):
            pass  # no history yet, or one that cannot be read: start a new one

    def save(self) -> None:
        if self.readline is None or self.readline.get_current_history_length() == 0:
            return
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(descriptor)
            os.chmod(self.path, 0o600)
            self.readline.write_history_file(self.path)
        except OSError as exc:
            print(f"kenning: could not keep the search history in {self.path} ({exc.strerror})", file=sys.stderr)


def cmd_status(engine: Engine, args) -> int:
    if args.why:
        print(f"{args.why}: {engine.explain(args.why)}")
        return 0
    if args.check:
        engine.check()  # raises IndexDamaged, with what to do, if it finds damage
        print(f"The index {engine.index_location} is sound.")
        return 0

    status = engine.status()
    service = engine.service_status()
    if args.json:
        print(_json(status.to_json() | {"service": service.to_json() if service else None},
                         ensure_ascii=False, indent=2))
        return 0
    from kenning.backend import backend_summary

    print(f"Backend:  {backend_summary()} (--gpu {engine.embedder_settings.gpu})")
    if service:
        print(f"Service:  {describe(service)} (pid {service.pid})")
        print(f"          {service.done:,} files read, {service.queued:,} queued, {service.failed:,} failed; "
              f"{service.passages_done:,} passages embedded, {service.passages_waiting:,} waiting")
        if service.current and service.state == ServiceState.INDEXING:
            print(f"          now: {service.current}")
        for folder, reason in service.polled_folders.items():
            print(f"          {folder} is polled, not watched: {reason}")
        if service.message:
            print(f"          {service.message}")
    else:
        print("Service:  not running" + ("; indexing paused (`kenning resume`)" if status.paused else ""))
    if service and status.paused:
        print("          indexing paused (`kenning resume`)")
    print(f"Index:    {status.database} ({status.database_bytes / 1e6:.1f} MB)")
    print(f"Model:    {status.model or '(none yet)'}" + (f" ({status.dimensions} dimensions)" if status.dimensions else ""))
    if status.model_switch:
        switch = status.model_switch
        print(f"Switching to {switch.model}: {switch.done} of {switch.total} passages "
              f"({switch.fraction:.0%}); search uses {status.model} until it is done")
    print(f"Folders:  {', '.join(status.folders) or '(none)'}")
    print(
        f"Files:    {status.files_indexed} indexed, {status.files_failed} failed, "
        f"{status.files_empty} without text, {status.files_unsupported} unsupported"
    )
    if status.files_needing_ocr:
        print(f"          {status.files_needing_ocr} with scanned pages or images "
              + ("waiting for OCR" if _has_ocr(status) else "that need OCR (install Tesseract)"))
    print(f"Chunks:   {status.chunks}")
    print("Tools:    " + "\n          ".join(tool.describe() for tool in status.tools))
    if status.failures:
        print("Problems:")
        for path, _state, reason in status.failures:
            print(f"  {path}: {reason}")
    if status.skipped:
        print("Left out while scanning:")
        for path, reason in status.skipped:
            print(f"  {path}: {reason}")
    return 0


def _has_ocr(status) -> bool:
    return any(tool.name == "Tesseract" and tool.path for tool in status.tools)


def cmd_models(engine: Engine, args) -> int:
    if args.models_command == "list":
        return _list_models(engine)
    if args.models_command == "import":
        model = engine.import_model(args.path, args.name)
        print(f"Imported {model.spec.name}: {model.spec.dimensions} dimensions, {model.spec.pooling} pooling, {model.path}")
        return 0
    if args.models_command == "download":
        return _download(engine, args)
    if args.models_command == "use":
        return _use(engine, args)
    return _convert(engine, args)


def _list_models(engine: Engine) -> int:
    for choice in engine.model_choices():
        spec = choice.spec
        print(f"{spec.name:24s} {spec.dimensions:4d} dims {spec.max_tokens:5d} tokens  {spec.languages:20s} "
              f"{choice.describe_state()}")
        if spec.quality:
            print(f"{'':24s} {spec.quality}")
    return 0


def _download(engine: Engine, args) -> int:
    line = ProgressLine()
    engine.download_model(
        args.name,
        progress=lambda message: line.message(f"kenning: {message}"),
        on_bytes=lambda p: line.bar(p.done, p.total, f"{p.done / 1e6:.1f}/{p.total / 1e6:.1f} MB"),
        proxy=args.proxy,
    )
    print(f"Switch the index to it with `kenning models use {args.name}`.")
    return 0


def _use(engine: Engine, args) -> int:
    if args.cancel:
        state = engine.cancel_model_switch()
        print(f"Cancelled the switch to {state.model}." if state else "No model switch in progress.")
        return 0
    if not args.name:
        raise KenningError("name the model to use, e.g. `kenning models use bge-small-en-v1.5`")
    state = engine.switch_model(args.name, args.dimensions)
    if engine.index_model == args.name and not engine.model_switch_pending():
        print(f"The index uses {args.name} ({engine.index_dimensions} dimensions).")
        return 0
    if engine.service_running():
        print(f"The Kenning service is building the index for {args.name} in the background; search "
              "keeps using the current model until it is complete (see `kenning status`).")
        return 0
    lock = ServiceLock(engine.data_dir)
    lock.acquire()
    line = ProgressLine()
    try:
        line.message(f"kenning: building the index for {state.model} beside the current one "
                     "(search keeps working; Ctrl+C pauses, running this again resumes)")
        engine.run_model_switch(progress=lambda s: line.bar(s.done, s.total, f"{s.done}/{s.total} passages"))
    except KeyboardInterrupt:
        line.clear()
        print(f"Paused; the index still uses {engine.index_model}. Run this again to carry on, "
              "or `kenning models use --cancel`.")
        return 130
    finally:
        line.clear()
        lock.release()
    print(f"The index now uses {engine.index_model} ({engine.index_dimensions} dimensions).")
    return 0


def _convert(engine: Engine, args) -> int:
    line = ProgressLine()
    output = engine.convert_model(args.folder, args.quant, args.output,
                                  progress=lambda message: line.message(f"kenning: {message}"))
    line.message(f"kenning: wrote {output}")
    if args.output is None:
        line.message("kenning: installed it in the model library")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
