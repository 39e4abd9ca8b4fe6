"""The banner of a figure drawn from a model at chance: Grad-CAM maps of a classifier whose test
accuracy is not above its majority rate (glasscam.analysis.statistics.chance_status) show no
learned structure, and whatever is computed from them must say so on the figure itself."""

from __future__ import annotations

import textwrap

from glasscam.analysis.statistics import chance_status
from glasscam.io.tables import read_json


def model_status(metrics_json) -> dict | None:
    """:func:`chance_status` of the classifier whose ``metrics.json`` is given (None: no file given)."""
    if metrics_json is None:
        return None
    return chance_status(read_json(metrics_json)["confusion_matrix"])


def chance_banner(fig, metrics_json) -> dict | None:
    """Draw, across the middle of ``fig``, a red banner with the at-chance warning and its numbers
    if the model of ``metrics_json`` is at chance; returns the model's status (None: no file)."""
    status = model_status(metrics_json)
    if status and status["at_chance"]:
        # wrapped to the figure's width (≈ 0.6 em per character), never clipped by it
        width = max(20, int(fig.get_figwidth() * 72 / (11 * 0.62)))
        headline, numbers = status["warning"].split(" (", 1)
        text = "\n".join(textwrap.wrap(headline, width) + textwrap.wrap("(" + numbers, width))
        fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, color="white", weight="bold", zorder=10,
                 bbox={"boxstyle": "round,pad=0.6", "facecolor": "#c00000", "alpha": 0.85, "edgecolor": "none"})
    return status
