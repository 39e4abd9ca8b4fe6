"""Figures of the analysis stage: correlations, aging dynamics, Grad-CAM correlation length."""

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


def _read_csv(path) -> list[dict]:
    """Rows of a tidy CSV with numeric fields converted to float."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{path}: no rows")
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


def _label(row: dict) -> str:
    if row["kind"] == "mobility":
        return f"{row['quantity']} Δt={row['window']:g}"
    return row["quantity"] if row["coarse_graining"] == 0 else f"{row['quantity']} L={row['coarse_graining']:g}"


def _yerr(rows: list[dict], key: str) -> np.ndarray:
    centre = np.array([r[key] for r in rows])
    return np.abs(np.array([[r[f"{key}_lo"] for r in rows], [r[f"{key}_hi"] for r in rows]]) - centre)


def plot_correlation_matrix(correlations_csv, out_png) -> None:
    """Spearman ρ(Grad-CAM, quantity) for every quantity (rows) and species (columns);
    cells whose 95 % bootstrap interval overlaps the shuffled-null range are hatched."""
    rows = _read_csv(correlations_csv)
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


def plot_gradcam_vs_mobility(gradcam_gsd, mobility_gsd, correlations_csv, out_png, gradcam_key: str = "gradcam_glass") -> None:
    """Left: per-particle Grad-CAM against mobility |Δr_i| (all particles, pooled samples) at the
    window with the largest |ρ|; right: Spearman ρ vs Δt for mobility, cage-relative
    displacement and propensity (95 % bootstrap bars, grey band = shuffled null)."""
    rows = [r for r in _read_csv(correlations_csv) if r["kind"] == "mobility" and r["species"] == "all"]
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
    rho_ax.axhline(0, color="k", lw=0.5)
    rho_ax.set_xscale("log")
    rho_ax.set_xlabel("window Δt (τ)")
    rho_ax.set_ylabel("Spearman ρ with Grad-CAM")
    rho_ax.legend(fontsize=8)
    _save(fig, out_png)


def plot_correlation_vs_coarse_graining(correlations_csv, out_png) -> None:
    """Spearman ρ(Grad-CAM, indicator) against coarse-graining radius L (L = 0: raw), one panel
    per species, 95 % bootstrap bars."""
    rows = [r for r in _read_csv(correlations_csv) if r["kind"] == "indicator"]
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
