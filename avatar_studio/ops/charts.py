"""Geometry for the dashboard's small SVG charts, drawn by the template: no JavaScript, no build.

Functions here only do arithmetic on plain numbers, so the template stays free of maths and the
labels stay escaped by Django's autoescaping.
"""

from dataclasses import dataclass

ROW_HEIGHT = 22
BAR_HEIGHT = 14
LABEL_WIDTH = 120
BAR_SPACE = 200
VALUE_SPACE = 50


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: float
    css_class: str = ""

    @property
    def text_y(self):
        return self.y + BAR_HEIGHT - 3

    @property
    def value_x(self):
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True)
class BarChart:
    bars: list
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(rows):
    """Horizontal bars for ``(label, value, css_class)`` rows, scaled to the largest value."""
    largest = max((value for _label, value, _css in rows), default=0) or 1
    bars = [
        Bar(label, value, index * ROW_HEIGHT + 4, BAR_SPACE * value / largest, css_class)
        for index, (label, value, css_class) in enumerate(rows)
    ]
    return BarChart(bars, LABEL_WIDTH + BAR_SPACE + VALUE_SPACE, len(rows) * ROW_HEIGHT + 4)


COLUMN_WIDTH = 36
COLUMN_GAP = 14
PLOT_HEIGHT = 110
AXIS_SPACE = 34  # below the plot: the day labels
TOP_SPACE = 16  # above the tallest column: its total


@dataclass(frozen=True)
class Column:
    label: str
    x: int
    # Each part is (css class, value, y, height), stacked bottom up.
    parts: list
    total: int
    top: float

    @property
    def middle(self):
        return self.x + COLUMN_WIDTH / 2


@dataclass(frozen=True)
class ColumnChart:
    columns: list
    width: int
    height: int
    baseline: int
    column_width: int = COLUMN_WIDTH


def stacked_columns(days):
    """One column per ``(label, [(css class, value), ...])``, parts stacked from the bottom."""
    largest = max((sum(value for _css, value in parts) for _label, parts in days), default=0) or 1
    baseline = TOP_SPACE + PLOT_HEIGHT
    columns = []
    for index, (label, parts) in enumerate(days):
        x = COLUMN_GAP + index * (COLUMN_WIDTH + COLUMN_GAP)
        y = float(baseline)
        drawn = []
        for css_class, value in parts:
            height = PLOT_HEIGHT * value / largest
            y -= height
            drawn.append((css_class, value, y, height))
        total = sum(value for _css, value in parts)
        columns.append(Column(label, x, drawn, total, y))
    width = COLUMN_GAP + len(days) * (COLUMN_WIDTH + COLUMN_GAP)
    return ColumnChart(columns, width, baseline + AXIS_SPACE, baseline)
