"""Rendered snapshots of one glass sample: particles coloured by the Grad-CAM field, by the
propensity (or mobility) and by the best classical structural descriptor, side by side.

Rendering: 3D samples as a slab of thickness :data:`SLAB_THICKNESS` (2 σ) through the box
centre, viewed along z as discs (matplotlib; the surface of a 3D render shows only the outer
particles); 2D samples with OVITO's Python module (optional extra ``glasscam[render]``; Tachyon
software renderer, headless) where it imports, else matplotlib discs. Colours are the
within-sample percentile rank of each field over all particles (the quantity the Spearman
correlations compare), so the three panels share one colour scale.
"""

from __future__ import annotations

import logging
import tempfile

import matplotlib
from matplotlib.collections import EllipseCollection

from glasscam.core.keys import SAMPLE_KEY

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import rankdata, spearmanr  # noqa: E402

from glasscam.core.keys import per_particle_key  # noqa: E402
from glasscam.core.systems import system_from_config
from glasscam.io.atomic import atomic_output  # noqa: E402
from glasscam.io.gsd import read_logs, read_provenance, read_states  # noqa: E402
from glasscam.plots.chance import chance_banner  # noqa: E402
from glasscam.plots.layout import fit_height
from glasscam.report.names import readable_name

log = logging.getLogger(__name__)
PREFIX = per_particle_key("")
CMAP = "viridis"
DEFAULT_RADIUS = 0.5  # σ/2 for a species whose own pair is not given
SLAB_THICKNESS = 2.0  # σ: the slab |z| < 1 σ drawn of a 3D sample
SLAB_DISC_SCALE = 0.6  # slab particles drawn at 0.6 × radius, so the two layers of a 2 σ slab stay apart


def particle_radii(system_spec: dict) -> dict[str, float]:
    """Drawing radius of each species: half its own pair's σ_tt from the system's potential table
    (Kob–Andersen: A 0.5, B 0.44; abm2d: A 5/12, B 7/12), in the system's length unit."""

    system = system_from_config("snapshot", system_spec)
    return {t: system.pair(t, t).sigma / 2 for t in system.types}


def _radii(state, radii: dict | None) -> np.ndarray:
    radii = radii or {}
    return np.array([float(radii.get(state.types[t], DEFAULT_RADIUS)) for t in state.typeid])


def _fields(log_chunk: dict) -> dict[str, np.ndarray]:
    return {k[len(PREFIX):]: np.asarray(v, float) for k, v in log_chunk.items() if k.startswith(PREFIX)}


