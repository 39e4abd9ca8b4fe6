"""Particle-level correlations between Grad-CAM, structural indicators and mobility, and the
spatial correlation length of the Grad-CAM field.

Every coefficient is a *within-frame* (particle-level) association. In frame f (one glass
sample) with n_f analysed particles, Grad-CAM x_i and a quantity y_i:

    Pearson   r_f = (1/n_f) Σ_i z(x)_i z(y)_i,   z(v)_i = (v_i − v̄_f)/s_f   (s_f: population std)
    Spearman  ρ_f = r_f of the within-frame ranks (ties get their mean rank)

and over a set F of frames (all frames, ``t_w = all``; or the frames of one aging time t_w,
the ``glasscam/time`` of the sample):

    r_F = Σ_{f∈F} n_f r_f / Σ_{f∈F} n_f

which equals the Pearson coefficient of the pooled per-frame z-scores (ranks: per-frame
standardised ranks). Frame-level differences — young samples are both more mobile and have a
different Grad-CAM level — therefore do not enter; pooling raw values would mix them in.

* 95 % bootstrap interval: frames of F resampled with replacement (multiplicity m_f weighs
  n_f r_f), percentiles 2.5 / 97.5;
* run-level 95 % interval (``spearman_run_lo/hi``): the runs (lineages) of the frames in F
  resampled with replacement, every frame of a drawn run entering — frames of one run share
  their history, so the frame bootstrap understates the spread (``n_runs`` runs);
* shuffled-field null: Grad-CAM ranks permuted among the analysed particles within each frame,
  ρ_F recomputed; mean and 2.5 / 97.5 percentiles (centred on 0 by construction).

Cost per frame O(n_f log n_f) (the ranks), plus O(n_f) per null draw.

Spatial autocorrelation of the per-frame standardised field δx_i = (x_i − x̄)/s_x:

    C(r) = Σ_{i≠j: |r_ij| ∈ bin(r)} δx_i δx_j / #pairs    (periodic minimum-image distances)

fitted with C(r) = A exp(−r/ξ) (ξ in σ; A < 1 absorbs uncorrelated particle-level noise) from
the peak of C(r) on; each fit reports its range and R² (and reduced χ² against the bootstrap
errors), and is flagged (``reliable: false`` + ``flag``) where it misses its data or ξ is below
the particle size.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.stats import rankdata

from glasscam.core.keys import ATTRIBUTION_METHOD_PATTERN, SAMPLE_KEY, per_particle_key
from glasscam.core.neighbors import ball_query
from glasscam.core.options import Options
from glasscam.core.seeds import rng

#: columns of the tidy correlation tables the correlate and external stages write
CORRELATION_COLUMNS = [
    "field",
    "quantity",
    "kind",
    "coarse_graining",
    "window",
    "species",
    "t_w",
    "n_samples",
    "n_zero_maps",
    "n_particles",
    "pearson",
    "pearson_lo",
    "pearson_hi",
    "spearman",
    "spearman_lo",
    "spearman_hi",
    "null_spearman_mean",
    "null_spearman_lo",
    "null_spearman_hi",
    "n_runs",
    "spearman_run_lo",
    "spearman_run_hi",
    "settings_hash",
]
PARTICLE_PREFIX = per_particle_key("")
MIN_PARTICLES_PER_FRAME = 3
LENGTH_R_MAX = 6.0  # σ: default C(r) range (config key r_max overrides); a fixed range keeps the pair count O(N) per frame
LENGTH_MIN_R_SQUARED = 0.8  # default: a C(r) fit explaining less of its points' variance is flagged
PARTICLE_SIZE = 1.0  # σ: default shortest length quoted (a field varying below the particle size is not a length)


@dataclass(frozen=True)
class CorrelationLengthOptions(Options):
    """Settings of the Grad-CAM correlation length (config ``correlations.length``;
    :func:`glasscam.stages.correlate.gradcam_correlation_length`): C(r) of each per-frame
    standardised per-particle field and ξ from C(r) = A exp(−r/ξ) (:func:`fit_correlation_length`).

    bin_width: C(r) bin width (σ, > 0); min_length: shortest ξ quoted (σ, ≥ 0; default the particle
    size :data:`PARTICLE_SIZE` — a shorter ξ is flagged, not quoted); min_r_squared: a fit with a
    lower R² misses its data and is flagged (in [0, 1]); n_bootstrap: resamples of the frames for
    ξ's interval (count, ≥ 0; 0: no interval); fit_r_max: end of the fit range (σ, > fit_r_min;
    None: r_max); group_by: log keys whose values group the frames (default the aging time
    ``glasscam/time``); r_max: C(r) range (σ; None, the default: from the box,
    min(0.98 L/2, :data:`LENGTH_R_MAX`) with L the smallest box edge — a fixed range keeps the pair
    count per frame O(N); a given value must lie in (0, L/2), checked against the frames);
    fit_r_min: start of the fit range (σ, ≥ 0; the fit starts at the peak of C(r) beyond it).

    config.yaml sets the first six; r_max and fit_r_min it leaves to these defaults. Values are
    kept as given, but group_by as a tuple (the stage records the config mapping as given). Raises ``ValueError`` naming the
    key (``correlations.length.min_r_squared = 1.5; must be in [0, 1]``).
    """

    SECTION = "correlations.length"

    bin_width: float = 0.2
    min_length: float = PARTICLE_SIZE
    min_r_squared: float = LENGTH_MIN_R_SQUARED
    n_bootstrap: int = 200
    fit_r_max: float | None = 5.0
    group_by: Sequence[str] = ("glasscam/time",)
    r_max: float | None = None
    fit_r_min: float = 0.0

    def __post_init__(self):
        self.require_positive("bin_width")
        self.require_nonnegative("min_length", "fit_r_min")
        if not 0 <= float(self.min_r_squared) <= 1:
            self.refuse("min_r_squared", "must be in [0, 1]")
        self.require_at_least(0, "n_bootstrap")
        if self.r_max is not None:
            self.require_positive("r_max")
        if self.fit_r_max is not None and not float(self.fit_r_max) > float(self.fit_r_min):
            self.refuse("fit_r_max", f"must exceed fit_r_min = {self.fit_r_min!r}")
        if isinstance(self.group_by, str) or not all(isinstance(key, str) for key in self.group_by):
            self.refuse("group_by", "expected a list of log keys")
        object.__setattr__(self, "group_by", tuple(self.group_by))

    def box_r_max(self, box_length: float) -> float:
        """The C(r) range (σ) for frames whose smallest box edge is ``box_length`` (σ): ``r_max``,
        or min(0.98 L/2, :data:`LENGTH_R_MAX`) when None; raises ``ValueError`` unless in (0, L/2)."""
        half_box = box_length / 2
        r_max = float(self.r_max if self.r_max is not None else min(0.98 * half_box, LENGTH_R_MAX))
        if not 0 < r_max < half_box:
            raise ValueError(f"{self.SECTION}.r_max = {r_max} must lie in (0, L/2 = {half_box:.3f})")
        return r_max


@dataclass(frozen=True)
class CorrelationOptions(Options):
    """Settings of the particle-level correlations (config ``correlations``;
    :func:`glasscam.stages.correlate.correlate`, ``correlate_descriptors``, the external stage).

    gradcam_key: the Grad-CAM field(s) correlated (:func:`gradcam_fields`): ``positive`` — the map
    of class 1 (glass, aged), ReLU and signed, then every further attribution of that class — or one
    per-particle array name; attributions: with ``positive``, ``all`` or the list of attribution
    methods kept (e.g. [ig, hirescam_b, occlusion_linear]); n_bootstrap: resamples of the frames
    (and runs) for the 95 % intervals (count, ≥ 0; 0: no interval); n_null: within-frame shuffles
    of the field for the null (count, ≥ 0); length: :class:`CorrelationLengthOptions` (a mapping
    is converted). Values are kept as given. Raises ``ValueError`` naming the key
    (``correlations.n_null = -1; must be ≥ 0``).
    """

    SECTION = "correlations"

    gradcam_key: str = "positive"
    attributions: str | Sequence[str] = "all"
    n_bootstrap: int = 200
    n_null: int = 100
    length: CorrelationLengthOptions = CorrelationLengthOptions()

    def __post_init__(self):
        if not isinstance(self.gradcam_key, str):
            self.refuse("gradcam_key", "expected 'positive' or a per-particle array name")
        if self.attributions != "all" and (isinstance(self.attributions, str)
                                           or not all(isinstance(m, str) for m in self.attributions)):
            self.refuse("attributions", "expected 'all' or a list of attribution methods")
        self.require_at_least(0, "n_bootstrap", "n_null")
        object.__setattr__(self, "length", CorrelationLengthOptions.from_config(self.length))

    @classmethod
    def from_length_cfg(cls, cfg: Mapping | None) -> CorrelationOptions:
        """Options from the flat mapping the correlation-length stage takes: the
        ``correlations.length`` keys beside ``gradcam_key`` and ``attributions``."""
        cfg = dict(cfg or {})
        selection = {key: cfg.pop(key) for key in ("gradcam_key", "attributions") if key in cfg}
        return cls.from_config({**selection, "length": cfg})

    def as_dict(self) -> dict:
        """The settings as a plain dict, ``length`` as its own dict."""
        return {**super().as_dict(), "length": self.length.as_dict()}


_CG = re.compile(r"^(?P<base>.+)_cg(?P<value>[0-9.eE+-]+)$")
_DT = re.compile(r"^(?P<base>.+)_dt(?P<value>[0-9.eE+-]+)$")


def _standardised(values: np.ndarray) -> np.ndarray | None:
    """(v − mean)/population std; None for a constant array."""
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else None


@dataclass
class FrameCorrelations:
    """Within-frame coefficients of the frames where both fields vary (≥ 3 particles):
    particle counts n (F,), Pearson and Spearman (F,), null Spearman draws (n_null, F) and the
    index of each frame in the input list (F,)."""

    n: np.ndarray
    pearson: np.ndarray
    spearman: np.ndarray
    null_spearman: np.ndarray
    frame: np.ndarray

    @classmethod
    def compute(cls, xs: list[np.ndarray], ys: list[np.ndarray], n_null: int, generator: np.random.Generator) -> "FrameCorrelations":
        """Coefficients of every frame k from its particle values ``xs[k]``, ``ys[k]``; the null
        permutes the ranks of x within the frame ``n_null`` times."""
        n, pearson, spearman, null, frame = [], [], [], [], []
        for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
            if len(x) < MIN_PARTICLES_PER_FRAME:
                continue
            zx, zy = _standardised(x), _standardised(y)
            rx, ry = _standardised(rankdata(x)), _standardised(rankdata(y))
            if zx is None or zy is None:
                continue
            n.append(len(x))
            pearson.append(float(zx @ zy) / len(x))
            spearman.append(float(rx @ ry) / len(x))
            null.append(generator.permuted(np.broadcast_to(rx, (n_null, len(x))), axis=1) @ ry / len(x))
            frame.append(k)
        return cls(
            np.array(n, dtype=float),
            np.array(pearson),
            np.array(spearman),
            np.array(null, dtype=float).reshape(len(n), n_null).T,
            np.array(frame, dtype=int),
        )

    def pooled(self, frames: np.ndarray, n_bootstrap: int, generator: np.random.Generator,
               runs: np.ndarray | None = None, run_generator: np.random.Generator | None = None) -> dict:
        """n-weighted means over the frames ``frames`` (input-list indices) with bootstrap
        intervals (frames resampled), the null distribution of the Spearman mean, and — given
        ``runs`` (the run of every input-list frame) — the run-level interval of the Spearman
        mean (runs resampled with ``run_generator``)."""
        select = np.isin(self.frame, frames)
        n, pearson, spearman, null = self.n[select], self.pearson[select], self.spearman[select], self.null_spearman[:, select]
        out = {"n_samples": int(select.sum()), "n_particles": int(n.sum())}
        if not select.any():
            return out
        out["pearson"], out["spearman"] = float(n @ pearson / n.sum()), float(n @ spearman / n.sum())
        if len(n) > 1 and n_bootstrap > 0:
            weights = np.array([np.bincount(generator.integers(0, len(n), len(n)), minlength=len(n)) for _ in range(n_bootstrap)]) * n
            for name, values in (("pearson", pearson), ("spearman", spearman)):
                out[f"{name}_lo"], out[f"{name}_hi"] = map(float, np.percentile(weights @ values / weights.sum(axis=1), [2.5, 97.5]))
        if runs is not None and n_bootstrap > 0:
            run_of = np.asarray(runs)[self.frame[select]]
            labels, index = np.unique(run_of, return_inverse=True)
            out["n_runs"] = int(len(labels))
            if len(labels) > 1:
                sums = np.bincount(index, weights=n * spearman, minlength=len(labels))
                counts = np.bincount(index, weights=n, minlength=len(labels))
                draws = (run_generator or generator).integers(0, len(labels), (n_bootstrap, len(labels)))
                multiplicity = np.array([np.bincount(d, minlength=len(labels)) for d in draws], dtype=float)
                out["spearman_run_lo"], out["spearman_run_hi"] = map(
                    float, np.percentile(multiplicity @ sums / (multiplicity @ counts), [2.5, 97.5]))
        if null.shape[0]:
            draws = null @ n / n.sum()
            out["null_spearman_mean"] = float(draws.mean())
            out["null_spearman_lo"], out["null_spearman_hi"] = map(float, np.percentile(draws, [2.5, 97.5]))
        return out


def _particle_arrays(log: dict) -> dict[str, np.ndarray]:
    return {k[len(PARTICLE_PREFIX) :]: np.asarray(v, float) for k, v in log.items() if k.startswith(PARTICLE_PREFIX)}


def _check_aligned(named_logs: dict[str, list[dict]], named_states: dict[str, list]) -> None:
    reference_name = next(iter(named_logs))
    samples = {}
    for name, logs in named_logs.items():
        missing = [k for k, log in enumerate(logs) if SAMPLE_KEY not in log]
        if missing:
            raise ValueError(f"{name}: frames {missing[:5]} lack log {SAMPLE_KEY}")
        samples[name] = [int(np.ravel(log[SAMPLE_KEY])[0]) for log in logs]
    for name, values in samples.items():
        if values != samples[reference_name]:
            raise ValueError(
                f"frames of {name} and {reference_name} do not align: {SAMPLE_KEY} = "
                f"{values[:8]}{'...' if len(values) > 8 else ''} vs {samples[reference_name][:8]}"
                f"{'...' if len(samples[reference_name]) > 8 else ''} (lengths {len(values)}, {len(samples[reference_name])})"
            )
        for k, (a, b) in enumerate(zip(named_states[name], named_states[reference_name], strict=True)):
            if not np.array_equal(a.typeid, b.typeid):
                raise ValueError(f"frame {k} ({SAMPLE_KEY} {values[k]}): particle types differ between {name} and {reference_name}")


def _quantities(logs: list[dict], kind: str, path) -> list[tuple[str, str, float, float]]:
    """(array name, quantity, coarse-graining L, window Δt) of the per-particle arrays of a file."""
    names = sorted(_particle_arrays(logs[0]))
    if not names:
        raise ValueError(f"{path}: no per-particle arrays {PARTICLE_PREFIX}<name>")
    out = []
    for name in names:
        if kind == "indicator":
            match = _CG.match(name)
            out.append((name, match["base"], float(match["value"]), float("nan")) if match else (name, name, 0.0, float("nan")))
        else:
            match = _DT.match(name)
            out.append((name, match["base"], 0.0, float(match["value"])) if match else (name, name, 0.0, float("nan")))
    return out


def _per_frame(logs: list[dict], name: str, path) -> list[np.ndarray]:
    """The per-particle array ``name`` of every frame; a frame without it is an error naming ``path``."""
    values = []
    for k, log in enumerate(logs):
        arrays = _particle_arrays(log)
        if name not in arrays:
            raise ValueError(f"{path}: frame {k} lacks per-particle log {per_particle_key(name)}")
        values.append(arrays[name])
    return values


def attribution_method(name: str, class_name: str) -> str | None:
    """The method of a per-particle attribution array ``<method>_<class_name>``
    (:data:`ATTRIBUTION_METHOD_PATTERN`), else None."""
    match = re.fullmatch(rf"({ATTRIBUTION_METHOD_PATTERN})_{re.escape(class_name)}", name)
    return match[1] if match else None


def gradcam_fields(cfg: Mapping | CorrelationOptions, arrays: dict, class_names: list[str] | None) -> list[str]:
    """The Grad-CAM fields to correlate (``cfg``: :class:`CorrelationOptions` or the config
    ``correlations`` mapping): ``gradcam_key`` ``positive`` (default) means the map of
    class 1 (glass, aged) — ReLU ``gradcam_<class>`` and signed ``gradcam_signed_<class>`` — followed
    by every further attribution of that class in the file (``<method>_<class>``,
    :func:`attribution_method`; ``attributions``: ``all`` (default) or the list of methods to keep,
    a block-less ``gradcam_b`` / ``gradcam_signed_b`` / ``hirescam_b`` keeping every block); any
    other ``gradcam_key`` names one per-particle array (its signed twin is added where it exists)."""
    options = CorrelationOptions.from_config(cfg)
    key = options.gradcam_key
    positive = key == "positive"
    if positive:
        if not class_names or len(class_names) < 2:
            raise ValueError("correlations.gradcam_key = positive needs the model's class names in the Grad-CAM file")
        key = f"gradcam_{class_names[1]}"
    if key not in arrays:
        raise ValueError(f"correlations.gradcam_key = {options.gradcam_key!r}: no per-particle array {key!r}; "
                         f"the Grad-CAM file has {sorted(k for k in arrays if k.startswith('gradcam'))}")
    fields = [key]
    signed = key.replace("gradcam_", "gradcam_signed_", 1)
    if signed != key and signed in arrays:
        fields.append(signed)
    if positive:
        wanted = options.attributions
        for name in sorted(arrays):
            method = attribution_method(name, class_names[1])
            if method is None or name in fields:
                continue
            if wanted == "all" or method in wanted or re.sub(r"\d+$", "", method) in wanted:
                fields.append(name)
    return fields


def _rows_for_field(field: str, xs_all: list[np.ndarray], targets: list[tuple], species_masks: dict, groups: list,
                    n_null: int, n_bootstrap: int, seed: int, stream: tuple = (), runs: np.ndarray | None = None,
                    extra: dict | None = None) -> list[dict]:
    """Correlation rows of one field with every target; ``stream`` labels the field's random
    stream (empty for the primary Grad-CAM field, so its resampling is unchanged by others);
    ``runs`` (the run of every frame) adds the run-level interval (its own random stream);
    ``extra`` columns (e.g. ``settings_hash``) are copied into every row."""
    rows = []
    zero = np.array([np.all(x == 0) for x in xs_all])
    for kind, name, quantity, cg, window, values in targets:
        for species, masks in species_masks.items():
            xs, ys = [], []
            for g, v, mask in zip(xs_all, values, masks, strict=True):
                ok = mask & np.isfinite(g) & np.isfinite(v)
                xs.append(g[ok])
                ys.append(v[ok])
            generator = rng(seed, "correlate", name, species, *stream)
            run_generator = rng(seed, "correlate", name, species, *stream, "runs")
            frames = FrameCorrelations.compute(xs, ys, n_null, generator)
            for t_w, members in groups:
                row = {"field": field, "quantity": quantity, "kind": kind, "coarse_graining": cg, "window": window,
                       "species": species, "t_w": t_w, "n_zero_maps": int(zero[members].sum()), **(extra or {})}
                row.update(frames.pooled(members, n_bootstrap, generator, runs, run_generator))
                rows.append({c: row.get(c, float("nan")) for c in CORRELATION_COLUMNS})
    return rows


def _targets(logs: dict, paths: dict, kinds: tuple[str, ...]) -> list[tuple]:
    out = []
    for kind in kinds:
        path = paths[kind]
        kind_logs = logs[str(path)]
        for name, quantity, cg, window in _quantities(kind_logs, kind, path):
            out.append((kind, name, quantity, cg, window, _per_frame(kind_logs, name, path)))
    return out


def _exponential(r, amplitude, xi):
    return amplitude * np.exp(-r / xi)


def _exponential_jacobian(r, amplitude, xi):
    decay = np.exp(-r / xi)
    return np.column_stack([decay, amplitude * r / xi**2 * decay])


def _fit_exponential(r: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of c ≈ A exp(−r/ξ), A ≥ 0: A is linear given ξ (profiled out), ln ξ is found by
    a bounded scalar search on [10⁻³, 100 r_max] σ; covariance s² (JᵀJ)⁻¹ with s² = SSE/(n − 2)."""
    def amplitude(xi):
        decay = np.exp(-r / xi)
        norm = float(decay @ decay)
        return max(float(decay @ c) / norm, 0.0) if norm > 0 else 0.0

    def sse(log_xi):
        xi = np.exp(log_xi)
        return float(np.sum((c - amplitude(xi) * np.exp(-r / xi)) ** 2))

    upper = np.log(100.0 * float(r.max()))
    result = minimize_scalar(sse, bounds=(np.log(1e-3), upper), method="bounded", options={"xatol": 1e-6})
    if not result.success:
        raise RuntimeError(result.message)
    xi = float(np.exp(result.x))
    params = np.array([amplitude(xi), xi])
    jac = _exponential_jacobian(r, *params)
    dof = max(len(r) - 2, 1)
    cov = np.linalg.pinv(jac.T @ jac) * result.fun / dof
    return params, cov


