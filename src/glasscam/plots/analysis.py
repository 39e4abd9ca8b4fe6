"""Figures of the analysis stage: correlations, aging dynamics, liquid relaxation, Grad-CAM
correlation length."""

from __future__ import annotations

import math

import matplotlib
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

MOBILITY_MEASURES = ("mobility", "cage_relative", "propensity")


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


def _label(row: dict) -> str:
    if row["kind"] == "mobility":
        return f"{row['quantity']} Δt={row['window']:g} τ"
    return row["quantity"] if row["coarse_graining"] == 0 else f"{row['quantity']} L={row['coarse_graining']:g}"


def _yerr(rows: list[dict], key: str) -> np.ndarray:
    centre = np.array([r[key] for r in rows])
    return np.abs(np.array([[r[f"{key}_lo"] for r in rows], [r[f"{key}_hi"] for r in rows]]) - centre)


def _row_order(row: dict) -> tuple:
    """Rows of the matrix: dynamics first (by measure, then window), then indicators (by name,
    then coarse-graining radius numerically)."""
    kind = 0 if row["kind"] == "mobility" else 1
    second = row["window"] if kind == 0 else row["coarse_graining"]
    return (kind, row["quantity"], second if isinstance(second, float) and np.isfinite(second) else -1.0)


def plot_correlation_matrix(correlations_csv, out_png) -> None:
    """Spearman ρ(Grad-CAM, quantity) for every quantity (rows: dynamics by window, then
    indicators by coarse-graining radius) and species (columns); cells whose 95 % bootstrap
    interval overlaps the shuffled-null range are marked °, blank cells have no value (e.g.
    propensity where no iso-configurational replicas exist for that species); rows pooled over
    every aging time."""
    rows = sorted(_pooled_rows(correlations_csv), key=_row_order)
    species = list(dict.fromkeys(r["species"] for r in rows))
    labels = list(dict.fromkeys(_label(r) for r in rows))
    rho = np.full((len(labels), len(species)), np.nan)
    insignificant = np.zeros_like(rho, dtype=bool)
    for r in rows:
        i, j = labels.index(_label(r)), species.index(r["species"])
        rho[i, j] = r["spearman"]
        insignificant[i, j] = not (r["spearman_lo"] > r["null_spearman_hi"] or r["spearman_hi"] < r["null_spearman_lo"])
    fig, ax = plt.subplots(figsize=(2.5 + 1.2 * len(species), 1.5 + 0.28 * len(labels)), constrained_layout=True)
    image = ax.imshow(rho, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for i in range(len(labels)):
        for j in range(len(species)):
            if np.isfinite(rho[i, j]):
                ax.text(j, i, f"{rho[i, j]:.2f}" + ("" if not insignificant[i, j] else "°"), ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(species)), species)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    field = f" ({rows[0]['field']})" if rows and rows[0].get("field") else ""
    ax.set_title(f"Spearman ρ with Grad-CAM{field}, pooled over t_w\n° : 95 % interval overlaps the shuffled null; blank: no value", fontsize=8)
    ax.set_xlabel("species")
    fig.colorbar(image, ax=ax, label="ρ")
    _save(fig, out_png)


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
                             requested_ages: list[float] | None = None) -> None:
    """Left: per-particle Grad-CAM against mobility |Δr_i| (all particles, pooled samples) at the
    window with the largest |ρ|; right: within-frame Spearman ρ vs Δt for mobility,
    cage-relative displacement and propensity pooled over every aging time (95 % bootstrap
    bars, grey band = shuffled null), and for mobility one thin line per aging time t_w
    (realised t_w: ages snap to the nearest stored frame; the requested age is shown where it
    differs, from ``requested_ages``)."""
    every_age = [r for r in _read_csv(correlations_csv, gradcam_key) if r["kind"] == "mobility" and r["species"] == "all"]
    gradcam_key = gradcam_key or every_age[0]["field"]
    rows = [r for r in every_age if r["t_w"] == ALL_AGES]
    fig, (scatter_ax, rho_ax) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True, width_ratios=[1, 1.3])
    finite = [r for r in rows if r["quantity"] == "mobility" and np.isfinite(r["spearman"])]
    if finite:
        best = max(finite, key=lambda r: abs(r["spearman"]))
        key = per_particle_key(f"mobility_dt{best['window']:g}")
        g_key = per_particle_key(gradcam_key)
        x = np.concatenate([np.asarray(log[g_key], float) for log in read_logs(gradcam_gsd)])
        y = np.concatenate([np.asarray(log[key], float) for log in read_logs(mobility_gsd)])
        ok = np.isfinite(x) & np.isfinite(y)
        hb = scatter_ax.hexbin(x[ok], y[ok], gridsize=40, bins="log", cmap="viridis", mincnt=1)
        fig.colorbar(hb, ax=scatter_ax, label="particles per cell")
        scatter_ax.set_title(f"all samples pooled, Δt = {best['window']:g} τ (largest |ρ|): ρ = {best['spearman']:.2f}", fontsize=9)
    scatter_ax.set_xlabel(f"Grad-CAM ({gradcam_key})")
    scatter_ax.set_ylabel("mobility |Δr_i| over [t_w, t_w + Δt] (σ)")
    null_drawn = False
    for measure in MOBILITY_MEASURES:
        sel = sorted((r for r in rows if r["quantity"] == measure and np.isfinite(r["spearman"])), key=lambda r: r["window"])
        if not sel:
            continue
        windows = np.array([r["window"] for r in sel])
        rho_ax.errorbar(windows, [r["spearman"] for r in sel], yerr=_yerr(sel, "spearman"), marker="o", capsize=3,
                        label=f"{measure}, all t_w (95 % bootstrap)")
        rho_ax.fill_between(windows, [r["null_spearman_lo"] for r in sel], [r["null_spearman_hi"] for r in sel], color="0.8",
                            alpha=0.5, label=None if null_drawn else "shuffled-field null (95 %)")
        null_drawn = True
    ages = sorted({r["t_w"] for r in every_age if r["t_w"] != ALL_AGES})
    for colour, t_w in zip(plt.cm.viridis(np.linspace(0, 0.9, len(ages))), ages, strict=True):
        sel = sorted((r for r in every_age if r["t_w"] == t_w and r["quantity"] == "mobility" and np.isfinite(r["spearman"])), key=lambda r: r["window"])
        if len(ages) > 1 and sel:
            rho_ax.plot([r["window"] for r in sel], [r["spearman"] for r in sel], lw=0.8, ls="--", color=colour,
                        label=f"mobility, {age_label(t_w, requested_ages)}")
    rho_ax.axhline(0, color="k", lw=0.5)
    rho_ax.set_xscale("log")
    rho_ax.set_xlabel("window Δt (τ)")
    rho_ax.set_ylabel("Spearman ρ with Grad-CAM")
    rho_ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), title="t_w: realised (frames)", title_fontsize=7)
    _save(fig, out_png)


