"""Figure tests: each figure built from small synthetic inputs and its matplotlib objects inspected
(legend off the data, significance marks and colour scale, null bands, t_w colours, readable
names, units of the system's d, integer count ticks, flat-map colour bars, two-point τα)."""

from __future__ import annotations

import inspect
import itertools
import json
import re

import h5py
import matplotlib.collections
import matplotlib.colors
import matplotlib.legend
import matplotlib.lines
import matplotlib.patches
import matplotlib.ticker
import numpy as np
import pytest
from conftest import write_snapshot_inputs
from matplotlib.backends.backend_agg import FigureCanvasAgg

import glasscam.plots.analysis
import glasscam.plots.external
import glasscam.plots.learning
import glasscam.plots.simulation
import glasscam.plots.snapshots
from glasscam.analysis.relaxation import TWO_TIME_COLUMNS
from glasscam.analysis.structure import INDICATORS_2D, INDICATORS_3D
from glasscam.core.keys import per_particle_key
from glasscam.core.state import State
from glasscam.io.datasets import write_gradcam_maps
from glasscam.io.gsd import write_states
from glasscam.io.tables import write_table
from glasscam.plots.analysis import (
    plot_aging_dynamics,
    plot_correlation_length,
    plot_correlation_matrix,
    plot_correlation_vs_coarse_graining,
    plot_gradcam_vs_mobility,
    plot_liquid_relaxation,
    symmetric_limit,
)
from glasscam.plots.chance import BANNER_LABEL
from glasscam.plots.external import plot_external
from glasscam.plots.learning import (
    HISTOGRAM_COLUMNS,
    plot_baselines,
    plot_classifier_inputs,
    plot_gradcam_histogram,
    plot_gradcam_maps,
    plot_learning_curve,
    plot_search,
    plot_training_curves,
)
from glasscam.plots.simulation import plot_thermodynamics, pressure_unit
from glasscam.plots.snapshots import SLAB_THICKNESS, plot_snapshots
from glasscam.report.names import (
    QUANTITY_NAMES,
    coarse_graining_name,
    hyperparameter_text,
    q_star_text,
    readable_name,
    species_name,
)

COLUMNS = ["field", "quantity", "kind", "coarse_graining", "window", "species", "t_w", "n_samples", "n_zero_maps", "n_particles",
           "pearson", "pearson_lo", "pearson_hi", "spearman", "spearman_lo", "spearman_hi", "null_spearman_mean", "null_spearman_lo",
           "null_spearman_hi"]
INDICATORS = ["icosahedral", "local_density", "potential_energy", "q4", "q6", "q6_avg", "voronoi_neighbors", "voronoi_volume", "w6"]
MEASURES = ["mobility", "cage_relative", "propensity"]
WINDOWS = [1.0, 10.0, 50.0]
AGES = [1.035, 3.245, 10.2, 46.7]


def _row(quantity, kind, species, t_w, rho, cg=0.0, window=float("nan"), half=0.03, null=0.03):
    return {"field": "gradcam_glass", "quantity": quantity, "kind": kind, "coarse_graining": cg, "window": window, "species": species,
            "t_w": t_w, "n_samples": 8, "n_zero_maps": 0, "n_particles": 800, "pearson": rho, "pearson_lo": rho - half,
            "pearson_hi": rho + half, "spearman": rho, "spearman_lo": rho - half, "spearman_hi": rho + half, "null_spearman_mean": 0.0,
            "null_spearman_lo": -null, "null_spearman_hi": null}


@pytest.fixture
def correlations(tmp_path):
    """A correlations table shaped like the pipeline's: |ρ| ≤ 0.45, some cells inside the null."""
    return _correlations_table(tmp_path)


