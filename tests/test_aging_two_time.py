"""Two-time aging functions C(t_w + t, t_w) (Kob & Barrat, PRL 78, 4581 (1997)) against planted
truth: Brownian particles (MSD = 2dDt at every t_w), mobility decaying with age (slower decorrelation
at larger t_w), intervals over independent runs (replicas are not independent)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_dynamics import make_state

from glasscam.analysis.heterogeneity import chi4_over_runs
from glasscam.analysis.relaxation import (
    TWO_TIME_COLUMNS,
    two_time_dynamics,
    waiting_time_frames,
)
from glasscam.analysis.statistics import run_mean_interval
from glasscam.io.gsd import write_states
from glasscam.io.tables import read_table
from glasscam.stages.dynamics import compute_aging_dynamics

TIMES = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 70.0, 100.0])
AGES = [0, 1, 3, 10, 30]


def walk(rng, n, d, diffusion, box_length=12.0):
    """Paths with increments of variance 2 D(t) δt per component; ``diffusion(t)`` at the
    interval's start (Brownian when constant)."""
    start = rng.uniform(-box_length / 2, box_length / 2, (n, d))
    steps = np.diff(TIMES)
    scale = np.sqrt(2 * np.array([diffusion(t) for t in TIMES[:-1]]) * steps)
    increments = rng.normal(size=(len(steps), n, d)) * scale[:, None, None]
    paths = start + np.concatenate([np.zeros((1, n, d)), np.cumsum(increments, axis=0)])
    return [make_state(p, box_length, d, t) for p, t in zip(paths, TIMES, strict=True)]


def rows_of(rows, species="all", t_w=None):
    return [r for r in rows if r["species"] == species and (t_w is None or r["t_w"] == t_w)]


@pytest.mark.parametrize("d", [2, 3])
def test_brownian_two_time_msd_is_2dDt_at_every_waiting_time(d):
    rng = np.random.default_rng(d)
    diffusion = 0.02
    trajectories = [(run, walk(rng, 1500, d, lambda t: diffusion)) for run in range(4)]
    rows, summary = two_time_dynamics(trajectories, q=2.0, a=0.3, ages=AGES)
    assert summary["t_w"] == [0.0, 1.0, 3.0, 10.0, 30.0] and summary["n_runs"] == 4
    for t_w in summary["t_w"]:
        sel = [r for r in rows_of(rows, t_w=t_w) if r["time"] > 0]
        t = np.array([r["time"] for r in sel])
        msd = np.array([r["msd"] for r in sel])
        np.testing.assert_allclose(msd, 2 * d * diffusion * t, rtol=0.06)
        assert all(r["msd_lo"] < r["msd"] < r["msd_hi"] for r in sel)
    assert set(TWO_TIME_COLUMNS) == set(rows[0])


def test_mobility_decaying_with_age_decorrelates_slower_at_larger_waiting_time():
    rng = np.random.default_rng(11)
    trajectories = [(run, walk(rng, 1000, 3, lambda t: 0.01 / (1 + t))) for run in range(3)]
    rows, summary = two_time_dynamics(trajectories, q=7.0, a=0.3, ages=[0, 3, 10])

    def fs_at(t_w, t):  # lags differ between waiting times: interpolate in ln t
        sel = [r for r in rows_of(rows, t_w=t_w) if r["time"] > 0]
        return np.interp(np.log(t), np.log([r["time"] for r in sel]), [r["fs"] for r in sel])

    for t in (5.0, 20.0):  # same lag t, later t_w: less decorrelation
        assert fs_at(0.0, t) < fs_at(3.0, t) < fs_at(10.0, t)
    tau = [e["tau"] for e in summary["tau_fs_1e"]["all"]]
    assert tau[0] < tau[1] < tau[2]  # τ(t_w) grows with the age
    assert [e["t_max"] for e in summary["tau_fs_1e"]["all"]] == [100.0, 97.0, 90.0]


