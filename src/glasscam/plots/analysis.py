"""Figures of the analysis stage: correlations, aging dynamics, liquid relaxation, Grad-CAM
correlation length."""

from __future__ import annotations

import csv
import json
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..trajectory import atomic_output, per_particle_key, read_logs  # noqa: E402

MOBILITY_MEASURES = ("mobility", "cage_relative", "propensity")
ALL_AGES = "all"  # t_w of the correlation rows pooled over every aging time


def _read_csv(path, field: str | None = None) -> list[dict]:
    """Rows of a tidy CSV with numeric fields converted to float. A correlation table with a
    ``field`` column is restricted to ``field`` (default: its first field, the ReLU Grad-CAM
    map of the positive class)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{path}: no rows")
    if "field" in rows[0]:
        field = field or rows[0]["field"]
        rows = [r for r in rows if r["field"] == field]
    for row in rows:
        for key, value in row.items():
            try:
                row[key] = float(value)
            except (TypeError, ValueError):
                pass
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
        return f"{row['quantity']} Δt={row['window']:g}"
    return row["quantity"] if row["coarse_graining"] == 0 else f"{row['quantity']} L={row['coarse_graining']:g}"


def _yerr(rows: list[dict], key: str) -> np.ndarray:
    centre = np.array([r[key] for r in rows])
    return np.abs(np.array([[r[f"{key}_lo"] for r in rows], [r[f"{key}_hi"] for r in rows]]) - centre)


def plot_correlation_matrix(correlations_csv, out_png) -> None:
    """Spearman ρ(Grad-CAM, quantity) for every quantity (rows) and species (columns);
    cells whose 95 % bootstrap interval overlaps the shuffled-null range are marked; rows pooled
    over every aging time."""
    rows = _pooled_rows(correlations_csv)
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
    ax.set_title("Spearman ρ with Grad-CAM (° : within shuffled null)", fontsize=9)
    fig.colorbar(image, ax=ax, label="ρ")
    _save(fig, out_png)


def plot_gradcam_vs_mobility(gradcam_gsd, mobility_gsd, correlations_csv, out_png, gradcam_key: str | None = None) -> None:
    """Left: per-particle Grad-CAM against mobility |Δr_i| (all particles, pooled samples) at the
    window with the largest |ρ|; right: within-frame Spearman ρ vs Δt for mobility,
    cage-relative displacement and propensity pooled over every aging time (95 % bootstrap
    bars, grey band = shuffled null), and for mobility one thin line per aging time t_w."""
    every_age = [r for r in _read_csv(correlations_csv, gradcam_key) if r["kind"] == "mobility" and r["species"] == "all"]
    gradcam_key = gradcam_key or every_age[0]["field"]
    rows = [r for r in every_age if r["t_w"] == ALL_AGES]
    fig, (scatter_ax, rho_ax) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    finite = [r for r in rows if r["quantity"] == "mobility" and np.isfinite(r["spearman"])]
    if finite:
        best = max(finite, key=lambda r: abs(r["spearman"]))
        key = per_particle_key(f"mobility_dt{best['window']:g}")
        g_key = per_particle_key(gradcam_key)
        x = np.concatenate([np.asarray(log[g_key], float) for log in read_logs(gradcam_gsd)])
        y = np.concatenate([np.asarray(log[key], float) for log in read_logs(mobility_gsd)])
        ok = np.isfinite(x) & np.isfinite(y)
        scatter_ax.hexbin(x[ok], y[ok], gridsize=40, bins="log", cmap="viridis", mincnt=1)
        scatter_ax.set_title(f"Δt = {best['window']:g} τ, ρ = {best['spearman']:.2f}", fontsize=9)
    scatter_ax.set_xlabel(f"Grad-CAM ({gradcam_key})")
    scatter_ax.set_ylabel("mobility |Δr_i| (σ_AA)")
    for measure in MOBILITY_MEASURES:
        sel = sorted((r for r in rows if r["quantity"] == measure and np.isfinite(r["spearman"])), key=lambda r: r["window"])
        if not sel:
            continue
        windows = np.array([r["window"] for r in sel])
        rho_ax.errorbar(windows, [r["spearman"] for r in sel], yerr=_yerr(sel, "spearman"), marker="o", capsize=3, label=measure)
        rho_ax.fill_between(windows, [r["null_spearman_lo"] for r in sel], [r["null_spearman_hi"] for r in sel], color="0.8", alpha=0.5)
    ages = sorted({r["t_w"] for r in every_age if r["t_w"] != ALL_AGES})
    for colour, t_w in zip(plt.cm.viridis(np.linspace(0, 0.9, len(ages))), ages, strict=True):
        sel = sorted((r for r in every_age if r["t_w"] == t_w and r["quantity"] == "mobility" and np.isfinite(r["spearman"])), key=lambda r: r["window"])
        if len(ages) > 1 and sel:
            rho_ax.plot([r["window"] for r in sel], [r["spearman"] for r in sel], lw=0.8, ls="--", color=colour, label=f"mobility, t_w = {t_w:g}")
    rho_ax.axhline(0, color="k", lw=0.5)
    rho_ax.set_xscale("log")
    rho_ax.set_xlabel("window Δt (τ)")
    rho_ax.set_ylabel("Spearman ρ with Grad-CAM")
    rho_ax.legend(fontsize=8)
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
        ax.set_xlabel("coarse-graining radius L (σ_AA)")
    axes[0, 0].set_ylabel("Spearman ρ with Grad-CAM")
    axes[0, -1].legend(fontsize=7)
    _save(fig, out_png)


def plot_aging_dynamics(dynamics_csv, out_png) -> None:
    """MSD(t) (log–log), Fs(q*, t) and χ4(t) (log t) since the quench, per species."""
    rows = [r for r in _read_csv(dynamics_csv) if r["time"] > 0]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), constrained_layout=True)
    for sp in dict.fromkeys(r["species"] for r in rows):
        sel = [r for r in rows if r["species"] == sp]
        t = [r["time"] for r in sel]
        for ax, key in zip(axes, ("msd", "fs", "chi4"), strict=True):
            ax.plot(t, [r[key] for r in sel], marker=".", label=sp)
    if not any(np.isfinite(r["chi4"]) for r in rows):
        axes[2].text(0.5, 0.5, "χ4 needs ≥ 2 trajectories", transform=axes[2].transAxes, ha="center")
    axes[0].set_yscale("log")
    axes[1].axhline(1 / math.e, color="k", lw=0.5, ls="--")
    for ax, label in zip(axes, ("MSD (σ_AA²)", "Fs(q*, t)", "χ4(t)"), strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("time since quench t (τ)")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=8)
    _save(fig, out_png)


def plot_liquid_relaxation(json_path, out_png, species: str = "all") -> None:
    """Equilibrium liquid dynamics of ``species`` at each temperature T: Fs(q*, t) (log t; dashed
    line 1/e), MSD(t) (log–log; dashed 2dDt where D was measured), and τα (Fs = 1/e) with
    1/(q*²D) against 1/T (log scale)."""
    with open(json_path) as fh:
        record = json.load(fh)
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
    fs_ax.set_ylabel("Fs(q*, t)")
    msd_ax.set_yscale("log")
    msd_ax.set_ylabel("MSD (σ_AA²)")
    for ax in (fs_ax, msd_ax):
        ax.set_xscale("log")
        ax.set_xlabel("t (τ)")
    fs_ax.legend(fontsize=8)
    inverse_t = np.array([1 / temperature for temperature, _, _ in entries])
    tau_ax.plot(inverse_t, [data["tau_alpha"] for _, _, data in entries], "o-", label="τα: Fs(q*, τα) = 1/e")
    tau_ax.plot(inverse_t, [data["tau_diffusive"] for _, _, data in entries], "s--", label="1/(q*² D)")
    tau_ax.set_yscale("log")
    tau_ax.set_xlabel("1/T")
    tau_ax.set_ylabel("time (τ)")
    tau_ax.legend(fontsize=8)
    _save(fig, out_png)


def plot_correlation_length(length_json, out_png) -> None:
    """Left: C(r) of the Grad-CAM field with the fit A exp(−r/ξ); right: ξ per group of frames
    (e.g. aging time t_w) with 95 % bootstrap intervals."""
    with open(length_json) as fh:
        record = json.load(fh)
    r = np.asarray(record["r"], float)
    c = np.array([np.nan if v is None else v for v in record["C"]], float)
    fig, (c_ax, xi_ax) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    c_ax.plot(r, c, marker=".", lw=0.8, label="C(r)")
    if np.isfinite(record["xi"]):
        fit_r = r[(r >= record["fit_r_min"]) & (r <= record["fit_r_max"])]
        c_ax.plot(fit_r, record["amplitude"] * np.exp(-fit_r / record["xi"]), "k--", label=f"ξ = {record['xi']:.2f} σ_AA")
    c_ax.axhline(0, color="k", lw=0.5)
    c_ax.set_xlabel("r (σ_AA)")
    c_ax.set_ylabel("C(r)")
    c_ax.legend(fontsize=8)
    groups = [g for g in record.get("groups", []) if np.isfinite(g["xi"])]
    keys = [k for k in (groups[0] if groups else {}) if k.startswith("glasscam/")]
    if groups and keys:
        x = [g[keys[0]] for g in groups]
        xi = np.array([g["xi"] for g in groups])
        err = np.abs(np.array([[g["xi_bootstrap_lo"] for g in groups], [g["xi_bootstrap_hi"] for g in groups]]) - xi)
        xi_ax.errorbar(x, xi, yerr=np.nan_to_num(err), marker="o", capsize=3)
        xi_ax.set_xlabel(keys[0].removeprefix("glasscam/"))
        if min(x) > 0:
            xi_ax.set_xscale("log")
    xi_ax.set_ylabel("ξ (σ_AA)")
    _save(fig, out_png)