def _correlations_table(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for species in ("all", "A", "B"):
        for quantity, cg in itertools.product(INDICATORS, (0.0, 1.0, 2.0, 3.0)):
            rows.append(_row(quantity, "indicator", species, "all", float(rng.uniform(-0.45, 0.45)), cg=cg))
        for quantity, window in itertools.product(MEASURES, WINDOWS):
            rows.append(_row(quantity, "mobility", species, "all", float(rng.uniform(-0.1, 0.1)), window=window))
            for t_w in AGES:
                rows.append(_row(quantity, "mobility", species, str(t_w), float(rng.uniform(-0.1, 0.1)), window=window))
    path = tmp_path / "correlations.csv"
    write_table(path, rows, COLUMNS)
    return path, rows


def _drawn_points(ax):
    points = []
    for line in ax.get_lines():
        xy = line.get_xydata()
        if len(xy):
            points.append(ax.transData.transform(xy))
    return np.concatenate(points) if points else np.zeros((0, 2))


def test_coarse_graining_legend_does_not_cover_data_and_radius_is_not_L(correlations, tmp_path):
    path, _ = correlations
    fig = plot_correlation_vs_coarse_graining(path, tmp_path / "cg.png")
    fig.canvas.draw()
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert legends
    for legend in legends:
        box = legend.get_window_extent()
        for ax in fig.axes:
            points = _drawn_points(ax)
            inside = (points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)
            assert not inside.any(), f"legend covers {inside.sum()} data points of {ax.get_title()}"
    for ax in fig.axes:
        assert "R_cg" in ax.get_xlabel() and " L " not in ax.get_xlabel() + " "


def test_correlation_matrix_marks_significant_cells_and_scales_colours(correlations, tmp_path):
    path, rows = correlations
    fig = plot_correlation_matrix(path, tmp_path / "matrix.png")
    pooled = [r for r in rows if r["t_w"] == "all"]
    significant = sum(abs(r["spearman"]) - 0.03 > 0.03 for r in pooled)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert sum(t.endswith("†") for t in texts) == significant > 0
    assert not any("°" in t for t in texts)
    images = [im for ax in fig.axes for im in ax.get_images()]
    limit = max(abs(r["spearman"]) for r in pooled)
    for image in images:
        lo, hi = image.get_clim()
        assert lo == -hi and limit <= hi <= 0.5  # |ρ| ≤ 0.45 spans most of the scale, not a fifth of ±1
    for ax in fig.axes:
        if ax.get_images():
            assert len(ax.get_yticks()) <= 12  # readable rows: quantities only, scales as columns
    assert symmetric_limit([0.05, -0.31]) == pytest.approx(0.4) and symmetric_limit([0.05]) == symmetric_limit([np.nan]) == 0.3


def _mobility_inputs(tmp_path, n=100, frames=4, gradcam_scale=1.0):
    rng = np.random.default_rng(3)
    states, g_logs, m_logs = [], [], []
    for k in range(frames):
        positions = rng.uniform(-2.5, 2.5, (n, 3))
        states.append(State(positions, np.zeros((n, 3), int), np.zeros((n, 3)), np.zeros(n, int), ["A", "B"], np.ones(n), 5.0, 3, 0, float(k)))
        g_logs.append({per_particle_key("gradcam_glass"): gradcam_scale * rng.random(n)})
        m_logs.append({per_particle_key(f"mobility_dt{w:g}"): rng.random(n) for w in WINDOWS})
    write_states(tmp_path / "g.gsd", states, {}, g_logs)
    write_states(tmp_path / "m.gsd", states, {}, m_logs)
    return tmp_path / "g.gsd", tmp_path / "m.gsd"


def test_gradcam_vs_mobility_null_boxes_colours_legend_and_null_title(correlations, tmp_path):
    path, rows = correlations
    for r in rows:  # a null result: every mobility ρ inside its null range
        if r["kind"] == "mobility":
            r.update(spearman=0.01, spearman_lo=-0.02, spearman_hi=0.04)
        if r["kind"] == "mobility" and r["t_w"] == str(AGES[-1]) and r["window"] != 1.0:
            r.update(spearman=float("nan"))  # the oldest t_w resolves one window only
    write_table(path, rows, COLUMNS)
    fig = plot_gradcam_vs_mobility(*_mobility_inputs(tmp_path), path, tmp_path / "mob.png")
    scatter_ax, rho_ax, age_ax = fig.axes[:3]
    assert "largest" not in scatter_ax.get_title() and "null" in scatter_ax.get_title()
    boxes = [p for p in rho_ax.patches if isinstance(p, matplotlib.patches.Rectangle) and p.get_label() == "_null"]
    by_colour = {}
    for box in boxes:
        by_colour.setdefault(matplotlib.colors.to_hex(box.get_facecolor()), []).append((box.get_x(), box.get_x() + box.get_width()))
    assert len(by_colour) == 3
    for (_, a), (_, b) in itertools.combinations(by_colour.items(), 2):
        assert all(x1 <= y0 or y1 <= x0 for x0, x1 in a for y0, y1 in b)  # no two measures' null boxes overlap
    age_lines = [c.lines[0] for c in age_ax.containers]
    assert len(age_lines) == len(AGES)
    colours = np.array([matplotlib.colors.to_rgb(line.get_color()) for line in age_lines])
    assert min(np.linalg.norm(a - b) for a, b in itertools.combinations(colours, 2)) > 0.2
    for ax in (rho_ax, age_ax):
        legend = ax.get_legend()
        for handle in legend.legend_handles:
            if isinstance(handle, matplotlib.lines.Line2D):  # a one-point line is visible only with a marker
                assert handle.get_marker() not in (None, "None", "", " ")


def test_snapshots_show_a_slab_with_readable_titles(tmp_path):
    rng = np.random.default_rng(1)
    n, L = 400, 8.0
    states, g_logs, i_logs, m_logs = [], [], [], []
    for frame in range(2):
        positions = rng.uniform(-L / 2, L / 2, (n, 3))
        states.append(State(positions, np.zeros((n, 3), int), np.zeros((n, 3)), (np.arange(n) % 2).astype(int), ["A", "B"], np.ones(n), L, 3,
                            0, float(frame)))
        g_logs.append({per_particle_key("gradcam_glass"): rng.normal(size=n), "glasscam/sample": np.array([frame])})
        i_logs.append({per_particle_key("potential_energy_cg2"): rng.normal(size=n)})
        m_logs.append({per_particle_key("propensity_dt10"): rng.normal(size=n)})
    paths = {}
    for name, logs in (("gradcam", g_logs), ("indicators", i_logs), ("mobility", m_logs)):
        paths[name] = tmp_path / f"{name}.gsd"
        write_states(paths[name], states, {"class_names": ["liquid", "glass"]}, logs)
    captured = []
    plot_snapshots(paths["gradcam"], paths["indicators"], paths["mobility"], tmp_path / "snap.png", renderer="auto", figure_hook=captured.append)
    fig = captured[0]
    drawn = [c for ax in fig.axes for c in ax.collections if isinstance(c, matplotlib.collections.EllipseCollection)]
    frame = states[0]
    counts = {int((np.abs(s.positions[:, 2]) < SLAB_THICKNESS / 2).sum()) for s in states}
    assert len(drawn) == 3 and all(len(c.get_offsets()) in counts and len(c.get_offsets()) < n / 2 for c in drawn)
    assert frame.dimensions == 3 and "slab" in fig._suptitle.get_text()
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "_dt10" not in titles and "_cg2" not in titles and "Δt = 10 τ" in titles and "R_cg = 2 σ" in titles


def test_readable_names():
    assert readable_name("propensity_dt10") == "propensity ⟨|Δr|⟩_iso, Δt = 10 τ"
    assert readable_name("local_density_cg2") == "local density, R_cg = 2 σ"
    assert readable_name("gradcam_glass") == "Grad-CAM (class glass)"
    assert readable_name("potential_energy") == "potential energy"
    assert readable_name("gradcam_b1_young") == "Grad-CAM block 1 (class young)"
    assert readable_name("gradcam_signed_b1_aged") == "signed Grad-CAM block 1 (class aged)"
    assert readable_name("gradcam_signed_glass") == "signed Grad-CAM (class glass)"
    assert readable_name("hirescam_b2_glass") == "HiResCAM block 2 (class glass)"
    assert readable_name("ig_glass") == "Integrated Gradients (class glass)"
    assert readable_name("occlusion_glass") == "occlusion (class glass)"
    assert readable_name("occlusion_linear_glass") == "first-order occlusion (class glass)"
    assert set(INDICATORS_2D) | set(INDICATORS_3D) <= set(QUANTITY_NAMES)  # abm2d's correlation matrix showed the key 'psi6'
    assert readable_name("psi6_cg2") == "|ψ6| (hexatic order), R_cg = 2 σ"


def _thermo_file(path, dimensions, temperature, n=20, frames=12, stage=None):
    rng = np.random.default_rng(int(temperature * 10) + dimensions)
    states, logs = [], []
    for k in range(frames):
        positions = rng.uniform(-2, 2, (n, 3))
        if dimensions == 2:
            positions[:, 2] = 0
        states.append(State(positions, np.zeros((n, 3), int), np.zeros((n, 3)), np.zeros(n, int), ["A"], np.ones(n), 4.0, dimensions, k, 0.1 * (k + 1)))
        logs.append({"glasscam/kinetic_temperature": np.array([temperature + 0.01 * rng.normal()]),
                     "glasscam/potential_energy": np.array([-6.0 * n + rng.normal()]), "glasscam/pressure": np.array([5 + rng.normal()])})
    write_states(path, states, {"temperature": temperature, **({"run": 0} if stage else {})}, logs)
    return str(path)


@pytest.mark.parametrize("dimensions,unit", [(2, "ε/σ²"), (3, "ε/σ³")])
def test_thermodynamics_pressure_unit_and_integer_counts(tmp_path, dimensions, unit):
    assert pressure_unit(dimensions) == unit
    liquid = [_thermo_file(tmp_path / f"liq{t}.gsd", dimensions, t) for t in (0.8, 1.0)]
    aging = [_thermo_file(tmp_path / "aging.gsd", dimensions, 0.3, stage="aging")]
    fig = plot_thermodynamics(liquid, aging, tmp_path / "thermo.png")
    labels = " ".join(ax.get_xlabel() + ax.get_ylabel() for ax in fig.axes)
    assert f"P ({unit})" in labels and "σ^d" not in labels
    histograms = fig.axes[:3]
    fig.canvas.draw()
    for ax in histograms:
        locator = ax.yaxis.get_major_locator()
        assert isinstance(locator, matplotlib.ticker.MaxNLocator) and locator._integer
        assert np.allclose(ax.get_yticks(), np.round(ax.get_yticks()))


def test_training_curves_title_has_no_device_and_integer_epochs(tmp_path):
    epochs = list(range(1, 6))
    metrics = {"curves": {"epoch": epochs, **{f"{s}_{m}": list(np.linspace(0.4, 0.9, 5)) for s in ("train", "validation") for m in ("loss", "accuracy")}},
               "best_epoch": 3, "class_counts": {"train": {"liquid": 6, "glass": 6}}, "test_accuracy": 0.75, "n_parameters": 1234, "device": "cpu"}
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    fig = plot_training_curves(tmp_path / "metrics.json", tmp_path / "train.png")
    assert "cpu" not in fig._suptitle.get_text()
    fig.canvas.draw()
    for ax in fig.axes:
        assert np.allclose(ax.get_xticks(), np.round(ax.get_xticks()))


def test_flat_gradcam_map_colour_bar_says_all_zero(tmp_path):
    n, grid = 20, 8
    rng = np.random.default_rng(4)
    state = State(rng.uniform(-2, 2, (n, 3)), np.zeros((n, 3), int), np.zeros((n, 3)), np.zeros(n, int), ["A", "B"], np.ones(n), 4.0, 3, 0, 5.0)
    write_states(tmp_path / "glass.gsd", [state], {}, [{"glasscam/sample": np.array([0]), "glasscam/run": np.array([0])}])
    relu = np.zeros((1, 2, grid, grid, grid))
    relu[0, 0] = rng.random((grid, grid, grid))  # class 0 has a map, class 1 is identically zero
    write_gradcam_maps(tmp_path / "maps.h5", relu, relu, {"sample": np.array([0]), "probability": np.array([[0.9, 0.1]])},
                       {"class_names": ["liquid", "glass"], "box_length": 4.0, "dimensions": 3})
    fig = plot_gradcam_maps(tmp_path / "maps.h5", tmp_path / "glass.gsd", tmp_path / "maps.png", class_name="liquid")
    fig.canvas.draw()
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 2
    flat = [[t.get_text() for t in bar.get_yticklabels()] for bar in bars]
    assert ["all zero"] in flat  # one tick, not matplotlib's invented ±0.1 range around 0


def test_two_point_relaxation_times_are_points_not_a_line(tmp_path):
    entry = {"time": [0.0, 1.0, 2.0, 4.0], "fs": [1.0, 0.5, 0.3, 0.1], "msd": [0.0, 0.1, 0.2, 0.4], "D": float("nan"), "fit_t_min": float("nan"),
             "tau_alpha": 1.5, "tau_diffusive": float("nan")}
    record = {"dimensions": 3, "temperatures": [{"temperature": t, "q": 7.2, "species": {"A": {**entry, "tau_alpha": tau}}} for t, tau in ((1.0, 1.5), (0.8, 3.0))]}
    (tmp_path / "liquid.json").write_text(json.dumps(record))
    fig = plot_liquid_relaxation(tmp_path / "liquid.json", tmp_path / "liquid.png")
    tau_line = next(line for line in fig.axes[2].get_lines() if line.get_label().startswith("τα"))
    assert tau_line.get_linestyle() == "None" and tau_line.get_marker() == "o"


def _redraw(fig):
    """Draw a (closed) figure again on an Agg canvas at its own dpi → the renderer."""
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _at_chance_metrics(tmp_path):
    path = tmp_path / "metrics_at_chance.json"
    path.write_text(json.dumps({"confusion_matrix": [[6, 4], [5, 5]]}))  # 11/20 against a majority rate of 0.5
    return path


def _banner_figures(tmp_path, correlations):
    """Every figure that draws :func:`chance_banner`, from small synthetic inputs and the metrics
    of a model at chance."""
    model = _at_chance_metrics(tmp_path)
    path, _ = correlations
    gradcam, mobility = _mobility_inputs(tmp_path)
    yield "correlation_matrix", plot_correlation_matrix(path, tmp_path / "matrix.png", model_metrics=model)
    yield "correlation_vs_coarse_graining", plot_correlation_vs_coarse_graining(path, tmp_path / "cg.png", model_metrics=model)
    yield "gradcam_vs_mobility", plot_gradcam_vs_mobility(gradcam, mobility, path, tmp_path / "mob.png", model_metrics=model)
    yield "gradcam_histogram", plot_gradcam_histogram(gradcam, tmp_path / "hist.png", model_metrics=model)
    r = np.linspace(0, 4, 20)
    length = {"r": r.tolist(), "C": np.exp(-r).tolist(), "n_frames": 4, "xi": 1.0, "amplitude": 1.0, "fit_r_min": 0.5, "fit_r_max": 3.0,
              "groups": [{"xi": 1.0 + 0.1 * k, "xi_bootstrap_lo": 0.9, "xi_bootstrap_hi": 1.4, "glasscam/time": t} for k, t in enumerate(AGES)]}
    (tmp_path / "length.json").write_text(json.dumps(length))
    yield "correlation_length", plot_correlation_length(tmp_path / "length.json", tmp_path / "length.png", model_metrics=model)
    n, grid = 20, 8
    rng = np.random.default_rng(5)
    state = State(rng.uniform(-2, 2, (n, 3)), np.zeros((n, 3), int), np.zeros((n, 3)), np.zeros(n, int), ["A", "B"], np.ones(n), 4.0, 3, 0, 5.0)
    write_states(tmp_path / "glass.gsd", [state], {}, [{"glasscam/sample": np.array([0]), "glasscam/run": np.array([0])}])
    relu = rng.random((1, 2, grid, grid, grid))
    write_gradcam_maps(tmp_path / "maps.h5", relu, relu, {"sample": np.array([0]), "probability": np.array([[0.6, 0.4]])},
                       {"class_names": ["liquid", "glass"], "box_length": 4.0, "dimensions": 3})
    yield "gradcam_maps", plot_gradcam_maps(tmp_path / "maps.h5", tmp_path / "glass.gsd", tmp_path / "maps.png", model_metrics=model)
    states, g_logs, i_logs, m_logs = [], [], [], []
    for frame in range(2):
        positions = rng.uniform(-2.5, 2.5, (60, 3))
        positions[:, 2] = 0
        states.append(State(positions, np.zeros((60, 3), int), np.zeros((60, 3)), (np.arange(60) % 2).astype(int), ["A", "B"], np.ones(60), 5.0, 2,
                            0, float(frame)))
        g_logs.append({per_particle_key("gradcam_glass"): rng.normal(size=60), "glasscam/sample": np.array([frame])})
        i_logs.append({per_particle_key("q6"): rng.normal(size=60)})
        m_logs.append({per_particle_key("mobility_dt1"): rng.normal(size=60)})
    paths = {}
    for name, logs in (("gradcam", g_logs), ("indicators", i_logs), ("mobility", m_logs)):
        paths[name] = tmp_path / f"snap_{name}.gsd"
        write_states(paths[name], states, {"class_names": ["liquid", "glass"]}, logs)
    captured = []
    plot_snapshots(paths["gradcam"], paths["indicators"], paths["mobility"], tmp_path / "snap.png", renderer="matplotlib", model_metrics=model,
                   figure_hook=captured.append)
    yield "snapshots", captured[0]
    epochs = list(range(1, 9))
    curves = {"epoch": epochs, **{f"{split}_{what}": [0.5] * 8 for split in ("train", "validation") for what in ("loss", "accuracy")}}
    (tmp_path / "metrics_curves.json").write_text(json.dumps({
        "confusion_matrix": [[6, 4], [5, 5]], "curves": curves, "best_epoch": 3, "test_accuracy": 0.55,
        "class_counts": {"train": {"liquid": 10, "glass": 10}}, "n_parameters": 1234}))
    yield "training_curves", plot_training_curves(tmp_path / "metrics_curves.json", tmp_path / "curves.png", system="ka3d", task="age")
    yield "learning_curve", _learning_curve_figure(tmp_path, step=0.05, system="ka3d", task="age")  # every point at chance


def _learning_curve_banners(fig) -> list[str]:
    return [t.get_text() for t in fig.texts if t.get_gid() == BANNER_LABEL]


def test_learning_curve_at_chance_says_so(tmp_path):
    """A learning curve none of whose points lies above chance carries the at-chance banner with
    its best point (the demo's curves at 0.667 = the majority rate of 6 test samples had none); one
    point above chance (Wilson lower bound above the majority rate) removes it."""
    from glasscam.plots.learning import learning_curve_chance_warning

    at_chance = _learning_curve_banners(_learning_curve_figure(tmp_path, step=0.05))
    assert len(at_chance) == 1 and "at chance at every training size" in at_chance[0], at_chance
    # best point: 0.65 of 12 → Wilson [0.39, 0.85], not above 0.5
    assert "0.65" in at_chance[0] and "12 samples" in at_chance[0] and "majority rate 0.5" in at_chance[0], at_chance
    assert _learning_curve_banners(_learning_curve_figure(tmp_path)) == []  # 0.8 of 12 lies above chance
    assert learning_curve_chance_warning([(0.5, 0.25, 0.75, 12), (1.0, 0.758, 1.0, 12)], 0.5) == ""
    assert learning_curve_chance_warning([(0.5, 0.25, 0.75, 12)], float("nan")) == ""
    paths = {}
    for name in ("thermal", "inherent"):
        curve = {"test_samples": 48, "summary": [{"train_samples_mean": n, "test_accuracy_mean": a, "repeats": 1} for n, a in ((12, 0.6), (48, 0.96))],
                 "energy_baseline": {"test_accuracy": 0.6, "test_class_counts": {"liquid": 24, "glass": 24}}}
        paths[name] = _write_json(tmp_path / f"{name}_learned.json", curve)
    assert _learning_curve_banners(plot_learning_curve(paths, tmp_path / "learned.png")) == []


def test_chance_banner_sits_above_every_axes_title_and_colour_bar(correlations, tmp_path):
    """The at-chance banner is in a band of its own at the top of the figure: it covers no Axes
    (nor its title, tick labels or colour bar) and no suptitle, and the figure keeps its
    Axes' height (the figure grows by the band)."""
    names = []
    for name, fig in _banner_figures(tmp_path, correlations):
        names.append(name)
        renderer = _redraw(fig)
        banners = [t for t in fig.texts if t.get_gid() == BANNER_LABEL]
        assert len(banners) == 1, name
        box = banners[0].get_bbox_patch().get_window_extent(renderer)
        assert 0 <= box.y0 and box.y1 <= fig.bbox.y1 and 0 <= box.x0 and box.x1 <= fig.bbox.x1, f"{name}: banner leaves the figure"
        for ax in fig.axes:
            for what, extent in (("axes", ax.get_window_extent(renderer)), ("axes with its labels", ax.get_tightbbox(renderer))):
                assert not box.overlaps(extent), f"{name}: banner (y {box.y0:.0f}–{box.y1:.0f} px) over {what} {ax.get_title()!r} " \
                                                 f"(y {extent.y0:.0f}–{extent.y1:.0f} px)"
            top = ax.get_window_extent(renderer).y1
            assert box.y0 > top, f"{name}: banner bottom at {box.y0:.0f} px, not above {ax.get_title()!r} (top {top:.0f} px)"
        if fig._suptitle is not None and fig._suptitle.get_text():
            title = fig._suptitle.get_window_extent(renderer)
            assert not box.overlaps(title) and box.y1 < title.y0, f"{name}: banner over the title"
        if name == "correlation_matrix":
            assert "† here measures the filters of a network at chance" in fig._suptitle.get_text()
    assert len(names) == 9


def _search_inputs(tmp_path, validation_accuracies, selected, validation_counts):
    """trials.json of a search and the attributes of the dataset it scored on (no images)."""
    trials = [{"number": k, "params": {"depth": 1 + k % 2, "learning_rate": 0.01}, "validation_accuracy": a, "train_accuracy": min(1.0, a + 0.1),
               "score": a} for k, a in enumerate(validation_accuracies)]
    (tmp_path / "trials.json").write_text(json.dumps({"trials": trials, "selected": trials[selected]}))
    with h5py.File(tmp_path / "dataset.h5", "w") as h5:
        h5.attrs["class_names"] = ["liquid", "glass"]
        h5.attrs["class_counts"] = json.dumps({"train": {"liquid": 30, "glass": 30}, "validation": validation_counts,
                                               "test": {"liquid": 6, "glass": 6}})
    return tmp_path / "trials.json", tmp_path / "dataset.h5"


def test_search_draws_the_validation_majority_rate_and_names_system_and_task(tmp_path):
    """The chance line sits at the majority rate of the validation split (7 liquid of 12 →
    0.583) and says so; trials whose validation accuracy is not above it (Wilson 95 %) are ringed
    and a selected trial at chance is called so; the title names the system and the task."""
    trials, dataset = _search_inputs(tmp_path, [0.5, 7 / 12, 11 / 12], 1, {"liquid": 7, "glass": 5})
    fig = plot_search({"thermal": trials}, tmp_path / "search.png", datasets_by_inputs={"thermal": dataset}, system="ka3d",
                      task="liquid_vs_glass")
    ax = fig.axes[0]
    chance = [line for line in ax.get_lines() if line.get_label().startswith("chance: majority rate")]
    assert len(chance) == 1 and "0.583" in chance[0].get_label() and "validation" in chance[0].get_label()
    assert np.allclose(chance[0].get_ydata(), 7 / 12) and chance[0].get_linestyle() == ":"
    ringed = [line for line in ax.get_lines() if line.get_label().startswith("at chance")]
    assert len(ringed) == 1 and sorted(ringed[0].get_xdata()) == [0, 1] and "2 of 3" in ringed[0].get_label()
    star = next(line for line in ax.get_lines() if line.get_label().startswith("selected"))
    assert "at chance" in star.get_label() and "(at chance)" in ax.get_title()
    title = fig._suptitle.get_text()
    assert "ka3d" in title and "liquid_vs_glass" in title and "liquid vs glass" in title
    renderer = _redraw(fig)  # the legend (below the axes) covers no trial
    box = ax.get_legend().get_window_extent(renderer)
    points = _drawn_points(ax)
    inside = (points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)
    assert not inside.any()
    # a selected trial above chance is not called at chance
    trials, dataset = _search_inputs(tmp_path, [0.5, 11 / 12], 1, {"liquid": 7, "glass": 5})
    fig = plot_search({"thermal": trials}, tmp_path / "search.png", datasets_by_inputs={"thermal": dataset}, system="abm2d", task="age")
    star = next(line for line in fig.axes[0].get_lines() if line.get_label().startswith("selected"))
    assert "at chance" not in star.get_label() and "abm2d" in fig._suptitle.get_text()


def _baseline_record(logistic_accuracy, energy=True):
    def acc(a, half=0.1):
        return {"accuracy": a, "lo": max(0.0, a - half), "hi": min(1.0, a + half), "n": 24}
    baselines = {"descriptor_logistic": acc(logistic_accuracy)}
    if energy:
        baselines["energy_threshold"] = acc(0.75)
    distribution = {"n": 12, "q10": 0.3, "q50": 0.4, "q90": 0.5}
    return {"cnn": acc(0.6), "baselines": baselines, "chance_majority": 0.5, "class_names": ["liquid", "glass"],
            "task": {"name": "liquid_vs_glass"}, "cnn_minus_best_baseline": {"difference": -0.15, "lo": -0.3, "hi": 0.0},
            "thermal_cues": {"kinetic_temperature": {"distribution": {"liquid": distribution, "glass": distribution},
                                                     "logistic": acc(0.9)}}}


def test_every_baseline_bar_slot_carries_its_value_or_says_why_not(tmp_path):
    """A logistic regression at accuracy 0 is a bar of height 0: its slot still reads 0.00; a
    baseline missing from the record reads 'n/a' with the reason instead of an empty slot."""
    (tmp_path / "thermal.json").write_text(json.dumps(_baseline_record(0.0)))
    (tmp_path / "inherent.json").write_text(json.dumps(_baseline_record(0.5, energy=False)))
    fig = plot_baselines({"thermal": tmp_path / "thermal.json", "inherent": tmp_path / "inherent.json"}, tmp_path / "baselines.png")
    ax = fig.axes[0]
    bars = [patch for patch in ax.patches if isinstance(patch, matplotlib.patches.Rectangle) and patch.get_width() > 0]
    slots = sorted(round(bar.get_x() + bar.get_width() / 2, 6) for bar in bars)
    assert len(slots) == 6  # 2 input kinds × (CNN, logistic, U/N threshold), an empty one included
    labels = {}
    for text in ax.texts:
        if text.get_gid() == "bar value":
            x = text.xy[0] if hasattr(text, "xy") else text.get_position()[0]
            labels.setdefault(round(x, 6), []).append(text.get_text())
    assert sorted(labels) == slots and all(len(v) == 1 for v in labels.values())
    values = [v[0] for v in labels.values()]
    assert "0.00" in values and "n/a: not in baselines.json" in values
    assert sorted(values).count("0.60") == 2 and "0.75" in values and "0.50" in values
    renderer = _redraw(fig)  # the legend covers no label (it sat on the 'CNN − best' annotations)
    legend = ax.get_legend().get_window_extent(renderer)
    for text in ax.texts:
        assert not legend.overlaps(text.get_window_extent(renderer)), text.get_text()


def test_baselines_cue_title_is_centred_over_the_cue_panels(tmp_path):
    """The suptitle on the thermal cues sat in the top-right corner; it is centred over the cue
    panels (within 2 % of the figure width)."""
    record = _baseline_record(0.4)
    record["thermal_cues"]["vibration_amplitude"] = record["thermal_cues"]["kinetic_temperature"]
    fig = plot_baselines({"thermal": _write_json(tmp_path / "b.json", record)}, tmp_path / "baselines.png")
    renderer = _redraw(fig)
    cues = [ax.get_window_extent(renderer) for ax in fig.axes[1:]]
    centre = (min(b.x0 for b in cues) + max(b.x1 for b in cues)) / 2
    title = fig._suptitle.get_window_extent(renderer)
    assert abs((title.x0 + title.x1) / 2 - centre) < 0.02 * fig.bbox.width


OLD_Q_SOURCE = "liquid at T_L = 0.8 (first peak of S(k) at the lowest T_L = 0.8; liquid_relaxation.json)"


def test_q_star_caption_puts_its_source_in_one_pair_of_parentheses():
    """Older aging records carry a source with its own parenthesis; the caption used to wrap it
    in a second pair: '(liquid at T_L = 0.8 (first peak …; liquid_relaxation.json))'."""
    text = q_star_text(7.125, OLD_Q_SOURCE)
    assert text == "q* = 7.125 σ⁻¹ (liquid at T_L = 0.8, first peak of S(k) at the lowest T_L = 0.8; liquid_relaxation.json)"
    assert "((" not in text and "))" not in text and ") (" not in text
    depth, deepest = 0, 0
    for char in text.replace("S(k)", "S_k"):
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    assert deepest == 1 and depth == 0
    assert q_star_text(7.425, "first peak of S(k) at the lowest T_L = 4, liquid_relaxation.json") == \
        "q* = 7.425 σ⁻¹ (first peak of S(k) at the lowest T_L = 4, liquid_relaxation.json)"
    assert q_star_text(7.4) == "q* = 7.4 σ⁻¹" and q_star_text(7.4, "config") == "q* = 7.4 σ⁻¹ (config)"


def _drawn_markers(ax):
    """(centres in display coordinates, radius in pixels) of every point of every line of ``ax``:
    a point is its marker, not only its centre."""
    centres, radii = [], []
    for line in ax.get_lines():
        xy = line.get_xydata()
        if len(xy):
            centres.append(ax.transData.transform(xy))
            marker = line.get_marker() not in (None, "None", "", " ")
            radii.append(np.full(len(xy), line.get_markersize() / 2 * ax.figure.dpi / 72 if marker else 0.0))
    return (np.concatenate(centres), np.concatenate(radii)) if centres else (np.zeros((0, 2)), np.zeros(0))


def _points_under_legends(fig, renderer):
    """Every legend of ``fig`` (figure or Axes legends) against every drawn marker of every
    Axes, in display coordinates → (legend's first entry, axes y label, covered points): a point
    counts as covered when any part of its marker is under the legend box."""
    covered = []
    for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            (x, y), r = _drawn_markers(ax)[0].T, _drawn_markers(ax)[1]
            inside = (x + r > box.x0) & (x - r < box.x1) & (y + r > box.y0) & (y - r < box.y1) & np.isfinite(x) & np.isfinite(y)
            if inside.any():
                covered.append((legend.get_texts()[0].get_text(), ax.get_ylabel(), int(inside.sum())))
    return covered


def _liquid_record(tmp_path, D_A=(float("nan"), 0.03, 0.05)):
    """A liquid relaxation record at three temperatures; species A measured D only where given
    (NaN: the MSD never reached its diffusive regime), species B at every temperature."""
    time = np.geomspace(0.01, 20, 16)
    temperatures = []
    for k, (temperature, D) in enumerate(zip((0.8, 1.0, 1.5), D_A, strict=True)):
        species = {}
        for name, d in (("A", D), ("B", 0.02 * (k + 1))):
            tau = 3.0 / (k + 1)
            species[name] = {"time": time.tolist(), "fs": np.exp(-((time / tau) ** 0.8)).tolist(), "msd": (0.1 * time + 0.05 * (k + 1) * time).tolist(),
                             "D": d, "fit_t_min": 2.0 if np.isfinite(d) else float("nan"), "tau_alpha": tau,
                             "tau_diffusive": 1 / (7.2**2 * d) if np.isfinite(d) else float("nan")}
        temperatures.append({"temperature": temperature, "q": 7.25, "q_source": "first peak of S(k) at the lowest T_L = 0.8", "species": species})
    path = tmp_path / "liquid.json"
    path.write_text(json.dumps({"dimensions": 3, "temperatures": temperatures}))
    return path


def test_liquid_relaxation_labels_every_line_keeps_legends_off_data_and_states_q_and_D(tmp_path):
    # the demo's abm2d numbers (T = 4, 6): a legend inside the τ panel covered the 1/(q*²D) square
    record = json.loads(_liquid_record(tmp_path).read_text())
    record["temperatures"] = record["temperatures"][:2]
    for t, tau, D, diffusive in zip(record["temperatures"], (0.658, 0.380), (float("nan"), 0.028), (float("nan"), 0.648), strict=True):
        t["temperature"] = {0.658: 4.0, 0.380: 6.0}[tau]
        t["species"]["A"].update(tau_alpha=tau, D=D, fit_t_min=6.5, tau_diffusive=diffusive)
    (tmp_path / "abm2d.json").write_text(json.dumps(record))
    fig = plot_liquid_relaxation(tmp_path / "abm2d.json", tmp_path / "abm2d.png")
    assert not _points_under_legends(fig, _redraw(fig))
    fig = plot_liquid_relaxation(_liquid_record(tmp_path), tmp_path / "liquid.png")
    renderer = _redraw(fig)
    assert not _points_under_legends(fig, renderer)
    legend_texts = {t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()}
    legend_texts |= {t.get_text() for legend in fig.legends for t in legend.get_texts()}
    for ax in fig.axes:
        for line in ax.get_lines():
            assert not line.get_label().startswith("_") and line.get_label() in legend_texts, (ax.get_ylabel(), line.get_label())
    fits = [line.get_label() for line in fig.axes[1].get_lines() if line.get_linestyle() == "--"]
    assert len(fits) == 2 and all("2dDt" in f and "σ²/τ" in f for f in fits) and "D = 0.03 σ²/τ" in " ".join(fits)
    assert "q* = 7.25 σ⁻¹ (first peak of S(k) at the lowest T_L = 0.8)" in fig._suptitle.get_text()
    d_ax = fig.axes[3]
    assert "D" in d_ax.get_ylabel() and "σ²/τ" in d_ax.get_ylabel()
    by_species = {line.get_label(): line.get_xydata() for line in d_ax.get_lines()}
    assert set(by_species) == {"D (A particles)", "D (B particles)"}
    assert np.allclose(by_species["D (A particles)"], [[1 / 1.0, 0.03], [1 / 1.5, 0.05]])  # T = 0.8 has no D: no point
    assert len(by_species["D (B particles)"]) == 3
    # no species with a D: the panel says why instead of staying blank
    record = json.loads(_liquid_record(tmp_path, D_A=(float("nan"),) * 3).read_text())
    for t in record["temperatures"]:
        t["species"]["B"]["D"] = float("nan")
    (tmp_path / "none.json").write_text(json.dumps(record))
    fig = plot_liquid_relaxation(tmp_path / "none.json", tmp_path / "none.png")
    assert not fig.axes[3].get_lines() and "no D for A particles, B particles" in " ".join(t.get_text() for t in fig.axes[3].texts)


def _aging_inputs(tmp_path, q_source=OLD_Q_SOURCE):
    """Two-time table and summary of a 100 τ run at six waiting times: τ(t_w) measured at the
    three youngest, lower bounds (Fs above 1/e until the end of the window) at the three oldest —
    bounds that fall with t_w (89.8, 68.1, 53.3 τ) as the window shrinks, as in the demo."""
    ages = [0.0, 1.035, 3.245, 10.175, 31.895, 46.68]
    taus = [5.96, 14.9, 44.9, float("nan"), float("nan"), float("nan")]
    rows = []
    for t_w, tau in zip(ages, taus, strict=True):
        for t in np.geomspace(0.5, 100 - t_w, 8):
            fs = float(np.exp(-t / (tau if np.isfinite(tau) else 400.0)))
            rows.append({"species": "A", "t_w": t_w, "time": t, "msd": 0.01 * t, "msd_lo": 0.008 * t, "msd_hi": 0.012 * t, "fs": fs,
                         "fs_lo": fs - 0.05, "fs_hi": fs + 0.05, "overlap": fs, "overlap_lo": fs - 0.05, "overlap_hi": fs + 0.05, "chi4": 1.0,
                         "chi4_lo": 0.5, "chi4_hi": 1.5, "n_runs": 4, "n_trajectories": 8})
    write_table(tmp_path / "two_time.csv", rows, TWO_TIME_COLUMNS)
    summary = {"q": 7.125, "q_source": q_source, "a": 0.3, "system": "ka3d", "temperature": 0.3,
               "two_time": {"n_runs": 4, "n_trajectories": 8, "confidence": 0.95,
                            "tau_fs_1e": {"A": [{"t_w": t_w, "tau": tau, "t_max": 100 - t_w} for t_w, tau in zip(ages, taus, strict=True)]}}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    return tmp_path / "two_time.csv", tmp_path / "summary.json"


def test_aging_tau_lower_bounds_are_drawn_apart_and_explained(tmp_path):
    """τ(t_w) against t_w: measured values filled; each lower bound an open marker at t_max with
    an upward arrow, on the dotted window line t_max = run length − t_w; the legend says they are
    lower bounds set by the window, which is why 89.8 > 68.1 > 53.3 τ falls while τ grows."""
    fig = plot_aging_dynamics(*_aging_inputs(tmp_path), tmp_path / "aging.png")
    tau_ax = next(ax for ax in fig.axes if ax.get_ylabel().startswith("τ(t_w)"))
    bounds = [line for line in tau_ax.get_lines() if "lower bound" in line.get_label()]
    assert len(bounds) == 1
    bound = bounds[0]
    assert bound.get_linestyle() == "None" and matplotlib.colors.to_hex(bound.get_markerfacecolor()) == "#ffffff"  # open
    assert np.allclose(bound.get_xdata(), [10.175, 31.895, 46.68]) and np.allclose(bound.get_ydata(), [89.825, 68.105, 53.32])
    arrows = [a for a in tau_ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == 3 and all(a.xy[1] > a.xyann[1] for a in arrows)  # pointing up: τ is larger
    assert {round(a.xyann[0], 3) for a in arrows} == {10.175, 31.895, 46.68}
    window = next(line for line in tau_ax.get_lines() if line.get_label().startswith("window"))
    assert window.get_linestyle() == ":" and np.allclose(window.get_ydata(), 100 - window.get_xdata())
    measured = [c for c in tau_ax.collections if len(c.get_offsets())]
    assert len(measured) == 1 and np.allclose(measured[0].get_offsets()[:, 1], [5.96, 14.9, 44.9])
    legend_texts = " ".join(t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts())
    legend_texts += " ".join(t.get_text() for ax in fig.axes for a in ax.artists if hasattr(a, "get_texts") for t in a.get_texts())
    flat = " ".join(legend_texts.split())
    assert "lower bound" in flat and "run length − t_w" in flat and "can fall while τ(t_w) grows" in flat
    assert "t_w = 10.2 τ, τ(t_w) > 89.8 τ (lower bound)" in flat
    assert "((" not in fig._suptitle.get_text() and "))" not in fig._suptitle.get_text()
    assert not _points_under_legends(fig, _redraw(fig))


# ---------------------------------------------------------------------------------------------
# Every legend of every figure: off the data of its own Axes


def _legend_data(ax):
    """(centres in display pixels, radii in pixels) of the data of ``ax`` a legend must not cover:
    every marker of every line (error-bar caps are line markers too), every scatter point (its
    own size), every vertex of a filled band (fill_between) and the corners of every filled
    rectangle (null boxes, bars); each in its artist's own transform (an axhline's x is in Axes
    coordinates). Lines without markers are not data points (reference lines, fits)."""
    px = ax.figure.dpi / 72
    centres, radii = [], []

    def add(xy, r):
        xy = np.asarray(xy, float).reshape(-1, 2)
        ok = np.isfinite(xy).all(axis=1)
        centres.append(xy[ok])
        radii.append(np.broadcast_to(np.asarray(r, float), (len(xy),))[ok])

    for line in ax.get_lines():
        if line.get_visible() and line.get_marker() not in (None, "None", "", " ") and len(line.get_xydata()):
            add(line.get_transform().transform(line.get_xydata()), (line.get_markersize() + line.get_markeredgewidth()) / 2 * px)
    for collection in ax.collections:
        if not collection.get_visible():
            continue
        if isinstance(collection, matplotlib.collections.FillBetweenPolyCollection):
            for path in collection.get_paths():
                add(collection.get_transform().transform(path.vertices), 0.0)
        elif isinstance(collection, matplotlib.collections.PathCollection) and len(collection.get_offsets()):
            sizes = collection.get_sizes()
            offsets = collection.get_offset_transform().transform(collection.get_offsets())
            add(offsets, np.sqrt(np.resize(sizes if len(sizes) else [36.0], len(offsets))) / 2 * px)
    for patch in ax.patches:
        if isinstance(patch, matplotlib.patches.Rectangle) and patch.get_visible() and patch.get_fill() and patch.get_width() and patch.get_height():
            box = patch.get_window_extent()
            add([(box.x0, box.y0), (box.x0, box.y1), (box.x1, box.y0), (box.x1, box.y1), ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)], 0.0)
    if not centres:
        return np.zeros((0, 2)), np.zeros(0)
    return np.concatenate(centres), np.concatenate(radii)


LEGEND_CLEARANCE = 2.0  # points between a legend box and the nearest data


def _legends_over_data(fig, renderer):
    """Every legend of ``fig`` against the data (:func:`_legend_data`) of its own Axes — every Axes
    for a figure legend — with :data:`LEGEND_CLEARANCE` to spare, and against its Axes' x label
    → [(legend's first entry, what it covers)]."""
    legends = [(legend, fig.axes) for legend in fig.legends]
    for ax in fig.axes:
        own = [ax.get_legend()] if ax.get_legend() else []
        own += [a for a in ax.artists if isinstance(a, matplotlib.legend.Legend)]
        legends += [(legend, [ax]) for legend in own]
    covered = []
    for legend, axes in legends:
        box = legend.get_window_extent(renderer)
        name = legend.get_texts()[0].get_text() if legend.get_texts() else "?"
        for ax in axes:
            centres, r = _legend_data(ax)
            x, y = centres.T
            r = r + LEGEND_CLEARANCE * fig.dpi / 72  # touching is covering
            inside = (x + r > box.x0) & (x - r < box.x1) & (y + r > box.y0) & (y - r < box.y1)
            if inside.any():
                covered.append((name, f"{int(inside.sum())} data points of {ax.get_title() or ax.get_ylabel()!r}"))
            label = ax.xaxis.label
            if label.get_text() and label.get_visible() and box.overlaps(label.get_window_extent(renderer)):
                covered.append((name, f"the x label {label.get_text()!r}"))
    return covered


def _length_record(tmp_path):
    """C(r) of the ka3d demo (rising to its peak 0.66 at r = 1.06 σ, then decaying) with a
    flagged fit whose long label widened the legend onto the peak marker."""
    r = 0.0963 + 0.1926 * np.arange(19)
    c = [None, None, None, 0.212, 0.434, 0.655, 0.515, 0.380, 0.284, 0.255, 0.200, 0.149, 0.085, 0.053, 0.025, 0.003, -0.012, -0.032, -0.040]
    groups = [{"xi": 1.0 + 0.1 * k, "xi_bootstrap_lo": 0.9, "xi_bootstrap_hi": 1.4 + 0.1 * k, "glasscam/time": t} for k, t in enumerate(AGES)]
    record = {"r": r.tolist(), "C": c, "pair_counts": [0, 0, 0] + [100] * 16, "n_frames": 24, "xi": 0.708, "amplitude": 2.97, "fit_r_min": 0.0,
              "fit_r_start": 1.059, "fit_r_max": 3.0, "xi_bootstrap_lo": 0.66, "xi_bootstrap_hi": 0.78, "reliable": False,
              "flag": "ξ = 0.71 σ is below the particle size (1 σ)", "groups": groups}
    (tmp_path / "length.json").write_text(json.dumps(record))
    return tmp_path / "length.json"


def _gradcam_maps_figure(tmp_path):
    rng = np.random.default_rng(5)
    n, grid = 40, 8
    state = State(rng.uniform(-2, 2, (n, 3)), np.zeros((n, 3), int), np.zeros((n, 3)), (np.arange(n) % 2).astype(int), ["A", "B"], np.ones(n), 4.0, 3,
                  0, 5.0)
    write_states(tmp_path / "glass.gsd", [state], {}, [{"glasscam/sample": np.array([0]), "glasscam/run": np.array([0])}])
    relu = rng.random((1, 2, grid, grid, grid))
    write_gradcam_maps(tmp_path / "maps.h5", relu, relu, {"sample": np.array([0]), "probability": np.array([[0.6, 0.4]])},
                       {"class_names": ["liquid", "glass"], "box_length": 4.0, "dimensions": 3})
    return plot_gradcam_maps(tmp_path / "maps.h5", tmp_path / "glass.gsd", tmp_path / "maps.png")


def _attribution_gsd(tmp_path, n=60, frames=3):
    """Per-particle attributions as the explain stage writes them: last-block and block-1
    Grad-CAM (ReLU and signed) of two classes."""
    rng = np.random.default_rng(6)
    states, logs = [], []
    for k in range(frames):
        states.append(State(rng.uniform(-2.5, 2.5, (n, 3)), np.zeros((n, 3), int), np.zeros((n, 3)), (np.arange(n) % 2).astype(int), ["A", "B"],
                            np.ones(n), 5.0, 3, 0, float(k)))
        log = {}
        for block in ("", "b1_"):
            for cls in ("young", "aged"):
                signed = rng.normal(size=n)
                log[per_particle_key(f"gradcam_{block}{cls}")] = np.maximum(signed, 0)
                log[per_particle_key(f"gradcam_signed_{block}{cls}")] = signed
        logs.append(log)
    write_states(tmp_path / "attributions.gsd", states, {"class_names": ["young", "aged"]}, logs)
    return tmp_path / "attributions.gsd"


def _external_figure(tmp_path):
    columns = ["quantity", "species", "coarse_graining", "spearman", "spearman_lo", "spearman_hi", "null_spearman_lo", "null_spearman_hi"]
    rows = [{"quantity": q, "species": "all", "coarse_graining": 0.0, "spearman": rho, "spearman_lo": rho - 0.05, "spearman_hi": rho + 0.05,
             "null_spearman_lo": -0.03, "null_spearman_hi": 0.03} for q, rho in (("gradcam_glass", 0.3), ("q6", -0.2), ("potential_energy", 0.45))]
    write_table(tmp_path / "external.csv", rows, columns)
    rng = np.random.default_rng(7)
    p = rng.random(30)
    summary = {"name": "external", "n_configurations": 30, "class_names": ["liquid", "glass"],
               "configurations": [{"p_liquid": float(1 - v), "p_glass": float(v)} for v in p]}
    (tmp_path / "external.json").write_text(json.dumps(summary))
    return plot_external(tmp_path / "external.csv", tmp_path / "external.json", tmp_path / "external.png")


def _classifier_inputs_figure(tmp_path, **kwargs):
    paths = {}
    for name, matrix in (("thermal", [[5, 1], [2, 4]]), ("inherent", [[3, 3], [3, 3]])):
        paths[name] = tmp_path / f"{name}_metrics.json"
        paths[name].write_text(json.dumps({"confusion_matrix": matrix, "test_accuracy": np.trace(matrix) / 12, "class_names": ["liquid", "glass"]}))
    return plot_classifier_inputs(paths, tmp_path / "inputs.png", **kwargs)


@pytest.mark.parametrize("matrix", [[[1, 1], [1, 1]], [[4, 4], [4, 4]], [[5, 1], [2, 4]]])
def test_confusion_counts_contrast_with_their_cell(matrix, tmp_path):
    """Each count of the confusion matrix reads against its own cell: with four equal counts the
    cells are all the palest shade, and the counts were drawn white on it (colour from count vs
    maximum) — the text's luminance differs from its cell's by more than 0.4."""
    from glasscam.plots.learning import luminance
    path = _write_json(tmp_path / "metrics.json", {"confusion_matrix": matrix, "test_accuracy": 0.5, "class_names": ["liquid", "glass"]})
    fig = plot_classifier_inputs({"thermal": path}, tmp_path / "inputs.png")
    ax = next(a for a in fig.axes if a.get_images())
    image = ax.get_images()[0]
    texts = [t for t in ax.texts if t.get_text().isdigit()]
    assert len(texts) == 4
    for text in texts:
        j, i = (int(round(v)) for v in text.get_position())
        cell = image.to_rgba(np.asarray(image.get_array())[i, j])
        assert abs(luminance(text.get_color()) - luminance(cell)) > 0.4, (text.get_text(), text.get_color(), cell)


def _learning_curve_figure(tmp_path, step=0.1, **kwargs):
    """Two curves of 12 test samples, accuracy 0.5 + step·j (thermal) and 0.05 below (inherent); with
    step 0.1 the last thermal point (0.8, Wilson [0.52, 0.93]) lies above the majority rate 0.5."""
    paths = {}
    for k, name in enumerate(("thermal", "inherent")):
        sizes = [6, 12, 24, 48]
        accuracy = [0.5 + step * j - 0.05 * k for j in range(4)]
        curve = {"test_samples": 12, "summary": [{"train_samples_mean": n, "test_accuracy_mean": a, "repeats": 2} for n, a in zip(sizes, accuracy, strict=True)],
                 "rows": [{"train_samples": n, "test_accuracy": a + d} for n, a in zip(sizes, accuracy, strict=True) for d in (-0.04, 0.04)],
                 "energy_baseline": {"test_accuracy": 0.6, "test_class_counts": {"liquid": 6, "glass": 6}}}
        paths[name] = tmp_path / f"{name}_curve.json"
        paths[name].write_text(json.dumps(curve))
    return plot_learning_curve(paths, tmp_path / "curve.png", **kwargs)


def _training_curves_figure(tmp_path, **kwargs):
    epochs = list(range(1, 9))
    curves = {"epoch": epochs, "train_loss": list(np.linspace(0.9, 0.2, 8)), "validation_loss": list(np.linspace(0.9, 0.5, 8)),
              "train_accuracy": list(np.linspace(0.5, 1.0, 8)), "validation_accuracy": [0.5, 0.5, 0.55, 0.6, 0.58, 0.62, 0.6, 0.61]}
    metrics = {"curves": curves, "best_epoch": 6, "class_counts": {"train": {"liquid": 6, "glass": 6}}, "test_accuracy": 0.6, "n_parameters": 1234}
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    return plot_training_curves(tmp_path / "metrics.json", tmp_path / "train.png", **kwargs)


def _search_figure(tmp_path):
    """The abm2d demo's search: the selected trial at validation and training accuracy 1."""
    trials, dataset = _search_inputs(tmp_path, [1.0, 0.909, 0.545], 0, {"liquid": 6, "glass": 5})
    data = json.loads(trials.read_text())
    data["trials"][0]["train_accuracy"] = 1.0
    data["selected"] = data["trials"][0]
    trials.write_text(json.dumps(data))
    return plot_search({"thermal": trials, "inherent": trials}, tmp_path / "search.png", datasets_by_inputs={"thermal": dataset, "inherent": dataset},
                       system="abm2d", task="liquid_vs_glass")


LEGEND_FIGURES = {
    "correlation_vs_coarse_graining": lambda tmp: plot_correlation_vs_coarse_graining(_correlations_table(tmp)[0], tmp / "cg.png"),
    # Grad-CAM values of the abm2d demo (≤ 7e-4): labels in steps of 0.0001 ran into each other
    "gradcam_vs_mobility": lambda tmp: plot_gradcam_vs_mobility(*_mobility_inputs(tmp, gradcam_scale=7e-4), _correlations_table(tmp)[0],
                                                                tmp / "mob.png", requested_ages=[1, 3, 10, 50]),
    "aging_dynamics": lambda tmp: plot_aging_dynamics(*_aging_inputs(tmp), tmp / "aging.png"),
    "liquid_relaxation": lambda tmp: plot_liquid_relaxation(_liquid_record(tmp), tmp / "liquid.png"),
    "correlation_length": lambda tmp: plot_correlation_length(_length_record(tmp), tmp / "length.png", requested_ages=[0, 1, 3, 10, 50]),
    "external": _external_figure,
    "training_curves": _training_curves_figure,
    "gradcam_maps": _gradcam_maps_figure,
    "gradcam_histogram": lambda tmp: plot_gradcam_histogram(_attribution_gsd(tmp), tmp / "hist.png"),
    "classifier_inputs": _classifier_inputs_figure,
    "learning_curve": _learning_curve_figure,
    "baselines": lambda tmp: plot_baselines({"thermal": _write_json(tmp / "b.json", _baseline_record(0.4))}, tmp / "baselines.png"),
    "search": _search_figure,
    "thermodynamics": lambda tmp: plot_thermodynamics([_thermo_file(tmp / f"liq{t}.gsd", 3, t) for t in (0.8, 1.0)],
                                                      [_thermo_file(tmp / f"aging{k}.gsd", 3, 0.3, stage="aging") for k in range(2)], tmp / "thermo.png"),
}


# per-system-and-task figures and whether one model (its input kind named in the title) or every input kind is shown
SUBJECT_FIGURES = {
    "training_curves": (_training_curves_figure, True),
    "classifier_inputs": (_classifier_inputs_figure, False),
    "learning_curve": (_learning_curve_figure, False),
    "gradcam_histogram": (lambda tmp, **kw: plot_gradcam_histogram(_attribution_gsd(tmp), tmp / "hist.png", **kw), True),
    "correlation_length": (lambda tmp, **kw: plot_correlation_length(_length_record(tmp), tmp / "length.png", **kw), True),
    "correlation_vs_coarse_graining": (lambda tmp, **kw: plot_correlation_vs_coarse_graining(_correlations_table(tmp)[0], tmp / "cg.png", **kw),
                                       True),
}


@pytest.mark.parametrize("name", sorted(SUBJECT_FIGURES))
def test_per_task_figure_title_starts_with_system_and_task(name, tmp_path):
    """A reader of one PNG knows what it shows: the suptitle starts with '<system>, task <task>'
    and, for a figure of one model, names its input kind; without them the figure still draws."""
    build, one_model = SUBJECT_FIGURES[name]
    kwargs = {"system": "ka3d", "task": "liquid_vs_glass", **({"inputs": "thermal"} if one_model else {})}
    title = build(tmp_path, **kwargs)._suptitle.get_text()
    assert title.startswith("ka3d, task liquid_vs_glass"), title
    if one_model:
        assert title.startswith("ka3d, task liquid_vs_glass, thermal inputs: "), title
    assert "ka3d" not in (build(tmp_path)._suptitle.get_text())  # other callers: no system, no error


def _write_json(path, record):
    path.write_text(json.dumps(record))
    return path


def test_every_figure_with_a_legend_is_listed():
    """Each plot function whose code draws a legend is built by :data:`LEGEND_FIGURES` — a new
    figure with a legend joins the test below, or this fails."""
    drawing = set()
    for module in (glasscam.plots.analysis, glasscam.plots.external, glasscam.plots.learning, glasscam.plots.simulation, glasscam.plots.snapshots):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("plot_") and function.__module__ == module.__name__:
                helpers = [f for f_name, f in inspect.getmembers(module, inspect.isfunction) if f_name.startswith("_") and f_name in inspect.getsource(function)]
                source = inspect.getsource(function) + "".join(inspect.getsource(f) for f in helpers)
                if "legend(" in source or "legend_below(" in source:
                    drawing.add(name.removeprefix("plot_"))
    assert drawing == set(LEGEND_FIGURES)


@pytest.mark.parametrize("name", sorted(LEGEND_FIGURES))
def test_no_legend_covers_data_of_its_axes(tmp_path, name):
    """No legend box of any figure covers a data marker, an error-bar cap, a vertex of a filled
    band or a filled box (null range, bar) of its own Axes (a figure legend: of any Axes), nor its
    Axes' x label — each figure built from small synthetic inputs shaped like the demo's (the
    demo's legends sat on the Δt = 1 null boxes of gradcam_vs_mobility and on the C(r) peak
    marker of correlation_length)."""
    fig = LEGEND_FIGURES[name](tmp_path)
    renderer = _redraw(fig)
    assert fig.legends or any(ax.get_legend() for ax in fig.axes), f"{name}: no legend drawn"
    assert not _legends_over_data(fig, renderer)


def test_selected_trial_leaves_its_markers_visible(tmp_path):
    """The abm2d demo's selected trial had validation = training accuracy = 1: the filled star
    hid both markers. The selection is an open square drawn under the trial markers, wider than
    them and than the at-chance ring, so every marker of the trial stays visible."""
    ax = _search_figure(tmp_path).axes[0]
    selected = next(line for line in ax.get_lines() if line.get_label().startswith("selected"))
    assert selected.get_markerfacecolor() == "none" and selected.get_marker() == "s"
    under = [line for line in ax.get_lines() if line is not selected and line.get_marker() not in ("None", "", " ", None)
             and np.any(np.isclose(line.get_xdata(), selected.get_xdata()[0]))]
    assert len(under) >= 2  # validation and training accuracy of the selected trial
    for line in under:
        assert line.get_zorder() > selected.get_zorder() and line.get_markersize() < selected.get_markersize(), line.get_label()


def test_gradcam_histogram_wraps_into_a_grid_with_readable_map_names(tmp_path):
    """Eight maps (last block and block 1, ReLU and signed, two classes) were eight panels in one
    row (5040 px) titled 'b1_young': now a grid of at most four columns, each panel titled with
    the map's readable name; a map identically 0 says so; one species legend for all panels."""
    gsd = _attribution_gsd(tmp_path)
    fig = plot_gradcam_histogram(gsd, tmp_path / "hist.png")
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 8
    columns = {round(ax.get_position().x0, 3) for ax in panels}
    assert len(columns) <= HISTOGRAM_COLUMNS == 4
    text = " ".join(ax.get_title() + " " + ax.get_xlabel() for ax in panels)
    assert "b1_" not in text and "'young'" not in text
    assert "Grad-CAM block 1 (class young)" in text and "signed Grad-CAM block 1 (class aged)" in text and "Grad-CAM (class aged)" in text
    assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)


def _figure_texts(fig):
    """Every text a reader sees on ``fig``: suptitle, texts, Axes titles, labels, tick labels and legend entries."""
    texts = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    texts += [t.get_text() for t in fig.texts]
    for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        texts += [t.get_text() for t in legend.get_texts()] + [legend.get_title().get_text()]
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()] + [t.get_text() for t in ax.texts]
        texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    return texts


