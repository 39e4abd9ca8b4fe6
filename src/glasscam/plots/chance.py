"""The banner of a figure drawn from a model at chance: Grad-CAM maps of a classifier whose test
accuracy is not above its majority rate (glasscam.analysis.statistics.chance_status) show no
learned structure, and whatever is computed from them must say so on the figure itself.

The banner sits in a band added at the top of the figure (the figure grows by the banner's
height; the layout keeps the rest of it where it was, less the strip its suptitle moved out of), under the figure's title if it has one:
never over an Axes, a colour bar or a title."""

from __future__ import annotations

import textwrap

from matplotlib.layout_engine import ConstrainedLayoutEngine

from glasscam.analysis.statistics import chance_status
from glasscam.io.tables import read_json

BANNER_FONTSIZE = 11
BANNER_PAD = 0.6  # the red box's padding around the text, in font sizes
BANNER_GAP = 6.0  # points between the banner and the title above it / the layout below it
BANNER_LABEL = "chance banner"  # the banner Text's gid, to find it on a figure


def model_status(metrics_json) -> dict | None:
    """:func:`chance_status` of the classifier whose ``metrics.json`` is given (None: no file given)."""
    if metrics_json is None:
        return None
    return chance_status(read_json(metrics_json)["confusion_matrix"])


def banner_text(fig, warning: str) -> str:
    """The at-chance warning wrapped to the width of ``fig`` (≈ 0.62 em per character), never
    clipped by it: the headline, then its numbers in parentheses."""
    width = max(20, int(fig.get_figwidth() * 72 / (BANNER_FONTSIZE * 0.62)))
    headline, numbers = warning.split(" (", 1)
    return "\n".join(textwrap.wrap(headline, width) + textwrap.wrap("(" + numbers, width))


def _title_height(fig, renderer) -> float:
    """Height (inches) of the figure's suptitle, 0 without one."""
    title = fig._suptitle
    if title is None or not title.get_text() or not title.get_in_layout():
        return 0.0
    return title.get_window_extent(renderer).height / fig.dpi


def chance_banner(fig, metrics_json) -> dict | None:
    """If the model of ``metrics_json`` is at chance, draw a red banner with the at-chance
    warning and its numbers in a band added at the top of ``fig``, under its suptitle (moved
    into the band): the figure grows by the band's height and a constrained layout is confined
    below the band (a figure without a layout engine has its Axes kept where they were instead),
    so the banner covers no Axes, colour bar or title. Call it after the figure's suptitle is
    set. Returns the model's status (None: no file)."""
    status = model_status(metrics_json)
    if status and status["at_chance"]:
        draw_banner(fig, status["warning"])
    return status


def draw_banner(fig, warning: str) -> None:
    """Draw the red at-chance banner with ``warning`` (a headline, then its numbers in
    parentheses) in a band added at the top of ``fig``, as :func:`chance_banner` does."""
    text = fig.text(0.5, 1.0, banner_text(fig, warning), ha="center", va="top", fontsize=BANNER_FONTSIZE,
                    color="white", weight="bold", zorder=10, gid=BANNER_LABEL,
                    bbox={"boxstyle": f"round,pad={BANNER_PAD}", "facecolor": "#c00000", "alpha": 0.85, "edgecolor": "none"})
    text.set_in_layout(False)  # placed here, in its own band
    renderer = fig.canvas.get_renderer()
    pad = BANNER_PAD * BANNER_FONTSIZE / 72  # inches
    gap = BANNER_GAP / 72
    banner = text.get_window_extent(renderer).height / fig.dpi + 2 * pad  # the box, not only its text
    title = _title_height(fig, renderer)
    band = banner + 2 * gap + (title + gap if title else 0.0)  # [gap, suptitle, gap,] banner, gap
    old_height = fig.get_figheight()
    engine = fig.get_layout_engine()
    constrained = isinstance(engine, ConstrainedLayoutEngine)
    # a constrained layout gave the suptitle its own strip, which the suptitle leaves for the band:
    # the figure grows by the banner only, else that strip stayed a blank band under the banner
    height = old_height + (banner + 2 * gap if constrained else band)
    positions = [(ax, ax.get_position()) for ax in fig.axes]
    fig.set_figheight(height)
    if constrained:
        engine.set(rect=(0, 0, 1, (height - band) / height))  # the layout keeps the old figure's inches, less the title's strip
    else:  # no layout engine: every Axes stays where it was, in inches from the bottom
        for ax, box in positions:
            ax.set_position([box.x0, box.y0 * old_height / height, box.width, box.height * old_height / height])
    if title:  # the suptitle moves into the band, above the banner; the layout no longer places it
        fig._suptitle.set_in_layout(False)
        fig._suptitle.set_y(1 - gap / height)
        fig._suptitle.set_verticalalignment("top")
    top = height - gap - (title + gap if title else 0.0)  # inches from the bottom
    text.set_y((top - pad) / height)  # the text's top edge, its box pad above it
