"""Where a figure's legends go: below their panel, under its x label, never over its data.

A legend placed inside an Axes ('best' or a fixed corner) covers whatever data later falls
there — error-bar caps, null boxes, a peak marker; :func:`legend_below` anchors the legend's top
edge a fixed number of points under the Axes' x tick labels and label (not an Axes fraction,
which lands on the label of a short panel), and a constrained layout makes room for it."""

from __future__ import annotations

import matplotlib.font_manager
import matplotlib.transforms

LEGEND_GAP = 4.0  # points between the x label and the legend's top edge


def _text_height(size, lines: int = 1) -> float:
    """Height in points of ``lines`` lines of text of font size ``size`` (≈ 1.2 em each)."""
    return 1.2 * matplotlib.font_manager.FontProperties(size=size).get_size_in_points() * max(lines, 1)


def below_offset(ax) -> float:
    """Points from the bottom of ``ax`` to just under its x tick labels and x label."""
    axis = ax.xaxis
    ticks = axis.get_major_ticks()
    tick = ticks[0] if ticks else None
    lines = max([t.get_text().count("\n") + 1 for t in ax.get_xticklabels()] or [1])  # multi-line tick labels
    tick_size = (tick.get_tick_padding() + tick.get_pad() + _text_height(tick.label1.get_fontsize(), lines)) if tick is not None else 0.0
    label = axis.label
    label_height = _text_height(label.get_fontsize(), label.get_text().count("\n") + 1) if label.get_text() else 0.0
    return tick_size + axis.labelpad + label_height + LEGEND_GAP


def legend_below(ax, **kwargs):
    """``ax.legend(**kwargs)`` centred under ``ax``, its top edge :func:`below_offset` points
    below the Axes (under its tick labels and x label). Returns the Legend."""
    transform = matplotlib.transforms.offset_copy(ax.transAxes, fig=ax.figure, y=-below_offset(ax), units="points")
    kwargs.setdefault("fontsize", 7)
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=transform, **kwargs)