INTERNAL_KEY = re.compile(r"\b(gradcam|hirescam|occlusion|ig)_[a-z0-9_]+|_dt[0-9]|_cg[0-9]")


@pytest.mark.parametrize("name", sorted([*LEGEND_FIGURES, "correlation_matrix"]))
def test_no_tick_labels_overlap_and_no_internal_keys(tmp_path, name):
    """No two tick labels of one axis overlap (the abm2d demo's Grad-CAM axis printed 0.0000,
    0.0001, … into one another), and no title, label, tick or legend shows a pipeline key
    ('gradcam_aged', 'propensity_dt10') instead of its readable name."""
    build = LEGEND_FIGURES.get(name) or (lambda tmp: plot_correlation_matrix(_correlations_table(tmp)[0], tmp / "matrix.png"))
    fig = build(tmp_path)
    renderer = _redraw(fig)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            for a, b in itertools.combinations(boxes, 2):
                assert not a.overlaps(b), f"{name}: tick labels overlap on {ax.get_xlabel() if axis is ax.xaxis else ax.get_ylabel()!r}"
    shown = [t for t in _figure_texts(fig) if INTERNAL_KEY.search(t)]
    assert not shown, f"{name}: internal keys in {shown}"


def test_correlation_length_without_a_reliable_group_says_why_and_draws_no_empty_axes(tmp_path):
    """All per-t_w fits flagged (the ka3d age demo): the ξ panel said 'no group with a finite ξ'
    over empty 0–1 axes although six ξ were finite; it now says they are flagged, with no ticks."""
    path = _length_record(tmp_path)
    record = json.loads(path.read_text())
    for group in record["groups"]:
        group.update(reliable=False, flag="ξ = 0.7 σ is below the particle size (1 σ)")
    path.write_text(json.dumps(record))
    xi_ax = plot_correlation_length(path, tmp_path / "length.png").axes[1]
    text = " ".join(t.get_text() for t in xi_ax.texts)
    assert f"all {len(AGES)} groups are flagged" in text and "below the particle size" in text
    assert not len(xi_ax.get_xticks()) and not len(xi_ax.get_yticks())