def fit_correlation_length(r: np.ndarray, c: np.ndarray, r_min: float, r_max: float, c_err: np.ndarray | None = None,
                           min_length: float = PARTICLE_SIZE, min_r_squared: float = LENGTH_MIN_R_SQUARED) -> dict:
    """Least-squares fit of C(r) = A exp(−r/ξ) where C(r) decays: from the bin of the largest
    C within [r_min, r_max] (a C(r) that first rises — particle-level anticorrelation at contact,
    or a field smoother than the particle spacing — is not fitted through its rise) to r_max.

    Returns amplitude, xi, xi_err_fit (covariance), fit_r_start, fit_r_end, n_fit_points,
    r_squared (1 − SS_res/SS_tot over the fitted bins), reduced_chi2 (with ``c_err``, the per-bin
    standard errors, else NaN), ``reliable`` and ``flag`` (None, or why ξ must not be quoted:
    fewer than 3 decaying bins, the fit failed, R² < ``min_r_squared`` — the exponential misses
    its data — ξ < ``min_length`` (σ, the particle size), or ξ longer than the fitted range)."""
    out = {"amplitude": float("nan"), "xi": float("nan"), "xi_err_fit": float("nan"), "fit_r_start": float("nan"),
           "fit_r_end": float("nan"), "n_fit_points": 0, "r_squared": float("nan"), "reduced_chi2": float("nan"),
           "reliable": False, "flag": None}
    window = (r >= r_min) & (r <= r_max) & np.isfinite(c)
    if window.sum() < 3:
        out["flag"] = f"fewer than 3 finite C(r) bins in {r_min:g} ≤ r ≤ {r_max:g} σ"
        return out
    peak = np.flatnonzero(window)[np.argmax(c[window])]
    ok = window & (r >= r[peak])
    out["fit_r_start"], out["fit_r_end"], out["n_fit_points"] = float(r[peak]), float(r[ok].max()), int(ok.sum())
    if ok.sum() < 3:
        out["flag"] = f"C(r) peaks at r = {r[peak]:.2f} σ, leaving {int(ok.sum())} decaying bins (need 3)"
        return out
    try:
        params, cov = _fit_exponential(r[ok], c[ok])
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as error:
        out["flag"] = f"fit failed: {error}"
        return out
    residual = c[ok] - _exponential(r[ok], *params)
    total = np.sum((c[ok] - c[ok].mean()) ** 2)
    out.update(amplitude=float(params[0]), xi=float(params[1]), xi_err_fit=float(np.sqrt(cov[1, 1])),
               r_squared=float(1 - np.sum(residual**2) / total) if total > 0 else float("nan"))
    if c_err is not None:
        err = np.asarray(c_err, float)[ok]
        if np.all(np.isfinite(err)) and np.all(err > 0) and ok.sum() > 2:
            out["reduced_chi2"] = float(np.sum((residual / err) ** 2) / (ok.sum() - 2))
    if not out["r_squared"] >= min_r_squared:
        out["flag"] = (f"the exponential misses C(r): R² = {out['r_squared']:.2f} < {min_r_squared:g} on "
                       f"{out['fit_r_start']:.2f} ≤ r ≤ {out['fit_r_end']:.2f} σ")
    elif out["xi"] < min_length:
        out["flag"] = f"ξ = {out['xi']:.2f} σ is below the particle size ({min_length:g} σ)"
    elif out["xi"] > out["fit_r_end"] - out["fit_r_start"]:
        out["flag"] = (f"ξ = {out['xi']:.2f} σ exceeds the fitted range ({out['fit_r_start']:.2f}–{out['fit_r_end']:.2f} σ): "
                       "the decay is not sampled")
    out["reliable"] = out["flag"] is None
    return out


