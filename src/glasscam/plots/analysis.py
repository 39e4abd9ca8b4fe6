"""Figures of the analysis stage: correlations, aging dynamics, liquid relaxation, Grad-CAM
correlation length."""

from __future__ import annotations

import math
import textwrap

import matplotlib
import matplotlib.patches
import matplotlib.ticker

from glasscam.core.keys import ALL_AGES

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from glasscam.core.keys import per_particle_key  # noqa: E402
from glasscam.io.atomic import atomic_output  # noqa: E402
from glasscam.io.gsd import read_logs  # noqa: E402
from glasscam.io.tables import (
    read_json,  # noqa: E402
    read_table,  # noqa: E402
)
from glasscam.plots.chance import chance_banner, model_status  # noqa: E402
from glasscam.plots.legends import legend_below
from glasscam.report.names import coarse_graining_name, q_star_text, quantity_name, readable_name, species_name, subject_title

MOBILITY_MEASURES = ("mobility", "cage_relative", "propensity")
# the meaning of a † when the Grad-CAM maps come from a model at chance
AT_CHANCE_DAGGER = ("† here measures the filters of a network at chance (untrained in effect), not learned structure: "
                    "a ρ beyond the null says what such filters respond to")


def _read_csv(path, field: str | None = None) -> list[dict]:
    """Rows of a tidy CSV with numeric fields converted to float. A correlation table with a
    ``field`` column is restricted to ``field`` (default: its first field, the ReLU Grad-CAM
    map of the positive class)."""
    rows = read_table(path)
    if not rows:
        raise ValueError(f"{path}: no rows")
    if "field" in rows[0]:
        field = field or rows[0]["field"]
        rows = [r for r in rows if r["field"] == field]
    return rows