def plot_correlation_vs_coarse_graining(correlations_csv, out_png) -> None:
    """Within-frame Spearman ρ(Grad-CAM, indicator) pooled over every aging time against
    coarse-graining radius L (L = 0: raw), one panel per species, 95 % bootstrap bars."""
    rows = [r for r in _pooled_rows(correlations_csv) if r["kind"] == "indicator"]
    species = list(dict.fromkeys(r["species"] for r in rows))
    fig, axes = plt.subplots(1, len(species), figsize=(4.5 * len(species), 4), constrained_layout=True, squeeze=False)
    for ax, sp in zip(axes[0], species, strict=True):
        for quantity in dict.fromkeys(r["quantity"] for r in rows):
            sel = sorted((r for r in rows if r["quantity"] == quantity and r["species"] == sp), key=lambda r: r["coarse_graining"])
            ax.errorbar([r["coarse_graining"] for r in sel], [r["spearman"] for r in sel], yerr=_yerr(sel, "spearman"), marker="o", capsize=2, label=quantity)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(f"species {sp}", fontsize=9)
        ax.set_xlabel("coarse-graining radius L (σ)")
    axes[0, 0].set_ylabel("Spearman ρ with Grad-CAM")
    axes[0, -1].legend(fontsize=7)
    _save(fig, out_png)


def _plot_species(rows: list[dict], preferred: str = "A") -> str:
    """The species a one-species figure shows: A (the Kob–Andersen convention) if present, else
    the first one."""
    names = list(dict.fromkeys(r["species"] for r in rows))
    return preferred if preferred in names else names[0]