MAX_BLANK_BAND = 0.05  # of the figure height: blank between the title/banner and the panels, and below the panels


def _blank_bands(fig, renderer):
    """(top, bottom) blank bands as fractions of the figure height: from the lowest title or
    banner to the highest Axes (with its title and tick labels), and from the lowest Axes (with
    its x label) to the top of the figure legends (or the figure's bottom edge)."""
    height = fig.bbox.height
    ceilings = [t.get_bbox_patch().get_window_extent(renderer).y0 for t in fig.texts if t.get_gid() == BANNER_LABEL]
    if fig._suptitle is not None and fig._suptitle.get_text():
        ceilings.append(fig._suptitle.get_window_extent(renderer).y0)
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
    floor = max([legend.get_window_extent(renderer).y1 for legend in fig.legends], default=0.0)
    top = (min(ceilings, default=height) - max(b.y1 for b in boxes)) / height
    bottom = (min(b.y0 for b in boxes) - floor) / height
    return top, bottom


def _snapshot_figure(tmp_path, dimensions, model_metrics=None, n=400, L=8.0):
    """plot_snapshots' Figure of two random frames of ``dimensions``."""
    paths = write_snapshot_inputs(tmp_path, dimensions, n=n, box_length=L, seed=1, indicator="potential_energy_cg2",
                                  mobility="propensity_dt10", prefix=f"{dimensions}d_")
    captured = []
    plot_snapshots(paths["gradcam"], paths["indicators"], paths["mobility"], tmp_path / f"snap{dimensions}.png", renderer="matplotlib",
                   model_metrics=model_metrics, figure_hook=captured.append)
    return captured[0]


