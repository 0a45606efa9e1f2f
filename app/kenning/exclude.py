"""Which files are left out of the index, and why: built-in defaults plus user patterns in
.gitignore syntax, global and per folder (matched with `pathspec`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pathspec

DEFAULT_PATTERNS = (
    ".*",  # hidden files and folders (.git, .cache, .ssh, ...)
    "node_modules/",
    "__pycache__/",
    "venv/",
    "site-packages/",
    "*.tmp",
    "*.temp",
    "*.swp",
    "*.swo",
    "*~",
    "~$*",  # Office lock files
    ".~lock.*#",  # LibreOffice lock files
    "*.part",
    "*.crdownload",
)


@dataclass(frozen=True)
class Rule:
    source: str  # "default", "global" or the folder the pattern belongs to
    spec: pathspec.PathSpec
    patterns: tuple[str, ...]


class Exclusions:
    def __init__(self, global_patterns: tuple[str, ...] = (), folders: dict[str, tuple[str, ...]] | None = None):
        self._rules = [self._rule("default", DEFAULT_PATTERNS), self._rule("global", global_patterns)]
        self._folder_rules = {
            folder: self._rule(folder, patterns) for folder, patterns in (folders or {}).items() if patterns
        }

    @staticmethod
    def _rule(source: str, patterns) -> Rule:
        cleaned = tuple(p.strip() for p in patterns if p.strip() and not p.strip().startswith("#"))
        return Rule(source, pathspec.PathSpec.from_lines("gitignore", cleaned), cleaned)

    def why(self, path: str, folder: str) -> str | None:
        """The reason `path` (inside `folder`) is excluded, or None if it is indexed.

        Checks every ancestor folder too, so "node_modules/" excludes everything below it.
        """
        relative = os.path.relpath(path, folder).replace(os.sep, "/")
        if relative.startswith(".."):
            return None
        parts = relative.split("/")
        for i in range(len(parts) - 1):
            reason = self._match("/".join(parts[: i + 1]) + "/", folder)
            if reason:
                return reason
        return self._match(relative + ("/" if os.path.isdir(path) else ""), folder)

    def skips(self, path: str, folder: str, is_dir: bool) -> bool:
        """For a walk that already checked the ancestors: does this entry itself match?"""
        relative = os.path.relpath(path, folder).replace(os.sep, "/")
        return self._match(relative + ("/" if is_dir else ""), folder) is not None

    def _match(self, candidate: str, folder: str) -> str | None:
        rules = self._rules + ([self._folder_rules[folder]] if folder in self._folder_rules else [])
        for rule in rules:
            if rule.spec.match_file(candidate):
                pattern = next(p for p in rule.patterns if _single(p).match_file(candidate))
                where = {"default": "built-in", "global": "global"}.get(rule.source, f"folder {rule.source}")
                return f"matches {where} exclusion pattern {pattern!r}"
        return None


def _single(pattern: str) -> pathspec.PathSpec:
    return pathspec.PathSpec.from_lines("gitignore", [pattern])
