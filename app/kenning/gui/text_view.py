"""Extracted text of a document with the matching passage highlighted and scrolled into view."""

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

    def show_text(self, text: str, start: int, end: int, monospace: bool = False) -> None:
        kind = QFontDatabase.SystemFont.FixedFont if monospace else QFontDatabase.SystemFont.GeneralFont
        font = QFontDatabase.systemFont(kind)
        self.document().setDefaultFont(font)
        self.setPlainText(text)
        self.passage = (qt_offset(text, start), qt_offset(text, end))
        highlight = QTextEdit.ExtraSelection()
        colour = self.palette().color(QPalette.ColorRole.Highlight)
        colour.setAlpha(90)
        char_format = QTextCharFormat()
        char_format.setBackground(colour)
        highlight.format = char_format
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.passage[0])
        cursor.setPosition(self.passage[1], QTextCursor.MoveMode.KeepAnchor)
        highlight.cursor = cursor
        self.setExtraSelections([highlight])
        self.scroll_to_passage()

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