def plot_aging_dynamics(two_time_csv, summary_json, out_png, species: str = "A"):
    """Two-time functions of the aging runs as in Kob & Barrat, PRL 78, 4581 (1997): Fs(q*;
    t_w + t, t_w), MSD(t_w + t, t_w), Q(t_w + t, t_w; a) and χ4(t_w + t, t_w) against t (log), one
    line per waiting time t_w (sequential colours, realised frame times; τ(t_w) at which Fs
    falls to 1/e in the legend), bands = 95 % interval over independent runs (replicas averaged
    within each run; χ4: bootstrap over runs). ``species`` (default A) is named in the title
    with the system, T_G, q* and its source, the cutoff a and the numbers of runs and
    trajectories. Returns the Figure (closed after saving)."""
    rows = [r for r in _read_csv(two_time_csv) if r["time"] > 0]
    summary = read_json(summary_json)
    two = summary["two_time"]
    species = _plot_species(rows, species)
    rows = [r for r in rows if r["species"] == species]
    ages = sorted({r["t_w"] for r in rows})
    tau = {round(e["t_w"], 9): e["tau"] for e in two["tau_fs_1e"].get(species, [])}
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True, sharex=True)
    panels = (("fs", f"Fs(q*; t_w + t, t_w), q* = {summary['q']:.3g} σ⁻¹"), ("msd", "MSD(t_w + t, t_w) (σ²)"),
              ("overlap", f"Q(t_w + t, t_w; a), a = {summary['a']:g} σ"), ("chi4", "χ4(t_w + t, t_w)"))
    for colour, t_w in zip(plt.cm.viridis(np.linspace(0, 0.85, len(ages))), ages, strict=True):
        sel = sorted((r for r in rows if r["t_w"] == t_w), key=lambda r: r["time"])
        t = np.array([r["time"] for r in sel])
        value = tau.get(round(t_w, 9), float("nan"))
        label = f"t_w = {t_w:.3g} τ" + (f", τ(t_w) = {value:.3g} τ" if np.isfinite(value) else ", Fs > 1/e to the end")
        for ax, (key, _) in zip(axes.flat, panels, strict=True):
            y = np.array([r[key] for r in sel])
            ax.plot(t, y, marker=".", ms=4, lw=1.2, color=colour, label=label)
            lo, hi = np.array([r[f"{key}_lo"] for r in sel]), np.array([r[f"{key}_hi"] for r in sel])
            if np.isfinite(lo).any():
                ax.fill_between(t, lo, hi, color=colour, alpha=0.18, lw=0)
    axes[0, 0].axhline(1 / math.e, color="k", lw=0.6, ls="--")
    axes[0, 0].text(0.02, 1 / math.e, " 1/e", transform=axes[0, 0].get_yaxis_transform(), va="bottom", fontsize=7)
    axes[0, 1].set_yscale("log")
    if not any(np.isfinite(r["chi4"]) for r in rows):
        axes[1, 1].text(0.5, 0.5, "χ4 needs ≥ 2 trajectories", transform=axes[1, 1].transAxes, ha="center")
    for ax, (_, label) in zip(axes.flat, panels, strict=True):
        ax.set_xscale("log")
        ax.set_ylabel(label)
    for ax in axes[1]:
        ax.set_xlabel("time since t_w, t (τ)")
    axes[0, 0].legend(fontsize=7, title=f"{species} particles", title_fontsize=7, loc="lower left")
    system = summary.get("system") or "aging runs"
    temperature = summary.get("temperature")
    state = f" at T_G = {temperature:g} ε/k_B" if temperature is not None else ""
    fig.suptitle(
        f"{system}: aging after the quench{state} — two-time functions C(t_w + t, t_w), {species} particles\n"
        f"q* = {summary['q']:.4g} σ⁻¹ ({summary.get('q_source', '?')}); overlap cutoff a = {summary['a']:g} σ\n"
        f"{two['n_runs']} independent runs, {two['n_trajectories']} trajectories; bands: {100 * two['confidence']:g} % interval over runs "
        "(replicas averaged within a run; χ4: bootstrap over runs)",
        fontsize=9,
    )
    _save(fig, out_png)
    return fig


