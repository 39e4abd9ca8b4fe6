"""Figure of an external dataset's analysis (:func:`glasscam.stages.external.analyse_external`)."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from glasscam.io.atomic import atomic_output  # noqa: E402
from glasscam.io.tables import read_json, read_table  # noqa: E402
from glasscam.plots.legends import legend_below
from glasscam.report.names import readable_name, species_name


def plot_external(correlations_csv, summary_json, out_png, species: str = "all"):
    """Figure: p(class) of every configuration (left) and the Spearman coefficient of each
    uncoarse-grained field with the propensity, with its 95 % bootstrap interval and the
    shuffled-null band (right; a note instead where no propensity exists). Returns the Figure
    (closed after saving)."""
    summary = read_json(summary_json)
    rows = [r for r in read_table(correlations_csv) if r["species"] == species and float(r["coarse_graining"]) == 0.0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained", gridspec_kw={"width_ratios": [1, 2]})
    for cls in summary["class_names"]:
        values = [c[f"p_{cls}"] for c in summary["configurations"]]
        left.hist(values, bins=np.linspace(0, 1, 21), alpha=0.6, label=f"p({cls})")
    left.set_xlabel("classifier probability")
    left.set_ylabel("configurations")
    left.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    legend_below(left, ncol=2, fontsize=8)  # below the panels, off the bars and points
    left.set_title(f"{summary['name']} ({summary['n_configurations']} configurations)")
    rows = [r for r in rows if r["spearman"] != "" and not (isinstance(r["spearman"], float) and math.isnan(r["spearman"]))]
    if rows:
        y = np.arange(len(rows))
        rho = np.array([float(r["spearman"]) for r in rows])
        lo = np.array([float(r["spearman_lo"]) for r in rows])
        hi = np.array([float(r["spearman_hi"]) for r in rows])
        err = np.vstack([np.nan_to_num(rho - lo), np.nan_to_num(hi - rho)])
        right.errorbar(rho, y, xerr=err, fmt="o", color="C0", label="Spearman ρ (95 % bootstrap)")
        null_lo = np.array([float(r["null_spearman_lo"]) for r in rows])
        null_hi = np.array([float(r["null_spearman_hi"]) for r in rows])
        right.barh(y, null_hi - null_lo, left=null_lo, height=0.6, color="0.85", label="shuffled null (95 %)")
        right.set_yticks(y, [readable_name(r["quantity"]) for r in rows])
        right.axvline(0, color="k", lw=0.5)
        right.set_xlabel(f"within-frame correlation with propensity ({species_name(species)})")
        legend_below(right, ncol=2, fontsize=8)
    else:
        right.text(0.5, 0.5, "no propensity in these files\n(replica end points: npz 'positions')", ha="center", va="center")
        right.set_axis_off()
    with atomic_output(out_png) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return fig
