"""Extracted text of a document with the matching passage highlighted and scrolled into view, its
best sentence (the one holding most of the query's words) highlighted more strongly."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit


def qt_offset(text: str, index: int) -> int:
    """A Python string index as a QTextDocument position (UTF-16 code units: emoji count twice)."""
    return len(text[:index].encode("utf-16-le")) // 2


class TextView(QPlainTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setAccessibleName("Text preview")
        self.passage: tuple[int, int] = (0, 0)  # in Qt positions
        self.emphasis: tuple[int, int] | None = None

    def show_text(self, text: str, start: int, end: int, monospace: bool = False,
                  emphasis: tuple[int, int] | None = None) -> None:
        kind = QFontDatabase.SystemFont.FixedFont if monospace else QFontDatabase.SystemFont.GeneralFont
        font = QFontDatabase.systemFont(kind)
        self.document().setDefaultFont(font)
        self.setPlainText(text)
        self.passage = (qt_offset(text, start), qt_offset(text, end))
        self.emphasis = (qt_offset(text, emphasis[0]), qt_offset(text, emphasis[1])) if emphasis else None
        selections = [self._selection(self.passage, 90)]
        if self.emphasis:
            selections.append(self._selection(self.emphasis, 170))
        self.setExtraSelections(selections)
        self.scroll_to_passage()

    def _selection(self, span: tuple[int, int], alpha: int) -> QTextEdit.ExtraSelection:
        selection = QTextEdit.ExtraSelection()
        colour = self.palette().color(QPalette.ColorRole.Highlight)
        colour.setAlpha(alpha)
        char_format = QTextCharFormat()
        char_format.setBackground(colour)
        selection.format = char_format
        cursor = QTextCursor(self.document())
        cursor.setPosition(span[0])
        cursor.setPosition(span[1], QTextCursor.MoveMode.KeepAnchor)
        selection.cursor = cursor
        return selection

    def emphasised_text(self) -> str:
        selections = self.extraSelections()
        return selections[1].cursor.selectedText() if len(selections) > 1 else ""

    def highlighted_text(self) -> str:
        selections = self.extraSelections()
        return selections[0].cursor.selectedText().replace("\u2029", "\n") if selections else ""

    def scroll_to_passage(self) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.passage[1])
        self.setTextCursor(cursor)
        self.ensureCursorVisible()
        cursor.setPosition(self.passage[0])
        self.setTextCursor(cursor)
        self.centerCursor()