def _gradcam_maps_2d_figure(tmp_path, model_metrics=None):
    rng = np.random.default_rng(5)
    n, grid, L = 200, 16, 20.0
    positions = rng.uniform(-L / 2, L / 2, (n, 3))
    positions[:, 2] = 0
    state = State(positions, np.zeros((n, 3), int), np.zeros((n, 3)), (np.arange(n) % 2).astype(int), ["A", "B"], np.ones(n), L, 2, 0, 5.0)
    write_states(tmp_path / "glass2d.gsd", [state], {}, [{"glasscam/sample": np.array([0]), "glasscam/run": np.array([0])}])
    relu = rng.random((1, 2, grid, grid))
    write_gradcam_maps(tmp_path / "maps2d.h5", relu, relu, {"sample": np.array([0]), "probability": np.array([[0.5, 0.5]])},
                       {"class_names": ["young", "aged"], "box_length": L, "dimensions": 2})
    return plot_gradcam_maps(tmp_path / "maps2d.h5", tmp_path / "glass2d.gsd", tmp_path / "maps2d.png", model_metrics=model_metrics)


@pytest.mark.parametrize("banner", [False, True])
def test_gradcam_maps_and_snapshots_have_no_blank_bands(tmp_path, banner):
    """The demo's gradcam_maps and snapshots left 8–11 % of their height blank between the
    title (or the at-chance banner) and the square panels, and as much again below them: the
    figure height now fits its panels, with and without the banner."""
    model = _at_chance_metrics(tmp_path) if banner else None
    figures = {"gradcam_maps 2D": _gradcam_maps_2d_figure(tmp_path, model),
               "snapshots 2D": _snapshot_figure(tmp_path, 2, model), "snapshots 3D": _snapshot_figure(tmp_path, 3, model)}
    if not banner:
        figures["gradcam_maps 3D"] = _gradcam_maps_figure(tmp_path)
    for name, fig in figures.items():
        top, bottom = _blank_bands(fig, _redraw(fig))
        assert top < MAX_BLANK_BAND and bottom < MAX_BLANK_BAND, f"{name}: blank bands {top:.3f} above, {bottom:.3f} below the panels"