def plot_liquid_relaxation(json_path, out_png, species: str = "A") -> None:
    """Equilibrium liquid dynamics of ``species`` (default A: the Kob–Andersen convention) at
    each temperature T: Fs(q*, t) (log t; dashed line 1/e), MSD(t) (log–log; dashed 2dDt where D
    was measured), and τα (Fs = 1/e) with 1/(q*²D) (where D was measured) against 1/T (log
    scale); the species is named in every panel."""
    record = read_json(json_path)
    entries = [(t["temperature"], t["q"], t["species"][species]) for t in record["temperatures"] if species in t["species"]]
    if not entries:
        raise ValueError(f"{json_path}: no temperature has species {species!r}")
    fig, (fs_ax, msd_ax, tau_ax) = plt.subplots(1, 3, figsize=(14, 4), constrained_layout=True)
    dimensions = record.get("dimensions")
    for colour, (temperature, _, data) in zip(plt.cm.coolwarm(np.linspace(0, 1, len(entries))), entries, strict=True):
        t = np.asarray(data["time"], float)
        fs_ax.plot(t, data["fs"], marker=".", color=colour, label=f"T = {temperature:g}")
        msd_ax.plot(t, data["msd"], marker=".", color=colour)
        if np.isfinite(data["D"]) and dimensions:
            fit_t = t[t >= data["fit_t_min"]]
            msd_ax.plot(fit_t, 2 * dimensions * data["D"] * fit_t, "--", color=colour, lw=0.8)
    fs_ax.axhline(1 / math.e, color="k", lw=0.5, ls="--")
    fs_ax.set_ylabel(f"Fs(q*, t), {species} particles")
    msd_ax.set_yscale("log")
    msd_ax.set_ylabel(f"MSD of {species} particles (σ²)")
    for ax in (fs_ax, msd_ax):
        ax.set_xscale("log")
        ax.set_xlabel("t (τ)")
    fs_ax.legend(fontsize=8)
    inverse_t = np.array([1 / temperature for temperature, _, _ in entries])
    tau = np.array([data["tau_alpha"] for _, _, data in entries], float)
    tau_ax.plot(inverse_t, tau, "o-", label=f"τα ({species}): Fs(q*, τα) = 1/e")
    for x, value in zip(inverse_t, tau, strict=True):
        if np.isfinite(value):
            tau_ax.annotate(f"{value:.3g} τ", (x, value), textcoords="offset points", xytext=(5, -10), fontsize=7)
    diffusive = np.array([data["tau_diffusive"] for _, _, data in entries], float)
    if np.isfinite(diffusive).any():
        tau_ax.plot(inverse_t, diffusive, "s--", label=f"1/(q*² D) ({species}, where D measured)")
    tau_ax.set_yscale("log")
    tau_ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.3g"))
    tau_ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%.3g"))
    tau_ax.tick_params(axis="y", which="minor", labelsize=7)
    tau_ax.margins(x=0.2, y=0.15)
    tau_ax.set_xlabel("1/T (T in ε/k_B)")
    tau_ax.set_ylabel("time (τ)")
    fig.suptitle(f"equilibrium liquid, {species} particles", fontsize=9)
    tau_ax.legend(fontsize=8)
    _save(fig, out_png)


def plot_correlation_length(length_json, out_png, requested_ages: list[float] | None = None) -> None:
    """Left: C(r) of the standardised Grad-CAM field (all glass samples) with the fit
    A exp(−r/ξ) drawn only over the fitted range where C(r) has data, ξ and its bootstrap 95 %
    interval in the legend; right: ξ per aging time t_w (realised frame times; requested ages
    shown where they differ) with bootstrap 95 % intervals."""
    record = read_json(length_json)
    r = np.asarray(record["r"], float)
    c = np.array([np.nan if v is None else v for v in record["C"]], float)
    fig, (c_ax, xi_ax) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    c_ax.plot(r, c, marker=".", lw=0.8, label=f"C(r), {record['n_frames']} glass samples")
    if np.isfinite(record["xi"]):
        has_data = np.isfinite(c) & (np.asarray(record.get("pair_counts", np.ones_like(r)), float) > 0)
        fit_r = r[(r >= record["fit_r_min"]) & (r <= record["fit_r_max"]) & has_data]
        lo, hi = record.get("xi_bootstrap_lo", np.nan), record.get("xi_bootstrap_hi", np.nan)
        interval = f" [{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) and np.isfinite(hi) else ""
        if len(fit_r):
            fit_r = np.linspace(fit_r.min(), fit_r.max(), 100)
            c_ax.plot(fit_r, record["amplitude"] * np.exp(-fit_r / record["xi"]), "k--",
                      label=f"fit A exp(−r/ξ): ξ = {record['xi']:.2f}{interval} σ (bootstrap 95 %)")
    c_ax.axhline(0, color="k", lw=0.5)
    c_ax.set_xlabel("r (σ)")
    c_ax.set_ylabel("C(r) of the Grad-CAM field")
    c_ax.legend(fontsize=7)
    groups = [g for g in record.get("groups", []) if np.isfinite(g["xi"])]
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
        xi_ax.legend(fontsize=7)
    else:
        xi_ax.text(0.5, 0.5, "no group with a finite ξ", transform=xi_ax.transAxes, ha="center")
    xi_ax.set_ylabel("ξ (σ)")
    _save(fig, out_png)
