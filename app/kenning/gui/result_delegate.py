"""Paints one search result: file-kind icon, name, folder, date, page, relevance bar, and the
snippet with the query's words in bold. Colours come from the palette (light and dark themes)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QDate, QLocale, QPointF, QRectF, QSize, Qt, QTime
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPalette,
    QTextCharFormat,
    QTextLayout,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from kenning.gui.file_kinds import kind_of
from kenning.gui.icons import paint_file_icon
from kenning.gui.result_model import RESULT_ROLE
from kenning.paths import readable_path
from kenning.relevance import matching_spans

PADDING = 8
ICON_W = 32
SNIPPET_LINES = 3
BAR_W = 48


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved a fraction `t` towards `b` (a dimmed text colour that works in any theme)."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


def bold_ranges(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """The words of `text` to show in bold: those the keyword index matches to a query word."""
    return matching_spans(text, terms)


def display_path(path: str) -> str:
    """`path` with the home folder shown as "~" (and bytes that are not text as "�")."""
    home, path = str(Path.home()), readable_path(path)
    return "~" + path[len(home):] if path == home or path.startswith(home + "/") else path


def display_folder(path: str) -> str:
    return display_path(str(Path(path).parent))


def display_date(epoch: float) -> str:
    when = datetime.fromtimestamp(epoch)
    locale = QLocale()
    if when.date() == date.today():
        return locale.toString(QTime(when.hour, when.minute, when.second), QLocale.FormatType.ShortFormat)
    return locale.toString(QDate(when.year, when.month, when.day), QLocale.FormatType.ShortFormat)


def relevance_fraction(score: float) -> float:
    # The score is a sigmoid of fused z-scores, so 0.5 is an average candidate: show the part
    # above that, or every bar would look nearly full.
    return max(0.0, min(1.0, (score - 0.5) / 0.5))


def snippet_layout(text: str, font: QFont, terms: tuple[str, ...], width: float) -> QTextLayout:
    """`text` laid out in lines of `width`, the query's words in bold."""
    layout = QTextLayout(text, font)
    formats = []
    for start, end in bold_ranges(text, list(terms)):
        bold = QTextLayout.FormatRange()
        bold.start, bold.length = start, end - start
        char_format = QTextCharFormat()
        char_format.setFontWeight(QFont.Weight.Bold)
        bold.format = char_format
        formats.append(bold)
    layout.setFormats(formats)
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0, y))
        y += line.height()
    layout.endLayout()
    return layout


@lru_cache(maxsize=1024)
def fitted_snippet(snippet: str, font_key: str, terms: tuple[str, ...], width: float, lines: int) -> str:
    """The longest start of `snippet` (cut at a space, "…" added) that fits in `lines` lines."""
    font = QFont()
    font.fromString(font_key)

    def candidate(n: int) -> str:
        return snippet[:n].rstrip() + ("…" if n < len(snippet) else "")

    def fits(n: int) -> bool:
        return snippet_layout(candidate(n), font, terms, width).lineCount() <= lines

    if fits(len(snippet)):
        return snippet
    low, high = 0, len(snippet)
    while low < high - 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    space = snippet.rfind(" ", 0, low)
    return candidate(space if space > low - 20 else low)


class ResultDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        line = QFontMetricsF(option.font).lineSpacing()
        return QSize(320, int(PADDING * 2 + line * (2 + SNIPPET_LINES) + 4))

    def paint(self, painter, option: QStyleOptionViewItem, index) -> None:
        result = index.data(RESULT_ROLE)
        if result is None:
            return super().paint(painter, option, index)
        self._paint_background(painter, option, index)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        roles = QPalette.ColorRole
        text = option.palette.color(roles.HighlightedText if selected else roles.Text)
        colours = {
            "text": text,
            "dim": mix(text, option.palette.color(roles.Highlight if selected else roles.Base), 0.38),
            "bar": option.palette.color(roles.HighlightedText if selected else roles.Highlight),
            "track": mix(text, option.palette.color(roles.Highlight if selected else roles.Base), 0.82),
        }
        painter.save()
        rect = QRectF(option.rect).adjusted(PADDING, PADDING, -PADDING, -PADDING)
        line = QFontMetricsF(option.font).lineSpacing()
        icon_rect = QRectF(rect.left(), rect.top() + 2, ICON_W, ICON_W * 1.2)
        paint_file_icon(painter, icon_rect, kind_of(result.file_type or result.path))
        text_rect = rect.adjusted(ICON_W + PADDING * 1.5, 0, 0, 0)
        right_width = self._paint_right_column(painter, option.font, result, text_rect, line, colours)
        name_rect = text_rect.adjusted(0, 0, -right_width, 0)
        self._paint_name_and_folder(painter, option.font, result, name_rect, line, colours)
        terms = tuple(getattr(index.model(), "terms", ()))
        origin = QPointF(text_rect.left(), text_rect.top() + line * 2 + 2)
        snippet = fitted_snippet(result.snippet, option.font.toString(), terms, round(text_rect.width()), SNIPPET_LINES)
        painter.setPen(colours["text"])
        snippet_layout(snippet, option.font, terms, round(text_rect.width())).draw(painter, origin)
        painter.restore()

    def _paint_background(self, painter, option: QStyleOptionViewItem, index) -> None:
        """The native selection and hover background, without the default text."""
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        style = option.widget.style() if option.widget else None
        if style:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, background, painter, option.widget)

    @staticmethod
    def _paint_right_column(painter, font: QFont, result, rect: QRectF, line: float, colours: dict) -> float:
        """Relevance bar and date on the first line, page on the second; returns the width used."""
        metrics = QFontMetricsF(font)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        date_text = display_date(result.modified)
        where = "Sheet" if kind_of(result.path).key == "sheet" else "Page"
        page_text = f"{where} {result.page}" if result.page else ""
        width = max(metrics.horizontalAdvance(date_text), metrics.horizontalAdvance(page_text)) + BAR_W + PADDING * 2
        painter.setPen(colours["dim"])
        painter.drawText(QRectF(rect.right() - width, rect.top(), width, line), right, date_text)
        if page_text:
            painter.drawText(QRectF(rect.right() - width, rect.top() + line, width, line), right, page_text)
        bar_right = rect.right() - metrics.horizontalAdvance(date_text) - PADDING
        bar = QRectF(bar_right - BAR_W, rect.top() + line / 2 - 2.5, BAR_W, 5)
        filled = QRectF(bar.left(), bar.top(), max(5.0, BAR_W * relevance_fraction(result.score)), bar.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours["track"])
        painter.drawRoundedRect(bar, 2.5, 2.5)
        painter.setBrush(colours["bar"])
        painter.drawRoundedRect(filled, 2.5, 2.5)
        return width + PADDING

    @staticmethod
    def _paint_name_and_folder(painter, font: QFont, result, rect: QRectF, line: float, colours: dict) -> None:
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        name_font = QFont(font)
        name_font.setBold(True)
        name = QFontMetricsF(name_font).elidedText(readable_path(Path(result.path).name), Qt.TextElideMode.ElideMiddle,
                                                   rect.width())
        painter.setFont(name_font)
        painter.setPen(colours["text"])
        painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), line), left, name)
        folder = QFontMetricsF(font).elidedText(display_folder(result.path), Qt.TextElideMode.ElideMiddle, rect.width())
        painter.setFont(font)
        painter.setPen(colours["dim"])
        painter.drawText(QRectF(rect.left(), rect.top() + line, rect.width(), line), left, folder)
