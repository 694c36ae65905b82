"""Bar charts of the web statistics (R30), drawn on the server as SVG.

No script and no inline style (the back office's CSP forbids both): each bar is
an SVG ``<rect>`` whose position and size are SVG attributes, coloured by the
``bar`` class of the admin stylesheet. The same rows are shown as a table under
each chart, so nothing is only in the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Width of every chart's viewBox; the SVG scales to its column.
WIDTH = 600
#: Horizontal charts: width of the label column, height of a row.
LABEL_WIDTH = 230
ROW_HEIGHT = 26
#: Vertical charts: height of the bars' area (the tallest bar leaves HEADROOM above it)
#: and of the axis labels under it.
PLOT_HEIGHT = 160
HEADROOM = 8
AXIS_HEIGHT = 22
#: Longest label drawn in a horizontal chart (the table has it whole).
LABEL_CHARS = 34


@dataclass(frozen=True)
class Bar:
    #: The label as drawn (a long one shortened) and whole (for the table and tooltip).
    label: str
    full_label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    #: Where the label (vertical charts: only every few bars) and the value are drawn.
    label_x: float
    label_y: float
    value_x: float
    value_y: float
    show_label: bool
    #: How the label sits on its x: "middle", or "start"/"end" at the chart's edges.
    anchor: str = "end"


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    empty: bool

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def horizontal(rows: Sequence[tuple[str, int]]) -> Chart:
    """One bar per row, label on the left and value after the bar: pages, searches, devices."""
    top = max((value for _label, value in rows), default=0)
    plot = WIDTH - LABEL_WIDTH - 60  # room for the value after the longest bar
    bars = []
    for i, (label, value) in enumerate(rows):
        length = plot * value / top if top else 0.0
        y = i * ROW_HEIGHT + 4
        bars.append(Bar(
            label=_short(label), full_label=label, value=value, x=LABEL_WIDTH, y=y,
            width=round(length, 1), height=ROW_HEIGHT - 8,
            label_x=LABEL_WIDTH - 8, label_y=y + ROW_HEIGHT / 2,
            value_x=round(LABEL_WIDTH + length + 6, 1), value_y=y + ROW_HEIGHT / 2,
            show_label=True,
        ))
    return Chart(bars=bars, width=WIDTH, height=max(len(rows), 1) * ROW_HEIGHT,
                 empty=top == 0)


def vertical(rows: Sequence[tuple[str, int]], *, label_every: int = 1,
             full_labels: Sequence[str] | None = None) -> Chart:
    """One column per row over time (days, hours); every ``label_every``-th is labelled.

    ``full_labels`` (one per row) name the rows in the table and tooltips when the
    axis shows a short form ("4. nov." on the axis, "4. november" in the table).
    """
    top = max((value for _label, value in rows), default=0)
    slot = WIDTH / max(len(rows), 1)
    gap = min(slot * 0.2, 4)
    bars = []
    for i, (label, value) in enumerate(rows):
        height = (PLOT_HEIGHT - HEADROOM) * value / top if top else 0.0
        x = i * slot + gap / 2
        centre = i * slot + slot / 2
        anchor = "start" if centre < 40 else "end" if centre > WIDTH - 40 else "middle"
        bars.append(Bar(
            label=label, full_label=full_labels[i] if full_labels else label, value=value,
            x=round(x, 2),
            y=round(PLOT_HEIGHT - height, 2), width=round(slot - gap, 2), height=round(height, 2),
            label_x=round({"start": x, "middle": centre, "end": x + slot - gap}[anchor], 2),
            label_y=PLOT_HEIGHT + 16,
            value_x=round(i * slot + slot / 2, 2), value_y=round(PLOT_HEIGHT - height - 4, 2),
            show_label=i % label_every == 0, anchor=anchor,
        ))
    return Chart(bars=bars, width=WIDTH, height=PLOT_HEIGHT + AXIS_HEIGHT, empty=top == 0)