def test_run_intervals_ignore_replica_duplication_and_shrink_with_runs():
    rng = np.random.default_rng(5)
    # runs differ by their own diffusion constant: a run-to-run spread the interval must see
    runs = [(run, walk(rng, 300, 3, lambda t, D=rng.uniform(0.01, 0.03): D)) for run in range(16)]
    once, _ = two_time_dynamics(runs[:4], q=7.0, a=0.3, ages=[0, 10])
    twice, summary = two_time_dynamics([r for r in runs[:4] for _ in range(3)], q=7.0, a=0.3, ages=[0, 10])
    assert summary["n_runs"] == 4 and summary["n_trajectories"] == 12
    for a, b in zip(once, twice, strict=True):
        for key in ("msd", "msd_lo", "msd_hi", "fs", "fs_lo", "fs_hi", "chi4", "chi4_lo", "chi4_hi"):
            assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-12, nan_ok=True), key
        assert b["n_runs"] == 4 and b["n_trajectories"] == 3 * a["n_trajectories"]
    many, _ = two_time_dynamics(runs, q=7.0, a=0.3, ages=[0, 10])

    def width(rows):
        sel = [r for r in rows_of(rows, t_w=10.0) if r["time"] > 0]
        return np.mean([r["msd_hi"] - r["msd_lo"] for r in sel])

    assert width(many) < 0.6 * width(once)  # ∝ t_{n−1}/√n: 4 → 16 runs narrows ≈ 3.5-fold


def test_run_mean_interval_averages_replicas_first():
    mean, lo, hi, n = run_mean_interval({0: [1.0, 1.0, 1.0, 1.0], 1: [3.0]})
    assert (mean, n) == (2.0, 2) and lo < 2.0 < hi
    assert np.isnan(run_mean_interval({0: [1.0, 5.0]})[1])


def test_chi4_over_runs_recovers_binomial_variance():
    """Independent particles immobile with probability p: χ4 = N var(Q) = p(1 − p)."""
    rng = np.random.default_rng(3)
    n, p = 400, 0.3
    by_run = {run: list(rng.binomial(n, p, size=2) / n) for run in range(200)}
    value, lo, hi = chi4_over_runs(by_run, n)
    assert value == pytest.approx(p * (1 - p), rel=0.15) and lo < p * (1 - p) < hi
    single = chi4_over_runs({0: [0.2, 0.4]}, n)
    assert np.isfinite(single[0]) and np.isnan(single[1])


def test_waiting_time_frames_skip_unresolved_ages():
    frames, missing = waiting_time_frames([0.0, 1.0, 10.0, 100.0], [0, 1, 3, 10, 300])
    assert frames == {0.0: 0, 1.0: 1, 10.0: 2} and missing == [3.0, 300.0]