def test_correlation_figures_name_particles_and_give_radii_a_unit(correlations, tmp_path):
    """'species all' / 'species A' read as a code's column, and the matrix's 'R_cg = 0' had no
    unit: panels and columns say 'all particles', 'A particles' (names.species_name) and the
    radii 'raw' or 'R_cg = 2 σ' (names.coarse_graining_name)."""
    path, _ = correlations
    titles = [ax.get_title() for ax in plot_correlation_vs_coarse_graining(path, tmp_path / "cg.png").axes]
    assert titles == ["all particles", "A particles", "B particles"]
    fig = plot_correlation_matrix(path, tmp_path / "matrix.png")
    labels = [t.get_text() for ax in fig.axes if ax.get_images() for t in ax.get_xticklabels()]
    assert "all particles\nraw" in labels and "A particles\nR_cg = 2 σ" in labels and "B particles\nΔt = 10 τ" in labels
    text = " ".join(_figure_texts(fig))
    assert "species" not in text and not re.search(r"R_cg = [0-9.]+(?! σ)", text)
    assert species_name("all") == "all particles" and coarse_graining_name(0.0) == "raw" and coarse_graining_name(1.5) == "R_cg = 1.5 σ"


def _perfect_accuracy_figures(tmp_path):
    """learning_curve and classifier_inputs of a classifier at test accuracy 1 whose energy
    baseline is also 1: Wilson caps and the baseline line at exactly 1."""
    curve = {"test_samples": 12, "summary": [{"train_samples_mean": n, "test_accuracy_mean": 1.0, "repeats": 1} for n in (6, 12, 24)],
             "rows": [{"train_samples": n, "test_accuracy": 1.0} for n in (6, 12, 24)],
             "energy_baseline": {"test_accuracy": 1.0, "test_class_counts": {"liquid": 6, "glass": 6}}}
    yield "learning_curve", plot_learning_curve({"thermal": _write_json(tmp_path / "curve.json", curve)}, tmp_path / "curve.png")
    metrics = {"confusion_matrix": [[6, 0], [0, 6]], "test_accuracy": 1.0, "class_names": ["liquid", "glass"]}
    yield "classifier_inputs", plot_classifier_inputs({"thermal": _write_json(tmp_path / "metrics.json", metrics)}, tmp_path / "inputs.png")