# pairs a C(r) bin needs, summed over its frames, to count: below contact a bin holds a handful of
# pairs, and their mean — noise of order 1/√n — could pass for the peak the fit starts from
LENGTH_MIN_PAIRS = 100


def _length_summary(r, sums, counts, weights_list, r_min, r_max, fit_kwargs: dict) -> dict:
    """C(r) pooled over frames (bins with fewer than :data:`LENGTH_MIN_PAIRS` pairs are NaN, not
    data), its fit, and the bootstrap over frames (``weights_list``) of ξ and of C(r)'s errors."""
    c = sums.sum(axis=0) / np.maximum(counts.sum(axis=0), 1)
    c[counts.sum(axis=0) < LENGTH_MIN_PAIRS] = np.nan
    boot, boot_c = [], []
    for w in weights_list:
        total = (w[:, None] * counts).sum(axis=0)
        cb = np.where(total >= LENGTH_MIN_PAIRS, (w[:, None] * sums).sum(axis=0) / np.maximum(total, 1), np.nan)
        boot_c.append(cb)
        boot.append(fit_correlation_length(r, cb, r_min, r_max, **fit_kwargs)["xi"])
    c_err = None
    if len(boot_c) > 1:
        stacked = np.array(boot_c)
        finite_bins = np.isfinite(stacked).sum(axis=0) > 1
        c_err = np.full(stacked.shape[1], np.nan)
        c_err[finite_bins] = np.nanstd(stacked[:, finite_bins], axis=0)
    fit = fit_correlation_length(r, c, r_min, r_max, c_err, **fit_kwargs)
    finite = np.isfinite(boot)
    lo, hi = np.percentile(np.asarray(boot)[finite], [2.5, 97.5]) if finite.sum() > 1 else (np.nan, np.nan)
    return {
        "n_frames": int(len(sums)),
        "C": [None if not np.isfinite(v) else float(v) for v in c],
        "C_err": None if c_err is None else [None if not np.isfinite(v) else float(v) for v in c_err],
        **fit,
        "xi_bootstrap_std": float(np.std(np.asarray(boot)[finite])) if finite.sum() > 1 else float("nan"),
        "xi_bootstrap_lo": float(lo),
        "xi_bootstrap_hi": float(hi),
    }


