"""Figures of the simulation stage."""

from __future__ import annotations

from pathlib import Path

import gsd.hoomd
import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from glasscam.io.atomic import atomic_output  # noqa: E402
from glasscam.io.gsd import read_provenance  # noqa: E402


def pressure_unit(dimensions: int) -> str:
    """Unit of the pressure of a d-dimensional Lennard-Jones system: ε/σ³ (3D), ε/σ² (2D)."""
    return {3: "ε/σ³", 2: "ε/σ²"}.get(int(dimensions), f"ε/σ^{int(dimensions)}")


def _thermo(path: str) -> dict[str, np.ndarray]:
    logs = gsd.hoomd.read_log(path)
    with gsd.hoomd.open(path, "r") as traj:
        n = len(traj[0].particles.typeid)
        dimensions = int(traj[0].configuration.dimensions)
    return {
        "dimensions": dimensions,
        "time": logs["log/glasscam/time"].ravel(),
        "temperature": logs["log/glasscam/kinetic_temperature"].ravel(),
        "energy": logs["log/glasscam/potential_energy"].ravel() / n,
        "pressure": logs["log/glasscam/pressure"].ravel(),
    }


def plot_thermodynamics(liquid_paths: list[str], aging_paths: list[str], out_png: str):
    """Kinetic temperature, potential energy per particle U/N (ε) and pressure (ε/σ^d for the
    system's d) of the liquid samples (per temperature; histograms with integer counts) and
    along the aging runs (log time). Returns the Figure (closed after saving)."""
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), constrained_layout=True)
    by_temperature: dict[float, list[dict]] = {}
    dimensions = 3
    for path in liquid_paths:
        by_temperature.setdefault(read_provenance(path)["temperature"], []).append(_thermo(path))
        dimensions = by_temperature[read_provenance(path)["temperature"]][-1]["dimensions"]
    for temperature, series in sorted(by_temperature.items()):
        for k, quantity in enumerate(("temperature", "energy", "pressure")):
            values = np.concatenate([s[quantity] for s in series])
            axes[0, k].hist(values, bins=20, histtype="step", label=f"T = {temperature:g}")
    for path in aging_paths:
        thermo = _thermo(path)
        dimensions = thermo["dimensions"]
        record = read_provenance(path)
        label = f"run {record['run']}" if "run" in record else Path(path).stem
        for k, quantity in enumerate(("temperature", "energy", "pressure")):
            axes[1, k].plot(thermo["time"][1:], thermo[quantity][1:], lw=0.8, alpha=0.7, label=label)
    labels = {"temperature": "kinetic T (ε/k_B)", "energy": "U/N (ε)", "pressure": f"P ({pressure_unit(dimensions)})"}
    for k, quantity in enumerate(("temperature", "energy", "pressure")):
        axes[0, k].set_xlabel(labels[quantity] + " (liquid samples)")
        axes[1, k].set_xlabel("aging time t (τ)")
        axes[1, k].set_ylabel(labels[quantity])
        axes[1, k].set_xscale("log")
    axes[0, 0].legend(fontsize=8, title="liquid samples", title_fontsize=8)
    if aging_paths:
        axes[1, 1].legend(fontsize=7, title="aging, replica 0", title_fontsize=7, ncol=2)
    axes[0, 0].set_ylabel("count (liquid samples)")
    for ax in axes[0]:
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    with atomic_output(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return fig