def _data_y(ax):
    """y (data coordinates) of every line and line collection drawn in ``ax``: data lines,
    error-bar caps and bars, baselines, chance lines."""
    ys = [np.asarray(line.get_ydata(), float) for line in ax.get_lines()]
    ys += [np.asarray(segment, float)[:, 1] for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)
           for segment in c.get_segments()]
    return np.concatenate([y.ravel() for y in ys if np.size(y)])


def test_accuracy_at_one_lies_below_the_top_spine_and_repeats_sit_above_their_bars(tmp_path):
    """A baseline at 1.0 and Wilson caps at 1.0 were drawn on the top frame of learning_curve
    (y up to 1.02) and classifier_inputs (y up to 1): the accuracy axis now leaves headroom, so no
    line or cap lies on the top spine; the learning curve's single-repeat dots, hidden under
    their error bars, are drawn above them."""
    for name, fig in _perfect_accuracy_figures(tmp_path):
        ax = fig.axes[0]
        bottom, top = ax.get_ylim()
        y = _data_y(ax)
        assert np.isclose(y, 1.0).any(), f"{name}: the fixture draws nothing at 1"
        assert y.max() <= top - 0.03 * (top - bottom), f"{name}: a line or cap at y = {y.max():g} on the top spine (y limit {top:g})"
        if name == "learning_curve":
            singles = next(line for line in ax.get_lines() if "single repeats" in line.get_label())
            bars = [a for line in ax.containers for a in line.get_children()]
            assert bars and all(singles.get_zorder() > bar.get_zorder() for bar in bars)