def _save(fig, out_png) -> None:
    with atomic_output(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def _pooled_rows(correlations_csv) -> list[dict]:
    """Correlation rows pooled over every aging time (``t_w`` = all)."""
    return [r for r in _read_csv(correlations_csv) if r["t_w"] == ALL_AGES]


def _yerr(rows: list[dict], key: str) -> np.ndarray:
    centre = np.array([r[key] for r in rows])
    return np.abs(np.array([[r[f"{key}_lo"] for r in rows], [r[f"{key}_hi"] for r in rows]]) - centre)


def _significant(row: dict) -> bool:
    """The 95 % bootstrap interval of ρ lies outside the shuffled-field null range."""
    return bool(row["spearman_lo"] > row["null_spearman_hi"] or row["spearman_hi"] < row["null_spearman_lo"])


def symmetric_limit(values, floor: float = 0.3) -> float:
    """±limit of a diverging colour scale: max |value| rounded up to 0.1, so that |ρ| ≤ 0.5 is not
    washed out by a ±1 scale; at least ``floor`` (0.3), so that a table of |ρ| ≈ 0.05 does not
    look as saturated as a strong correlation."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if len(finite) else floor
    return max(floor, math.ceil(top * 10 - 1e-9) / 10)


def _matrix_block(rows: list[dict], kind: str) -> tuple[list[str], list[tuple[str, float]], np.ndarray, np.ndarray]:
    """Rows: quantities of ``kind``; columns: (species, window Δt or radius R_cg); ρ and the
    significance of each cell."""
    sel = [r for r in rows if r["kind"] == kind]
    second = "window" if kind == "mobility" else "coarse_graining"
    quantities = sorted(dict.fromkeys(r["quantity"] for r in sel))
    species = list(dict.fromkeys(r["species"] for r in sel))
    scales = sorted({float(r[second]) for r in sel if np.isfinite(float(r[second]))})
    columns = [(sp, v) for sp in species for v in scales]
    rho = np.full((len(quantities), len(columns)), np.nan)
    significant = np.zeros_like(rho, dtype=bool)
    for r in sel:
        key = (r["species"], float(r[second]))
        if key in columns:
            i, j = quantities.index(r["quantity"]), columns.index(key)
            rho[i, j] = r["spearman"]
            significant[i, j] = np.isfinite(r["spearman"]) and _significant(r)
    return quantities, columns, rho, significant


def plot_correlation_matrix(correlations_csv, out_png, model_metrics=None):
    """Spearman ρ(Grad-CAM, quantity) pooled over every aging time, in two blocks: dynamics
    (rows: mobility, cage-relative displacement, propensity; columns: species × window Δt) and
    structural indicators (rows: indicator; columns: species × coarse-graining radius R_cg,
    0 = raw). Cells whose 95 % bootstrap interval lies outside the shuffled-null range are
    marked † (as in the README); blank cells have no value. The diverging colour scale spans
    ±max|ρ| (rounded up to 0.1, at least ±0.3). When the model of ``model_metrics`` is at
    chance, the title says what a † then measures (:data:`AT_CHANCE_DAGGER`) and the banner of
    :func:`chance_banner` stands above the matrix. Returns the Figure (closed after saving)."""
    rows = _pooled_rows(correlations_csv)
    blocks = [(kind, *_matrix_block(rows, kind)) for kind in ("mobility", "indicator") if any(r["kind"] == kind for r in rows)]
    limit = symmetric_limit(np.concatenate([b[3].ravel() for b in blocks]) if blocks else [])
    n_columns = max(len(b[2]) for b in blocks)
    heights = [max(len(b[1]), 1) + 1.5 for b in blocks]
    fig, axes = plt.subplots(len(blocks), 1, figsize=(2.5 + 0.8 * n_columns, 1.6 + 0.36 * sum(heights)), constrained_layout=True,
                             height_ratios=heights, squeeze=False)
    image = None
    for ax, (kind, quantities, columns, rho, significant) in zip(axes[:, 0], blocks, strict=True):
        image = ax.imshow(rho, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        for (i, j), value in np.ndenumerate(rho):
            if np.isfinite(value):
                ax.text(j, i, f"{value:.2f}" + ("†" if significant[i, j] else ""), ha="center", va="center", fontsize=7,
                        color="white" if abs(value) > 0.6 * limit else "black")
        scale = (lambda v: f"Δt = {v:g} τ") if kind == "mobility" else coarse_graining_name
        ax.set_xticks(range(len(columns)), [f"{species_name(sp)}\n{scale(v)}" for sp, v in columns], fontsize=7)
        ax.set_yticks(range(len(quantities)), [quantity_name(q) for q in quantities], fontsize=8)
        for boundary in [j + 0.5 for j in range(len(columns) - 1) if columns[j][0] != columns[j + 1][0]]:
            ax.axvline(boundary, color="k", lw=1)
        ax.set_title("dynamics (columns: particles, window Δt)" if kind == "mobility"
                     else "structural indicators (columns: particles, coarse-graining radius R_cg; raw = not coarse-grained)", fontsize=8)
    field = readable_name(rows[0]["field"]) if rows and rows[0].get("field") else "Grad-CAM"
    status = model_status(model_metrics)
    fig.suptitle(f"Spearman ρ with {field}, pooled over t_w\n† : 95 % bootstrap interval outside the shuffled-field null; "
                 "blank: no value" + ("\n" + "\n".join(textwrap.wrap(AT_CHANCE_DAGGER, int(fig.get_figwidth() * 72 / (8 * 0.55))))
                                      if status and status["at_chance"] else ""), fontsize=8)
    fig.colorbar(image, ax=axes[:, 0], label="ρ", shrink=0.8)
    chance_banner(fig, model_metrics)  # the figure derives from this model's Grad-CAM
    _save(fig, out_png)
    return fig


def age_label(realised: float, requested: list[float] | None = None) -> str:
    """'t_w = 3.25 τ (requested 3)': the realised aging time (the frame an age snaps to) and,
    where it differs, the nearest requested one."""
    text = f"t_w = {realised:.3g} τ"
    if requested:
        nearest = min(requested, key=lambda a: abs(a - realised))
        if not np.isclose(nearest, realised, rtol=1e-3, atol=1e-9):
            text += f" (requested {nearest:g})"
    return text


def plot_gradcam_vs_mobility(gradcam_gsd, mobility_gsd, correlations_csv, out_png, gradcam_key: str | None = None,
                             requested_ages: list[float] | None = None, model_metrics=None):
    """Left: per-particle Grad-CAM against mobility |Δr_i| (all particles, pooled samples) at the
    window whose ρ differs most from the shuffled null (largest |ρ| among windows whose 95 %
    interval lies outside the null; if none does, the largest |ρ| and the title says that it is
    within the null); middle: within-frame Spearman ρ vs Δt for mobility, cage-relative
    displacement and propensity pooled over every aging time (95 % bootstrap bars; each
    measure's shuffled-null range as a box of its colour, measures set side by side in Δt so
    boxes do not overlap); right: ρ(mobility) vs Δt per aging time t_w (a sequential colormap;
    realised t_w, the requested age where it differs, from ``requested_ages``).
    Returns the Figure (closed after saving)."""
    every_age = [r for r in _read_csv(correlations_csv, gradcam_key) if r["kind"] == "mobility" and r["species"] == "all"]
    gradcam_key = gradcam_key or every_age[0]["field"]
    rows = [r for r in every_age if r["t_w"] == ALL_AGES]
    fig, (scatter_ax, rho_ax, age_ax) = plt.subplots(1, 3, figsize=(15, 4.4), constrained_layout=True, width_ratios=[1, 1.1, 1.1])
    finite = [r for r in rows if r["quantity"] == "mobility" and np.isfinite(r["spearman"])]
    if finite:
        significant = [r for r in finite if _significant(r)]
        best = max(significant or finite, key=lambda r: abs(r["spearman"]))
        key = per_particle_key(f"mobility_dt{best['window']:g}")
        g_key = per_particle_key(gradcam_key)
        x = np.concatenate([np.asarray(log[g_key], float) for log in read_logs(gradcam_gsd)])
        y = np.concatenate([np.asarray(log[key], float) for log in read_logs(mobility_gsd)])
        ok = np.isfinite(x) & np.isfinite(y)
        hb = scatter_ax.hexbin(x[ok], y[ok], gridsize=40, bins="log", cmap="viridis", mincnt=1)
        fig.colorbar(hb, ax=scatter_ax, label="particles per cell")
        interval = f"ρ = {best['spearman']:.2f} [{best['spearman_lo']:.2f}, {best['spearman_hi']:.2f}]"
        title = (f"all samples pooled, Δt = {best['window']:g} τ (largest significant |ρ|): {interval}" if significant else
                 f"all samples pooled, Δt = {best['window']:g} τ: {interval}\nno mobility window differs from the shuffled null")
        scatter_ax.set_title(title, fontsize=8)
    scatter_ax.set_xlabel(readable_name(gradcam_key))  # not the key 'gradcam_aged'
    scatter_ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))  # 0.0001-step labels ran into each other
    scatter_ax.set_ylabel("mobility |Δr_i| over [t_w, t_w + Δt] (σ)")
    measures = [m for m in MOBILITY_MEASURES if any(r["quantity"] == m and np.isfinite(r["spearman"]) for r in rows)]
    factors = np.exp(0.09 * (np.arange(len(measures)) - (len(measures) - 1) / 2))  # side by side in log Δt
    for colour, factor, measure in zip(plt.cm.tab10(np.arange(len(measures))), factors, measures, strict=True):
        sel = sorted((r for r in rows if r["quantity"] == measure and np.isfinite(r["spearman"])), key=lambda r: r["window"])
        windows = np.array([r["window"] for r in sel]) * factor
        rho_ax.errorbar(windows, [r["spearman"] for r in sel], yerr=_yerr(sel, "spearman"), marker="o", ms=4, capsize=3, color=colour,
                        label=f"{quantity_name(measure)} (95 % bootstrap)")
        for w, r in zip(windows, sel, strict=True):
            rho_ax.add_patch(matplotlib.patches.Rectangle((w * np.exp(-0.035), r["null_spearman_lo"]), w * (np.exp(0.035) - np.exp(-0.035)),
                                                          r["null_spearman_hi"] - r["null_spearman_lo"], facecolor=colour, alpha=0.25,
                                                          edgecolor="none", label="_null"))
    if measures:
        rho_ax.add_patch(matplotlib.patches.Rectangle((0, 0), 0, 0, facecolor="0.5", alpha=0.3, label="shuffled-field null (95 %), per measure"))
    rho_ax.axhline(0, color="k", lw=0.5)
    rho_ax.set_xscale("log")
    rho_ax.set_xlabel("window Δt (τ)")
    rho_ax.set_ylabel("Spearman ρ with Grad-CAM")
    rho_ax.set_title("pooled over every t_w", fontsize=9)
    legend_below(rho_ax)  # inside, 'best' sat on the Δt = 1 null boxes and error-bar caps
    ages = sorted({r["t_w"] for r in every_age if r["t_w"] != ALL_AGES})
    per_age = [(t_w, sorted((r for r in every_age if r["t_w"] == t_w and r["quantity"] == "mobility" and np.isfinite(r["spearman"])),
                            key=lambda r: r["window"])) for t_w in ages]
    per_age = [(t_w, sel) for t_w, sel in per_age if sel]
    for colour, (t_w, sel) in zip(plt.cm.plasma(np.linspace(0, 0.85, max(len(per_age), 1))), per_age, strict=False):
        age_ax.errorbar([r["window"] for r in sel], [r["spearman"] for r in sel], yerr=_yerr(sel, "spearman"), marker="o", ms=4,
                        capsize=2, lw=1, color=colour, label=age_label(t_w, requested_ages))
    if not per_age:
        age_ax.text(0.5, 0.5, "no aging time with a finite ρ", transform=age_ax.transAxes, ha="center")
    age_ax.axhline(0, color="k", lw=0.5)
    age_ax.set_xscale("log")
    age_ax.set_xlabel("window Δt (τ)")
    age_ax.set_title("mobility, per aging time t_w (realised frame time)", fontsize=9)
    if per_age:
        legend_below(age_ax, ncol=2)
    chance_banner(fig, model_metrics)  # the figure derives from this model's Grad-CAM
    _save(fig, out_png)
    return fig


def plot_correlation_vs_coarse_graining(correlations_csv, out_png, model_metrics=None, system: str | None = None, task: str | None = None,
                                        inputs: str | None = None):
    """Within-frame Spearman ρ(Grad-CAM, indicator) pooled over every aging time against the
    coarse-graining radius R_cg (σ; 0 = raw), one panel per species, 95 % bootstrap bars; the
    legend sits below the panels, off the data; the title names the system, the task and the
    input kind of the model (:func:`subject_title`). Returns the Figure (closed after saving)."""
    rows = [r for r in _pooled_rows(correlations_csv) if r["kind"] == "indicator"]
    species = list(dict.fromkeys(r["species"] for r in rows))
    fig, axes = plt.subplots(1, len(species), figsize=(4.5 * len(species), 4.6), layout="constrained", squeeze=False, sharey=True)
    for ax, sp in zip(axes[0], species, strict=True):
        for quantity in dict.fromkeys(r["quantity"] for r in rows):
            sel = sorted((r for r in rows if r["quantity"] == quantity and r["species"] == sp), key=lambda r: r["coarse_graining"])
            ax.errorbar([r["coarse_graining"] for r in sel], [r["spearman"] for r in sel], yerr=_yerr(sel, "spearman"), marker="o",
                        ms=4, capsize=2, label=quantity_name(quantity))
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(species_name(sp), fontsize=9)
        ax.set_xlabel("coarse-graining radius R_cg (σ; 0 = raw)")
    axes[0, 0].set_ylabel("Spearman ρ with Grad-CAM")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 5), fontsize=7)
    fig.suptitle(subject_title("Spearman ρ(Grad-CAM, indicator) pooled over t_w against the coarse-graining radius", system, task, inputs),
                 fontsize=10)
    chance_banner(fig, model_metrics)  # the figure derives from this model's Grad-CAM
    _save(fig, out_png)
    return fig


def _plot_species(rows: list[dict], preferred: str = "A") -> str:
    """The species a one-species figure shows: A (the Kob–Andersen convention) if present, else
    the first one."""
    names = list(dict.fromkeys(r["species"] for r in rows))
    return preferred if preferred in names else names[0]


LOWER_BOUND_NOTE = ("τ(t_w) > t_max: lower bound, Fs still above 1/e at the end of the window t_max = run length − t_w; "
                    "the window shrinks as t_w grows, so a sequence of bounds can fall while τ(t_w) grows")


def plot_aging_dynamics(two_time_csv, summary_json, out_png, species: str = "A"):
    """Two-time functions of the aging runs as in Kob & Barrat, PRL 78, 4581 (1997): Fs(q*;
    t_w + t, t_w), MSD(t_w + t, t_w), Q(t_w + t, t_w; a) and χ4(t_w + t, t_w) against t (log), one
    line per waiting time t_w (sequential colours, realised frame times; τ(t_w) at which Fs
    falls to 1/e in the legend), bands = 95 % interval over independent runs (replicas averaged
    within each run; χ4: bootstrap over runs); and τ(t_w) against t_w (:func:`_plot_tau_of_age`):
    measured values filled, lower bounds (Fs still above 1/e at the end of the run) as open
    markers with an upward arrow at the window length t_max = run length − t_w, drawn as a
    dotted line, so that bounds falling with t_w read as the shrinking window they are
    (:data:`LOWER_BOUND_NOTE`). ``species`` (default A) is named in the title with the system,
    T_G, q* and its source, the cutoff a and the numbers of runs and trajectories. Returns the
    Figure (closed after saving)."""
    rows = [r for r in _read_csv(two_time_csv) if r["time"] > 0]
    summary = read_json(summary_json)
    two = summary["two_time"]
    species = _plot_species(rows, species)
    rows = [r for r in rows if r["species"] == species]
    ages = sorted({r["t_w"] for r in rows})
    tau = {round(e["t_w"], 9): (_finite(e["tau"]), _finite(e.get("t_max"))) for e in two["tau_fs_1e"].get(species, [])}
    fig, grid = plt.subplots(2, 3, figsize=(15, 8.6), layout="constrained", width_ratios=[1, 1, 0.9])
    axes, tau_ax, key_ax = grid[:, :2], grid[0, 2], grid[1, 2]
    for ax in axes.flat[1:]:
        ax.sharex(axes[0, 0])
    panels = (("fs", f"Fs(q*; t_w + t, t_w), q* = {summary['q']:.4g} σ⁻¹"), ("msd", "MSD(t_w + t, t_w) (σ²)"),
              ("overlap", f"Q(t_w + t, t_w; a), a = {summary['a']:g} σ"), ("chi4", "χ4(t_w + t, t_w)"))
    colours = dict(zip(ages, plt.cm.viridis(np.linspace(0, 0.85, len(ages))), strict=True))
    for t_w, colour in colours.items():
        sel = sorted((r for r in rows if r["t_w"] == t_w), key=lambda r: r["time"])
        t = np.array([r["time"] for r in sel])
        value, t_max = tau.get(round(t_w, 9), (float("nan"), float("nan")))
        label = f"t_w = {t_w:.3g} τ" + (f", τ(t_w) = {value:.3g} τ" if np.isfinite(value) else f", τ(t_w) > {t_max:.3g} τ (lower bound)")
        for ax, (key, _) in zip(axes.flat, panels, strict=True):
            y = np.array([r[key] for r in sel])
            ax.plot(t, y, marker=".", ms=4, lw=1.2, color=colour, label=label)
            lo, hi = np.array([r[f"{key}_lo"] for r in sel]), np.array([r[f"{key}_hi"] for r in sel])
            if np.isfinite(lo).any():
                ax.fill_between(t, lo, hi, color=colour, alpha=0.18, lw=0)
    axes[0, 0].axhline(1 / math.e, color="k", lw=0.6, ls="--", label="Fs = 1/e (defines τ(t_w))")
    axes[0, 1].set_yscale("log")
    if not any(np.isfinite(r["chi4"]) for r in rows):
        axes[1, 1].text(0.5, 0.5, "χ4 needs ≥ 2 trajectories", transform=axes[1, 1].transAxes, ha="center")
    for ax, (_, label) in zip(axes.flat, panels, strict=True):
        ax.set_xscale("log")
        ax.set_ylabel(label)
    for ax in axes[1]:
        ax.set_xlabel("time since t_w, t (τ)")
    _plot_tau_of_age(tau_ax, [(t_w, *tau[round(t_w, 9)]) for t_w in ages if round(t_w, 9) in tau], colours, species)
    key_ax.axis("off")  # the keys of both: the waiting times, then τ(t_w)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    waiting = key_ax.legend(handles, labels, loc="upper center", fontsize=7, title=f"{species} particles; waiting time t_w "
                            "(realised frame time) and τ(t_w)", title_fontsize=7)
    key_ax.add_artist(waiting)
    handles, labels = tau_ax.get_legend_handles_labels()
    if handles:
        key_ax.legend(handles, ["\n".join(textwrap.wrap(label, 58)) for label in labels], loc="lower center", fontsize=7,
                      title="τ(t_w) against t_w (above)", title_fontsize=7)
    system = summary.get("system") or "aging runs"
    temperature = summary.get("temperature")
    state = f" at T_G = {temperature:g} ε/k_B" if temperature is not None else ""
    fig.suptitle(
        f"{system}: aging after the quench{state} — two-time functions C(t_w + t, t_w), {species} particles\n"
        f"{q_star_text(summary['q'], summary.get('q_source', '?'))}; overlap cutoff a = {summary['a']:g} σ\n"
        f"{two['n_runs']} independent runs, {two['n_trajectories']} trajectories; bands: {100 * two['confidence']:g} % interval over runs "
        "(replicas averaged within a run; χ4: bootstrap over runs)",
        fontsize=9,
    )
    _save(fig, out_png)
    return fig


def _plot_tau_of_age(ax, entries: list[tuple[float, float, float]], colours: dict, species: str) -> None:
    """τ(t_w) against t_w from (t_w, τ or NaN, t_max) entries: measured τ as filled markers
    (joined), a τ that Fs did not reach within the window as an open marker at t_max with an
    upward arrow (a lower bound), and the window length t_max(t_w) as a dotted line — every
    lower bound sits on it. t_w on a symmetric-log axis (t_w = 0 included), τ on a log axis."""
    if not entries:
        ax.text(0.5, 0.5, f"no τ(t_w) for {species}", transform=ax.transAxes, ha="center")
        return
    t_w, value, t_max = (np.array(column, float) for column in zip(*entries, strict=True))
    measured, bound = np.isfinite(value), ~np.isfinite(value) & np.isfinite(t_max)
    window = np.isfinite(t_max)
    ax.plot(t_w[window], t_max[window], ":", color="0.5", lw=1, label="window t_max = run length − t_w: the longest τ(t_w) it can measure")
    if measured.any():
        ax.plot(t_w[measured], value[measured], "-", color="0.4", lw=0.8, zorder=1, label="_joined")
        ax.scatter(t_w[measured], value[measured], c=[colours[a] for a in t_w[measured]], s=36, zorder=3, label="_measured")
        ax.plot([], [], "o", color="0.3", label="τ(t_w): Fs(q*; t_w + τ, t_w) = 1/e")
    if bound.any():
        ax.plot(t_w[bound], t_max[bound], "o", mfc="white", mec="k", ms=7, zorder=3, label=LOWER_BOUND_NOTE)
        for x, y in zip(t_w[bound], t_max[bound], strict=True):
            ax.annotate("", xy=(x, y * 1.8), xytext=(x, y), zorder=2, arrowprops={"arrowstyle": "->", "color": "k", "lw": 1})
    ax.set_xscale("symlog", linthresh=max(float(np.min(t_w[t_w > 0])) if (t_w > 0).any() else 1.0, 1e-6))
    ax.set_yscale("log")
    top = np.nanmax(np.concatenate([value[measured], t_max[bound] * 1.8, t_max[window]]))
    bottom = np.nanmin(np.concatenate([value[measured], t_max[window]]))
    ax.set_ylim(bottom / 2, top * 1.5)
    ax.set_xlabel("waiting time t_w (τ; realised frame time)")
    ax.set_ylabel(f"τ(t_w) of {species} particles (τ)")
def _finite(value) -> float:
    """A JSON number that may be null or NaN, as a float (NaN for null)."""
    return float("nan") if value is None else float(value)


def plot_liquid_relaxation(json_path, out_png, species: str = "A"):
    """Equilibrium liquid dynamics of ``species`` (default A: the Kob–Andersen convention) at
    each temperature T, with q* (σ⁻¹) and its source in the title: Fs(q*, t) (log t; dashed line
    1/e), MSD(t) (log–log; dashed: the fit MSD = 2dDt over its fitted range, D in the legend,
    where D was measured), τα (Fs = 1/e) with 1/(q*²D) (where D was measured) against 1/T (log
    scale), and D(T) of every species whose D was measured against 1/T (or why there is none);
    points joined only when there are more than two. Every line is in a legend, and every legend
    sits below its panel, off the data. Returns the Figure (closed after saving)."""
    record = read_json(json_path)
    entries = [(t["temperature"], t["q"], t["species"][species]) for t in record["temperatures"] if species in t["species"]]
    if not entries:
        raise ValueError(f"{json_path}: no temperature has species {species!r}")
    fig, (fs_ax, msd_ax, tau_ax, d_ax) = plt.subplots(1, 4, figsize=(18, 5.2), constrained_layout=True)
    dimensions = record.get("dimensions")
    for colour, (temperature, _, data) in zip(plt.cm.coolwarm(np.linspace(0, 1, len(entries))), entries, strict=True):
        t = np.asarray(data["time"], float)
        fs_ax.plot(t, data["fs"], marker=".", color=colour, label=f"T = {temperature:g}")
        msd_ax.plot(t, data["msd"], marker=".", color=colour, label=f"T = {temperature:g}")
        D = _finite(data.get("D"))
        if np.isfinite(D) and dimensions:
            fit_t = t[t >= _finite(data.get("fit_t_min"))]
            msd_ax.plot(fit_t, 2 * dimensions * D * fit_t, "--", color=colour, lw=0.8,
                        label=f"fit MSD = 2dDt, T = {temperature:g}: D = {D:.3g} σ²/τ")
    fs_ax.axhline(1 / math.e, color="k", lw=0.5, ls="--", label="Fs = 1/e (defines τα)")
    fs_ax.set_ylabel(f"Fs(q*, t), {species} particles")
    msd_ax.set_yscale("log")
    msd_ax.set_ylabel(f"MSD of {species} particles (σ²)")
    for ax in (fs_ax, msd_ax):
        ax.set_xscale("log")
        ax.set_xlabel("t (τ)")
    inverse_t = np.array([1 / temperature for temperature, _, _ in entries])
    tau = np.array([_finite(data["tau_alpha"]) for _, _, data in entries])
    joined = np.isfinite(tau).sum() > 2  # a line through two points suggests a trend they cannot show
    tau_ax.plot(inverse_t, tau, "o-" if joined else "o", label=f"τα ({species}): Fs(q*, τα) = 1/e")
    for x, value in zip(inverse_t, tau, strict=True):
        if np.isfinite(value):
            tau_ax.annotate(f"{value:.3g} τ", (x, value), textcoords="offset points", xytext=(5, -10), fontsize=7)
    diffusive = np.array([_finite(data.get("tau_diffusive")) for _, _, data in entries])
    if np.isfinite(diffusive).any():
        tau_ax.plot(inverse_t, diffusive, "s--" if np.isfinite(diffusive).sum() > 2 else "s", label=f"1/(q*² D) ({species}, where D measured)")
    tau_ax.set_yscale("log")
    tau_ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.3g"))
    tau_ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%.3g"))
    tau_ax.tick_params(axis="y", which="minor", labelsize=7)
    tau_ax.margins(x=0.2, y=0.15)
    tau_ax.set_xlabel("1/T (T in ε/k_B)")
    tau_ax.set_ylabel("time (τ)")
    _plot_diffusion(d_ax, record)
    for ax in (fs_ax, msd_ax, tau_ax, d_ax):
        if ax.get_legend_handles_labels()[0]:  # below the panel, off the data
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    qs = sorted({round(float(q), 9) for _, q, _ in entries})
    sources = {t.get("q_source") for t in record["temperatures"] if species in t["species"]}
    source = sources.pop() if len(sources) == 1 else None
    q_text = q_star_text(qs[0], source) if len(qs) == 1 else "q* = " + ", ".join(f"{q:.4g}" for q in qs) + " σ⁻¹ (per T)"
    fig.suptitle(f"equilibrium liquid, {species} particles — {q_text}", fontsize=9)
    _save(fig, out_png)
    return fig


def _plot_diffusion(ax, record: dict) -> None:
    """D(T) against 1/T (log D) of every species of the liquid relaxation ``record`` whose D was
    measured at some temperature; a note where none was (the MSD never reached its diffusive
    regime within the runs)."""
    temperatures = record["temperatures"]
    names = list(dict.fromkeys(name for t in temperatures for name in t["species"]))
    drawn = 0
    for k, name in enumerate(names):
        points = [(1 / t["temperature"], _finite(t["species"][name].get("D"))) for t in temperatures if name in t["species"]]
        points = [(x, D) for x, D in points if np.isfinite(D) and D > 0]
        if not points:
            continue
        x, D = np.array(points).T
        ax.plot(x, D, "o-" if len(points) > 2 else "o", color=f"C{k}", label=f"D ({name} particles)")
        for xi, Di in points:
            ax.annotate(f"{Di:.3g}", (xi, Di), textcoords="offset points", xytext=(5, -10), fontsize=7)
        drawn += 1
    missing = [f"{name} particles" for name in names if not any(np.isfinite(_finite(t["species"].get(name, {}).get("D"))) for t in temperatures)]
    if drawn:
        ax.set_yscale("log")  # matplotlib's log labels: minor ticks labelled only on a short range
        ax.margins(x=0.2, y=0.15)
    if missing:
        ax.text(0.5, 0.97 if drawn else 0.5, f"no D for {', '.join(missing)}:\nMSD not diffusive within the run", transform=ax.transAxes,
                ha="center", va="top" if drawn else "center", fontsize=7, color="0.3")
    ax.set_xlabel("1/T (T in ε/k_B)")
    ax.set_ylabel("self-diffusion coefficient D (σ²/τ)")


def plot_correlation_length(length_json, out_png, requested_ages: list[float] | None = None, model_metrics=None,
                            system: str | None = None, task: str | None = None, inputs: str | None = None):
    """Left: C(r) of the standardised Grad-CAM field (all glass samples) with the fit
    A exp(−r/ξ) drawn only over the fitted range where C(r) has data, ξ and its bootstrap 95 %
    interval in the legend; right: ξ per aging time t_w (realised frame times; requested ages
    shown where they differ) with bootstrap 95 % intervals. The title names the system, the task
    and the input kind of the model (:func:`~glasscam.report.names.subject_title`). Returns the Figure (closed after saving)."""
    record = read_json(length_json)
    r = np.asarray(record["r"], float)
    c = np.array([np.nan if v is None else v for v in record["C"]], float)
    fig, (c_ax, xi_ax) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    c_ax.plot(r, c, marker=".", lw=0.8, label=f"C(r), {record['n_frames']} glass samples")
    if np.isfinite(record["xi"]):
        has_data = np.isfinite(c) & (np.asarray(record.get("pair_counts", np.ones_like(r)), float) > 0)
        start = record.get("fit_r_start", record["fit_r_min"])  # the fit starts at the peak of C(r)
        start = start if np.isfinite(start) else record["fit_r_min"]
        fit_r = r[(r >= start) & (r <= record["fit_r_max"]) & has_data]
        lo, hi = record.get("xi_bootstrap_lo", np.nan), record.get("xi_bootstrap_hi", np.nan)
        interval = f" [{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) and np.isfinite(hi) else ""
        if len(fit_r):
            fit_r = np.linspace(fit_r.min(), fit_r.max(), 100)
            label = (f"fit A exp(−r/ξ): ξ = {record['xi']:.2f}{interval} σ (bootstrap 95 %)"
                     if record.get("reliable", True) else f"fit flagged, not quoted: {record.get('flag')}")
            c_ax.plot(fit_r, record["amplitude"] * np.exp(-fit_r / record["xi"]), "k--" if record.get("reliable", True) else "r:",
                      label=label)
    c_ax.axhline(0, color="k", lw=0.5)
    c_ax.set_xlabel("r (σ)")
    c_ax.set_ylabel("C(r) of the Grad-CAM field")
    legend_below(c_ax)  # inside, it touched the C(r) peak marker
    groups = [g for g in record.get("groups", []) if np.isfinite(g["xi"]) and g.get("reliable", True)]
    keys = [k for k in (groups[0] if groups else {}) if k.startswith("glasscam/")]
    if groups and keys:
        x = np.array([g[keys[0]] for g in groups], float)
        xi = np.array([g["xi"] for g in groups])
        err = np.abs(np.array([[g["xi_bootstrap_lo"] for g in groups], [g["xi_bootstrap_hi"] for g in groups]]) - xi)
        positions = np.arange(len(x))  # categorical axis: one slot per aging time, labels never overprint
        xi_ax.errorbar(positions, xi, yerr=np.nan_to_num(err), marker="o", capsize=3, label="ξ per t_w (bootstrap 95 %)")
        if keys[0] == "glasscam/time":
            labels = [age_label(v, requested_ages).removeprefix("t_w = ").replace(" (requested ", "\n(req. ") for v in x]
            xi_ax.set_xlabel("aging time t_w of the glass samples (τ; realised frame time)")
        else:
            labels = [f"{v:.3g}" for v in x]
            xi_ax.set_xlabel(keys[0].removeprefix("glasscam/"))
        xi_ax.set_xticks(positions, labels, fontsize=7)
        legend_below(xi_ax)
    else:  # no empty 0–1 axes: say why there is no ξ per t_w
        every = [g for g in record.get("groups", []) if np.isfinite(g.get("xi", np.nan))]
        flags = [g.get("flag") for g in every if not g.get("reliable", True) and g.get("flag")]
        why = (f"no reliable ξ per t_w: the fits of all {len(every)} groups are flagged" + (f"\n(e.g. {flags[0]})" if flags else "")
               if every else "no group with a finite ξ")
        xi_ax.text(0.5, 0.5, why, transform=xi_ax.transAxes, ha="center", va="center", fontsize=8)
        xi_ax.set_xticks([])
        xi_ax.set_yticks([])
    xi_ax.set_ylabel("ξ (σ)")
    fig.suptitle(subject_title("spatial correlation C(r) of the Grad-CAM field (ReLU map, last conv block) and its length ξ",
                               system, task, inputs), fontsize=10)
    chance_banner(fig, model_metrics)  # the figure derives from this model's Grad-CAM
    _save(fig, out_png)
    return fig