def _rho(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return float("nan")
    return float(spearmanr(x[ok], y[ok]).statistic)


def choose_snapshot(gradcam: list[dict], indicators: list[dict], mobility: list[dict], gradcam_key: str = "gradcam_glass") -> dict:
    """Pick what to show from per-frame per-particle fields (lists aligned by frame).

    Dynamics: propensity (``propensity_dt<Δt>``) where any frame has it, else mobility; the Δt
    whose field correlates most with Grad-CAM (|Spearman ρ|, averaged over the frames that have
    it). Frame: among frames with that field finite, the one whose Grad-CAM field varies most
    (largest standard deviation; a constant map shows nothing). Descriptor: the indicator with
    the largest mean |ρ| with the dynamical field over those frames (the best classical
    predictor of the dynamics). Returns a dict with keys frame, gradcam, dynamics, descriptor,
    rho_gradcam, rho_descriptor, reason."""
    dyn_names = sorted({k for m in mobility for k in _fields(m) if k.startswith("propensity_dt")})
    kind = "propensity"
    if not dyn_names or not any(np.isfinite(_fields(m).get(k, np.array([np.nan]))).any() for m in mobility for k in dyn_names):
        dyn_names, kind = sorted({k for m in mobility for k in _fields(m) if k.startswith("mobility_dt")}), "mobility"
    if not dyn_names:
        raise KeyError("no propensity_dt* or mobility_dt* per-particle arrays in the mobility file")

    def frames_with(name):
        return [k for k, m in enumerate(mobility) if name in _fields(m) and np.isfinite(_fields(m)[name]).all()]

    def mean_abs_rho(name, other_source, other_key):
        values = [_rho(_fields(other_source[k])[other_key], _fields(mobility[k])[name]) for k in frames_with(name)]
        values = [abs(v) for v in values if np.isfinite(v)]
        return float(np.mean(values)) if values else -1.0

    scored = [(mean_abs_rho(name, gradcam, gradcam_key), name) for name in dyn_names if frames_with(name)]
    if not scored:
        raise ValueError(f"no frame has a finite {kind} field")
    _, dynamics = max(scored)
    frames = frames_with(dynamics)
    frame = max(frames, key=lambda k: float(np.std(_fields(gradcam[k])[gradcam_key])))
    descriptors = sorted(_fields(indicators[frame]))
    ranked = sorted(((mean_abs_rho(dynamics, indicators, d), d) for d in descriptors), reverse=True)
    descriptor = ranked[0][1] if ranked else None
    g, dyn = _fields(gradcam[frame])[gradcam_key], _fields(mobility[frame])[dynamics]
    return {
        "frame": frame,
        "gradcam": gradcam_key,
        "dynamics": dynamics,
        "descriptor": descriptor,
        "rho_gradcam": _rho(g, dyn),
        "rho_descriptor": _rho(_fields(indicators[frame])[descriptor], dyn) if descriptor else float("nan"),
        "reason": (f"{kind} window with the largest mean |ρ| with Grad-CAM; sample with the most varied Grad-CAM field "
                   f"of the {len(frames)} that have it; descriptor with the largest mean |ρ| with the {kind}"),
    }


def percentile_colours(values: np.ndarray) -> np.ndarray:
    """RGB (N, 3) of the within-sample percentile rank of ``values`` on :data:`CMAP`."""
    ranks = (rankdata(values) - 0.5) / len(values)
    return plt.get_cmap(CMAP)(ranks)[:, :3]


def render_ovito(state, colours: np.ndarray, size: tuple[int, int] = (520, 520), radii: dict | None = None) -> np.ndarray:
    """RGB image of ``state`` with per-particle ``colours`` (OVITO, Tachyon renderer; raises
    ImportError where OVITO is absent)."""
    from ovito.data import DataCollection
    from ovito.pipeline import Pipeline, StaticSource
    from ovito.vis import TachyonRenderer, Viewport

    L, d = state.box_length, state.dimensions
    data = DataCollection()
    matrix = np.diag([L, L, L if d == 3 else 0.0])
    cell = np.hstack([matrix, np.full((3, 1), -L / 2)])
    if d == 2:
        cell[2, 3] = 0.0
    data.create_cell(cell, pbc=(True, True, d == 3))
    particles = data.create_particles(count=len(state.positions))
    positions = np.array(state.positions, float)
    if d == 2:
        positions[:, 2] = 0.0
    particles.create_property("Position", data=positions)
    particles.create_property("Color", data=colours)
    particles.create_property("Radius", data=_radii(state, radii))
    pipeline = Pipeline(source=StaticSource(data=data))
    pipeline.add_to_scene()
    try:
        viewport = (Viewport(type=Viewport.Type.Perspective, camera_dir=(-1.0, -0.7, -0.55)) if d == 3
                    else Viewport(type=Viewport.Type.Top))
        viewport.zoom_all(size=size)
        with tempfile.TemporaryDirectory() as tmp:
            png = f"{tmp}/render.png"
            viewport.render_image(size=size, filename=png, background=(1.0, 1.0, 1.0),
                                  renderer=TachyonRenderer(ambient_occlusion=d == 3))
            return plt.imread(png, format="png")
    finally:
        pipeline.remove_from_scene()


def slab_mask(state, thickness: float = SLAB_THICKNESS) -> np.ndarray:
    """Particles of a 3D sample with |z| < thickness/2 (positions wrapped into [−L/2, L/2)), (N,)
    bool; every particle in 2D."""
    if state.dimensions == 2:
        return np.ones(len(state.positions), dtype=bool)
    return np.abs(state.positions[:, 2]) < thickness / 2


def render_matplotlib(ax, state, colours: np.ndarray, radii: dict | None = None, slab: float | None = SLAB_THICKNESS) -> None:
    """Discs: every particle (2D, full radius) or the particles of the slab |z| < ``slab``/2
    viewed along z (3D; :data:`SLAB_DISC_SCALE` × radius, upper layer on top), x/y axes in σ;
    ``slab`` None draws a depth-sorted 3D scatter of spheres instead."""
    radii = _radii(state, radii)
    if state.dimensions == 2 or slab is not None:
        keep = np.flatnonzero(slab_mask(state, slab) if slab is not None else np.ones(len(radii), dtype=bool))
        keep = keep[np.argsort(state.positions[keep, 2])]  # lower layer first
        scale = SLAB_DISC_SCALE if state.dimensions == 3 else 1.0
        ax.add_collection(EllipseCollection(2 * scale * radii[keep], 2 * scale * radii[keep], 0, units="xy", offsets=state.positions[keep, :2],
                                            offset_transform=ax.transData, facecolors=colours[keep], edgecolors="0.3", linewidths=0.2))
        half = state.box_length / 2
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        ax.set_xlabel("x (σ)", fontsize=8)  # 2D and 3D alike: positions and the box size readable in σ
        ax.set_ylabel("y (σ)", fontsize=8)
        ax.tick_params(labelsize=7)
        return
    else:
        view = np.array([-1.0, -0.7, -0.55])
        order = np.argsort(state.positions @ view)[::-1]  # far first
        ax.scatter(*state.positions[order].T, c=colours[order], s=(radii[order] * 26) ** 2, depthshade=False, edgecolors="0.3", linewidths=0.2, alpha=1)
        half = state.box_length / 2
        for setter in (ax.set_xlim, ax.set_ylim, ax.set_zlim):
            setter(-half, half)
        ax.view_init(elev=25, azim=215)
        ax.set_box_aspect((1, 1, 1), zoom=1.05)
    ax.set_axis_off()


def positive_class_key(gradcam_gsd) -> str:
    """``gradcam_<class 1>`` (glass, aged) from the class names in the file's provenance, else the
    first unsigned ``gradcam_*`` array."""
    names = read_provenance(gradcam_gsd).get("class_names")
    if names and len(names) > 1:
        return f"gradcam_{names[1]}"
    keys = [k for k in _fields(read_logs(gradcam_gsd)[0]) if k.startswith("gradcam_") and not k.startswith("gradcam_signed_")]
    if not keys:
        raise KeyError(f"{gradcam_gsd}: no per-particle gradcam_* array")
    return keys[0]


def plot_snapshots(gradcam_gsd, indicators_gsd, mobility_gsd, out_png, gradcam_key: str | None = None, renderer: str = "auto",
                   radii: dict | None = None, model_metrics=None, figure_hook=None) -> str:
    """Three renders of one glass sample coloured by Grad-CAM (``gradcam_key``, default the map of
    the positive class), by the dynamics (propensity, else mobility) and by the best classical
    descriptor (:func:`choose_snapshot`); ``renderer`` 'auto' (OVITO if importable, else
    matplotlib), 'ovito' or 'matplotlib' — 3D samples are always drawn as the slab |z| < 1 σ
    (:func:`render_matplotlib`); ``radii`` species → drawing radius (:func:`particle_radii`;
    default σ/2 = 0.5 for all). Returns the renderer used. The title names the sample, its t_w,
    the slab and why it was chosen; panel titles use readable names (:func:`readable_name`).
    ``figure_hook`` (optional) is called with the Figure before it is closed."""
    gradcam_key = gradcam_key or positive_class_key(gradcam_gsd)
    states = read_states(gradcam_gsd)
    gradcam, indicators, mobility = read_logs(gradcam_gsd), read_logs(indicators_gsd), read_logs(mobility_gsd)
    if not (len(gradcam) == len(indicators) == len(mobility)):
        raise ValueError(f"frame counts differ: {gradcam_gsd} {len(gradcam)}, {indicators_gsd} {len(indicators)}, {mobility_gsd} {len(mobility)}")
    choice = choose_snapshot(gradcam, indicators, mobility, gradcam_key)
    k = choice["frame"]
    state = states[k]
    panels = [
        (readable_name(gradcam_key), _fields(gradcam[k])[gradcam_key], None),
        (readable_name(choice["dynamics"]), _fields(mobility[k])[choice["dynamics"]], choice["rho_gradcam"]),
        (readable_name(choice["descriptor"]), _fields(indicators[k])[choice["descriptor"]], choice["rho_descriptor"]),
    ]
    used = renderer
    images = None
    if renderer not in ("auto", "ovito", "matplotlib"):
        raise ValueError(f"renderer = {renderer!r}; expected auto, ovito or matplotlib")
    if renderer in ("auto", "ovito") and state.dimensions == 2:
        try:
            images = [render_ovito(state, percentile_colours(values), radii=radii) for _, values, _ in panels]
            used = "ovito"
        except ImportError:
            if renderer == "ovito":
                raise
            log.info("OVITO not importable: matplotlib fallback")
    if images is None:
        used = "matplotlib"
    fig = plt.figure(figsize=(13, 5.2), layout="constrained")
    axes = [fig.add_subplot(1, 3, i + 1) for i in range(3)]
    for i, (ax, (name, values, rho)) in enumerate(zip(axes, panels, strict=True)):
        if images is not None:
            ax.imshow(images[i])
            ax.set_axis_off()
        else:
            render_matplotlib(ax, state, percentile_colours(values), radii=radii)
        note = "" if rho is None else f"\nSpearman ρ with {readable_name(choice['dynamics']) if i == 2 else 'Grad-CAM'} = {rho:.2f}"
        ax.set_title(f"{name}{note}", fontsize=9)
    sample = int(np.ravel(gradcam[k].get(SAMPLE_KEY, [k]))[0])
    fig.colorbar(plt.cm.ScalarMappable(cmap=CMAP), ax=axes, shrink=0.7, label="percentile within the sample (0 = lowest)")
    section = (f"slab |z| < {SLAB_THICKNESS / 2:g} σ: {int(slab_mask(state).sum())} of {len(state.positions)} particles, "
               f"drawn at {SLAB_DISC_SCALE:g} × radius"
               if state.dimensions == 3 else f"{len(state.positions)} particles")
    fig.suptitle(f"glass sample {sample}, t_w = {state.time:.3g} τ, {section} ({used} render)\n"
                 f"chosen: {choice['reason']}", fontsize=8)
    fit_height(fig)  # the equal-aspect panels left blank bands above and below them
    chance_banner(fig, model_metrics)  # the figure derives from this model's Grad-CAM
    with atomic_output(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    if figure_hook is not None:
        figure_hook(fig)
    plt.close(fig)
    return used