def pair_correlation_sums(state, values: np.ndarray, r_max: float, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Σ v_i v_j and the pair count per distance bin over ordered pairs i ≠ j with r_ij < r_max
    (minimum image), bins of width r_max/bins → (bin centres, sums, counts), each shape (bins,).

    Bit-reproducible: freud only enumerates the pairs; they are sorted by (i, j), their
    distances recomputed in float64 and summed with ``np.bincount`` in that fixed order (freud's
    own CorrelationFunction sums in parallel, in an order that varies between runs)."""
    nlist = ball_query(state, r_max, exclude_self=True)
    i = np.asarray(nlist.query_point_indices, dtype=np.int64)
    j = np.asarray(nlist.point_indices, dtype=np.int64)
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    L, d = float(state.box_length), int(state.dimensions)
    delta = (np.asarray(state.positions, dtype=np.float64)[j] - np.asarray(state.positions, dtype=np.float64)[i])[:, :d]
    delta -= L * np.round(delta / L)
    r = np.sqrt(np.einsum("ij,ij->i", delta, delta))
    width = r_max / bins
    k = np.floor(r / width).astype(np.int64)
    keep = (r < r_max) & (k < bins)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:  # several fields of the same particles: (F, N) → sums (F, bins)
        sums = np.array([np.bincount(k[keep], weights=v[i[keep]] * v[j[keep]], minlength=bins) for v in values])
        return (np.arange(bins) + 0.5) * width, sums, np.bincount(k[keep], minlength=bins).astype(float)
    sums = np.bincount(k[keep], weights=values[i[keep]] * values[j[keep]], minlength=bins)
    counts = np.bincount(k[keep], minlength=bins).astype(float)
    return (np.arange(bins) + 0.5) * width, sums, counts


def _length_records(gradcam_gsd, states, logs, keys: list[str], options: CorrelationLengthOptions, seed: int,
                    recorded: dict) -> dict[str, dict]:
    """C(r) of each standardised per-particle field in ``keys`` and ξ from C(r) = A exp(−r/ξ)
    (:func:`fit_correlation_length`), for all frames and per group of frames sharing the values of
    the ``options.group_by`` logs → {key: record}. The pairs of a frame are enumerated once for
    every field.

    ``options``: :class:`CorrelationLengthOptions` (units and defaults there); ``recorded``: the
    settings mapping each record holds under ``config``. Frames whose field is constant are
    skipped (counted); a field with non-finite values (e.g. exact occlusion on a subset of
    particles) gets a note instead of a C(r).
    """
    r_max = options.box_r_max(min(s.box_length for s in states))
    bin_width = float(options.bin_width)
    fit_r_min = float(options.fit_r_min)
    fit_r_max = float(options.fit_r_max if options.fit_r_max is not None else r_max)
    fit_kwargs = {"min_length": float(options.min_length), "min_r_squared": float(options.min_r_squared)}
    n_bootstrap = int(options.n_bootstrap)
    group_by = list(options.group_by)
    bins = max(1, int(math.ceil(r_max / bin_width)))
    sparse = set()
    fields = {key: [] for key in keys}
    for k, log in enumerate(logs):
        arrays = _particle_arrays(log)
        for key in keys:
            if key not in arrays:
                raise ValueError(f"{gradcam_gsd}: frame {k} lacks per-particle log {per_particle_key(key)}")
            if not np.all(np.isfinite(arrays[key])):
                sparse.add(key)
            fields[key].append(arrays[key])
    dense = [key for key in keys if key not in sparse]
    sums = {key: [] for key in dense}
    counts = {key: [] for key in dense}
    labels = {key: [] for key in dense}
    skipped = dict.fromkeys(dense, 0)
    r = (np.arange(bins) + 0.5) * (r_max / bins)
    for k, (state, log) in enumerate(zip(states, logs, strict=True)):
        varying = [key for key in dense if np.std(fields[key][k]) > 0]
        for key in set(dense) - set(varying):
            skipped[key] += 1
        if not varying:
            continue
        standardised = np.array([(fields[key][k] - fields[key][k].mean()) / fields[key][k].std() for key in varying])
        r, pair_sums, n_pairs = pair_correlation_sums(state, standardised, r_max, bins)
        label = tuple(float(np.ravel(log[g])[0]) if g in log else None for g in group_by)
        for row, key in enumerate(varying):
            sums[key].append(pair_sums[row])
            counts[key].append(n_pairs)
            labels[key].append(label)
    records = {}
    for key in keys:
        if key in sparse:
            records[key] = {"field": key, "note": f"{key} is not finite at every particle (a subset field); no C(r)"}
            continue
        if not sums[key]:
            records[key] = {"field": key, "n_frames_skipped": skipped[key],
                            "note": f"every frame has a constant {key} field (e.g. an identically zero ReLU map); no C(r)"}
            continue
        records[key] = _length_record(key, r, np.array(sums[key]), np.array(counts[key]), labels[key], skipped[key],
                                      recorded, seed, fit_r_min, fit_r_max, n_bootstrap, group_by, fit_kwargs)
    return records


def _length_record(key, r, sums, counts, labels, skipped, cfg, seed, fit_r_min, fit_r_max, n_bootstrap, group_by,
                   fit_kwargs) -> dict:
    generator = rng(seed, "gradcam_correlation_length", key)

    def bootstrap_weights(n: int) -> list[np.ndarray]:
        return [np.bincount(generator.integers(0, n, n), minlength=n).astype(float) for _ in range(n_bootstrap)] if n > 1 else []

    record = {
        "field": key,
        "model": "C(r) = A exp(-r/xi), fitted from the peak of C(r)",
        "r": r.tolist(),
        "pair_counts": counts.sum(axis=0).tolist(),
        "fit_r_min": fit_r_min,
        "fit_r_max": fit_r_max,
        "n_bootstrap": n_bootstrap,
        "n_frames_skipped": skipped,
        "config": cfg,
        **_length_summary(r, sums, counts, bootstrap_weights(len(sums)), fit_r_min, fit_r_max, fit_kwargs),
    }
    groups = defaultdict(list)
    for i, label in enumerate(labels):
        groups[label].append(i)
    record["groups"] = [
        {
            **dict(zip(group_by, label, strict=True)),
            **_length_summary(r, sums[idx], counts[idx], bootstrap_weights(len(idx)), fit_r_min, fit_r_max, fit_kwargs),
        }
        for label, idx in sorted(groups.items(), key=lambda item: [(v is None, v or 0) for v in item[0]])
    ]
    return record