def test_stage_writes_two_time_table_with_liquid_q_and_figure(tmp_path):
    from glasscam.plots.analysis import plot_aging_dynamics

    rng = np.random.default_rng(9)
    paths = []
    for run in range(3):
        states = walk(rng, 200, 3, lambda t: 0.05 / (1 + t))
        for replica in range(2):
            path = tmp_path / f"run{run}_rep{replica}.gsd"
            write_states(path, states, {"run": run, "replica": replica, "system": "toy3d", "temperature": 0.4, "stage": "aging"})
            paths.append(path)
    liquid = tmp_path / "liquid.json"
    liquid.write_text(json.dumps({"temperatures": [{"temperature": 0.8, "q": 6.5, "q_source": "first peak of S(k)"},
                                                   {"temperature": 1.0, "q": 6.5, "q_source": "first peak of S(k)"}]}))
    compute_aging_dynamics(aging_paths=paths, out_csv=tmp_path / "aging_dynamics.csv", a=0.3, ages=[0, 1, 10], liquid_json=liquid)
    record = json.loads((tmp_path / "aging_dynamics.json").read_text())
    assert record["q"] == 6.5 and "T_L = 0.8" in record["q_source"] and record["tau_alpha"] is None
    assert "tau_fs_1e_from_quench" in record["tau_alpha_note"]  # the old key names the new one, holds no number
    assert set(record["tau_fs_1e_from_quench"]) >= {"all", "A"}
    assert record["system"] == "toy3d" and record["temperature"] == 0.4
    assert record["two_time"]["n_runs"] == 3 and record["two_time"]["n_trajectories"] == 6
    table = read_table(tmp_path / "aging_two_time.csv")
    assert {r["t_w"] for r in table} == {0.0, 1.0, 10.0} and all(r["n_runs"] == 3 for r in table)
    fig = plot_aging_dynamics(tmp_path / "aging_two_time.csv", tmp_path / "aging_dynamics.json", tmp_path / "aging.png")
    title = fig._suptitle.get_text()
    assert "toy3d" in title and "T_G = 0.4" in title and "a = 0.3 σ" in title and "q* = 6.5 σ⁻¹" in title and "T_L = 0.8" in title
    # one flat source in one pair of parentheses, not '(liquid at T_L = 0.8 (first peak of S(k); liquid.json))'
    assert record["q_source"] == "first peak of S(k) of the liquid at T_L = 0.8, liquid.json"
    assert "q* = 6.5 σ⁻¹ (first peak of S(k) of the liquid at T_L = 0.8, liquid.json);" in title
    lines = [line for line in fig.axes[0].get_lines() if line.get_label().startswith("t_w")]
    assert len(lines) == 3 and len({tuple(line.get_color()) for line in lines}) == 3
    assert (tmp_path / "aging.png").read_bytes()[:4] == b"\x89PNG"


def test_liquid_relaxation_uses_one_q_from_the_lowest_temperature(tmp_path):
    from glasscam.stages.dynamics import compute_liquid_relaxation

    rng = np.random.default_rng(2)
    paths = []
    for temperature, spacing in ((1.0, 1.2), (0.5, 1.0)):  # different lattices: different S(k) peaks
        n_side = 6
        grid = spacing * (np.array(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij")).reshape(3, -1).T - n_side / 2)
        states = [make_state(grid + rng.normal(0, 0.02, grid.shape), spacing * n_side, 3, t) for t in (0.0, 1.0, 2.0)]
        paths.append(tmp_path / f"T{temperature}.gsd")
        write_states(paths[-1], states, {"temperature": temperature})
    compute_liquid_relaxation(trajectory_paths=paths, out_json=tmp_path / "liquid.json")
    entries = json.loads((tmp_path / "liquid.json").read_text())["temperatures"]
    assert [e["temperature"] for e in entries] == [0.5, 1.0]
    assert entries[0]["q"] == entries[1]["q"]
    assert entries[0]["q"] in (pytest.approx(2 * np.pi, abs=0.1), pytest.approx(2 * np.pi * np.sqrt(2), abs=0.1))  # spacing-1 lattice (T = 0.5)
    assert all("lowest T_L = 0.5" in e["q_source"] for e in entries)


def test_findings_name_the_quench_time_and_list_tau_of_each_waiting_time():
    from glasscam.report.findings import aging_findings

    record = {"q": 7.4, "n_trajectories": 8, "tau_fs_1e_from_quench": {"A": 5.25},
              "two_time": {"n_runs": 4, "tau_fs_1e": {"A": [{"t_w": 0.0, "tau": 5.25, "t_max": 100.0},
                                                            {"t_w": 10.2, "tau": float("nan"), "t_max": 89.8}]}}}
    text = " ".join(aging_findings("ka3d", record)["sentences"])
    assert "not an equilibrium τα" in text and "t_w = 0 τ: 5.25 τ" in text and "t_w = 10.2 τ: > 89.8 τ" in text and "4 independent runs" in text
    assert aging_findings("ka3d", {"q": 7.4, "tau_alpha": {"A": 5.0}}) is None  # the old key is not read as a relaxation time