RAW_HYPERPARAMETER = re.compile(r"\b[a-z]+_[a-z_]+\b|=")  # base_width=8, learning_rate, …


def test_search_titles_read_as_words_and_no_axes_is_left_empty(tmp_path):
    """search.png titled its panels with the raw parameters ('base_width=8, convs_per_block=2,
    …') and, with fewer trials than needed to rank the parameters, drew a right-hand panel holding
    one sentence: the selected trial reads as words (names.hyperparameter_text), the sentence
    moves into the left panel's title and no empty Axes is drawn; with enough trials the
    importance bars are labelled with short names."""
    params = {"depth": 2, "base_width": 8, "convs_per_block": 2, "kernel_size": 3, "learning_rate": 0.0061, "schedule": "cosine",
              "augment": True, "weight_decay": 0.0}
    assert hyperparameter_text(params) == ("2 blocks, width 8, 2 convs/block, kernel 3, lr 6.1e-03, cosine schedule, augmented, "
                                           "no weight decay")
    fig = _search_figure(tmp_path)  # 3 trials per input kind
    assert len(fig.axes) == 2 and all(ax.get_lines() for ax in fig.axes), "an Axes without data"
    for ax in fig.axes:
        title = ax.get_title()
        assert not RAW_HYPERPARAMETER.search(title.split("—", 1)[1]), title
        assert "2 blocks" in title or "1 block," in title
        assert "too few to rank the parameters" in title
    trials = [{"number": k, "params": {"base_width": 8 * (1 + k % 2), "convs_per_block": 1 + k % 3, "learning_rate": 10 ** (-3 + k / 10)},
               "validation_accuracy": 0.5 + 0.05 * k, "train_accuracy": 1.0, "score": 0.5 + 0.05 * k} for k in range(9)]
    path = _write_json(tmp_path / "many.json", {"trials": trials, "selected": trials[-1]})
    fig = plot_search({"thermal": path}, tmp_path / "many.png", system="ka3d", task="age")
    bars = fig.axes[1]
    assert {t.get_text() for t in bars.get_yticklabels()} <= {"width", "convs/block", "lr"} and bars.patches
    assert "too few" not in fig.axes[0].get_title() and not RAW_HYPERPARAMETER.search(fig.axes[0].get_title().split("—", 1)[1])


def test_correlation_matrix_column_labels_keep_apart(correlations, tmp_path):
    """With 'all particles' and 'R_cg = 1 σ' the twelve indicator columns' labels ran into one
    another (0.2 pt apart): neighbouring column labels keep at least 3 pt between them."""
    fig = plot_correlation_matrix(correlations[0], tmp_path / "matrix.png")
    renderer = _redraw(fig)
    for ax in fig.axes:
        if ax.get_images():
            boxes = sorted((label.get_window_extent(renderer) for label in ax.get_xticklabels()), key=lambda b: b.x0)
            gap = min(b.x0 - a.x1 for a, b in itertools.pairwise(boxes)) * 72 / fig.dpi
            assert gap >= 3, f"{ax.get_title()}: column labels {gap:.1f} pt apart"
