"""Dynamic heterogeneity: overlap Q(t; a), χ4(t), the four-point structure factor S4(q, t) and its
Ornstein–Zernike fit for ξ4."""

from dataclasses import asdict, dataclass, fields

import numpy as np
from scipy.optimize import curve_fit

from glasscam.analysis.scattering import (
    capped_selection,
    overlap_fourier_amplitudes,
    reciprocal_lattice_vectors,
)
from glasscam.core.schedule import frame_at


def overlap(disp: np.ndarray, a: float = 0.3) -> np.ndarray:
    """Q(a) = (1/N) Σ_i Θ(a − |Δr_i|), the fraction of particles that moved less than a."""
    return (np.linalg.norm(disp, axis=-1) < a).mean(axis=-1)


def chi4(overlaps, n_particles: int) -> np.ndarray:
    """χ4 = N [⟨Q²⟩ − ⟨Q⟩²] over trajectories (axis 0 of ``overlaps``)."""
    q = np.asarray(overlaps, dtype=np.float64)
    return n_particles * (np.mean(q**2, axis=0) - np.mean(q, axis=0) ** 2)


def run_bootstrap_counts(n_runs: int, n_bootstrap: int = 1000, seed: int = 0) -> np.ndarray:
    """(n_bootstrap, n_runs) multiplicities of a bootstrap over runs (each row a multinomial draw
    of n_runs runs with replacement)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_runs, np.full(n_runs, 1.0 / n_runs), size=n_bootstrap)


def chi4_over_runs(overlaps_by_run: dict, n_particles: int, counts: np.ndarray | None = None, confidence: float = 0.95) -> tuple[float, float, float]:
    """χ4 = N [⟨Q²⟩ − ⟨Q⟩²] over every trajectory of every run, with a bootstrap interval over
    independent runs.

    ``overlaps_by_run`` maps a run to the overlaps Q of its trajectories (replicas of one run
    start from the same configuration, so they are resampled together: a cluster bootstrap);
    ``counts`` (B, n_runs) from :func:`run_bootstrap_counts` (default 1000 draws, seed 0).
    Returns (χ4, lo, hi), the percentile interval; NaN interval with fewer than 2 runs, NaN χ4
    with fewer than 2 trajectories."""
    groups = [np.asarray(v, dtype=np.float64) for v in overlaps_by_run.values() if len(v)]
    pooled = np.concatenate(groups) if groups else np.zeros(0)
    value = float(chi4(pooled, n_particles)) if len(pooled) > 1 else float("nan")
    if len(groups) < 2:
        return value, float("nan"), float("nan")
    if counts is None or counts.shape[1] != len(groups):
        counts = run_bootstrap_counts(len(groups))
    n = counts @ np.array([len(g) for g in groups], dtype=np.float64)
    s1 = counts @ np.array([g.sum() for g in groups])
    s2 = counts @ np.array([(g**2).sum() for g in groups])
    draws = n_particles * (s2 / n - (s1 / n) ** 2)
    lo, hi = np.percentile(draws, [50 * (1 - confidence), 50 * (1 + confidence)])
    return value, float(lo), float(hi)


def s4_wavevectors(box_length: float, dimensions: int, q_max: float, max_shells: int = 16, max_vectors_per_shell: int = 24) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wave vectors for S4(q): q = 0, then shells of equal |q| = 2π|n|/L ≤ ``q_max`` on the
    reciprocal lattice of the box (one of each ±q pair).

    At most ``max_shells`` − 1 shells (the smallest |q| always, the rest nearest to an even grid
    in |q| up to q_max) and ``max_vectors_per_shell`` vectors per shell, so the set — and the cost
    O(N K) per frame — is bounded however large the box. Returns (vectors (K, d), shell index
    of each vector (K,), |q| of each shell (S,) with shell 0 the q = 0 vector)."""
    if max_shells < 2 or max_vectors_per_shell < 1:
        raise ValueError(f"max_shells = {max_shells}, max_vectors_per_shell = {max_vectors_per_shell}; expected ≥ 2 and ≥ 1")
    vectors = reciprocal_lattice_vectors(box_length, dimensions, q_max)
    if len(vectors) == 0:
        raise ValueError(f"q_max = {q_max} is below the smallest wave vector 2π/L = {2 * np.pi / box_length:.3f} of the box")
    n_squared = np.rint((vectors * box_length / (2 * np.pi)) ** 2).sum(axis=1).astype(np.int64)
    shell_n2, shell = np.unique(n_squared, return_inverse=True)
    chosen = np.arange(len(shell_n2))
    if len(shell_n2) > max_shells - 1:
        shell_q = 2 * np.pi / box_length * np.sqrt(shell_n2)
        targets = np.linspace(shell_q[0], shell_q[-1], max_shells - 1)
        chosen = np.unique(np.abs(shell_q[None, :] - targets[:, None]).argmin(axis=1))
    keep = np.isin(shell, chosen)
    vectors, shell = vectors[keep], np.searchsorted(chosen, shell[keep])
    keep = capped_selection(shell, max_vectors_per_shell)
    vectors = np.vstack([np.zeros((1, dimensions)), vectors[keep]])
    shell = np.r_[0, shell[keep] + 1]
    q_shell = np.r_[0.0, 2 * np.pi / box_length * np.sqrt(shell_n2[chosen])]
    return vectors, shell, q_shell


def four_point_structure_factor(w_amplitudes, rho_amplitudes, overlaps, n_particles: int, shell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S4 per shell of equal |q| from M trajectories (rows) and K wave vectors (columns).

    With δw_j = w_j − ⟨Q⟩ (⟨Q⟩ the mean overlap over trajectories) and
    W(q) = Σ_j δw_j e^{iq·r_j(0)} = W_w(q) − ⟨Q⟩ ρ(q)  (``w_amplitudes``, ``rho_amplitudes``
    from :func:`overlap_fourier_amplitudes`, ``overlaps`` the Q of each trajectory):

        S4(q) = (1/N) [⟨|W(q)|²⟩ − |⟨W(q)⟩|²]

    averaged over the vectors of each shell (``shell`` as from :func:`s4_wavevectors`, shell 0
    the q = 0 vector). Subtracting ⟨Q⟩ removes the static term
    ⟨Q⟩² N S(q) that raw weights leave when trajectories start from different configurations;
    at q = 0, S4 = N[⟨Q²⟩ − ⟨Q⟩²] = χ4 exactly. Independent particles give S4(q) = χ4 at every q.
    Returns (S4 (S,), standard error (S,)). The error assumes Gaussian amplitudes W (a sum over
    many particles, as long as the dynamic correlation volume is small against the box): then
    |W − ⟨W⟩|² is exponentially distributed at q ≠ 0, SE = S4/√n for the n = M × (vectors in the
    shell) values, and χ²-distributed with one degree of freedom at q = 0, SE = S4 √(2/M). (The
    shells' own scatter is no better an error estimate: with few values it correlates with S4,
    and a fit weighted by it is biased low.)"""
    mean_overlap = float(np.mean(overlaps))
    amplitude = np.asarray(w_amplitudes) - mean_overlap * np.asarray(rho_amplitudes)
    values = np.abs(amplitude - amplitude.mean(axis=0)) ** 2 / n_particles
    n_shells = int(shell.max()) + 1
    s4, s4_err = np.empty(n_shells), np.empty(n_shells)
    for s in range(n_shells):
        v = values[:, shell == s].ravel()
        s4[s] = v.mean()
        s4_err[s] = s4[s] * (np.sqrt(2 / len(v)) if s == 0 else 1 / np.sqrt(len(v)))
    return s4, s4_err


def _ornstein_zernike(q, chi4_inf, xi_squared):
    return chi4_inf / (1 + q**2 * xi_squared)


def _fit_ornstein_zernike_window(q, s4, relative_err, reweightings: int = 4):
    """(params, covariance) of the OZ fit on one window. With relative errors, the weights are
    σ_i = model(q_i) × relative_err_i, refined ``reweightings`` times: weighting by each shell's
    own scatter would favour shells that fluctuated low (the scatter of |W|² scales with its
    mean) and bias χ4^∞ and ξ4 downwards."""
    xi2_floor = -0.99 / q.max() ** 2
    params = np.array([max(s4.max(), 1e-12), 0.0])
    if np.all(s4 > 0):  # 1/S4 = (1 + q²ξ²)/χ4^∞ is linear in q²: starting values
        slope, intercept = np.polyfit(q**2, 1 / s4, 1)
        if intercept > 0:
            params = np.array([1 / intercept, max(slope / intercept, 0.5 * xi2_floor)])
    sigma = None if relative_err is None else s4 * relative_err
    for _ in range(1 + (0 if relative_err is None else reweightings)):
        params, cov = curve_fit(
            _ornstein_zernike, q, s4, p0=params, sigma=sigma, absolute_sigma=sigma is not None, bounds=([0.0, xi2_floor], [np.inf, np.inf])
        )
        if relative_err is not None:
            sigma = _ornstein_zernike(q, *params) * relative_err
    return params, cov, sigma


XI4_MIN_LENGTH = 1.0  # σ: a ξ4 below the particle size is flagged, not quoted
XI4_MAX_REDUCED_CHI2 = 5.0  # a weighted OZ fit with larger reduced χ² misses its data: flagged


def fit_ornstein_zernike(q, s4, s4_err=None, fit_qxi_max: float = 2.0, min_shells: int = 3,
                         min_length: float = XI4_MIN_LENGTH, max_reduced_chi2: float = XI4_MAX_REDUCED_CHI2) -> dict:
    """Fit S4(q) = χ4^∞ / (1 + (q ξ4)²) on the shells 0 < q ≤ ``fit_qxi_max``/ξ4 (window found
    self-consistently; q = 0 is excluded, where a closed box suppresses χ4).

    Weighted least squares with (χ4^∞, ξ4²) as parameters, so that a flat S4 (ξ4 → 0) is an
    interior point; the weights are σ_i = model(q_i) · s4_err_i/S4_i (the relative errors of
    ``s4_err`` applied to the model, refined iteratively; unweighted without ``s4_err``).
    ξ4 = √max(ξ4², 0), its error σ(ξ4²)/(2ξ4) (√σ(ξ4²) at ξ4 = 0). ξ4 is NaN, with the reason,
    when fewer than ``min_shells`` shells lie in the window — the box is then too small to see
    the plateau of S4 below q ≈ 1/ξ4.
    Returns chi4_inf, chi4_inf_err, xi4, xi4_err, xi4_squared, xi4_squared_err, fit_q_min,
    fit_q_max, n_fit_shells, reduced_chi2, r_squared, reason (None on success), and ``reliable`` /
    ``flag`` (None, or why ξ4 must not be quoted: the fit failed or had too few shells, reduced
    χ² > ``max_reduced_chi2``, or ξ4 < ``min_length`` σ, the particle size)."""
    q, s4 = np.asarray(q, float), np.asarray(s4, float)
    usable = (q > 0) & np.isfinite(s4)
    relative = None
    if s4_err is not None:
        err = np.asarray(s4_err, float)
        if np.all(np.isfinite(err[usable]) & (err[usable] > 0) & (s4[usable] > 0)):
            relative = err / np.where(s4 > 0, s4, 1.0)
    out = dict.fromkeys(
        ["chi4_inf", "chi4_inf_err", "xi4", "xi4_err", "xi4_squared", "xi4_squared_err", "fit_q_min", "fit_q_max",
         "reduced_chi2", "r_squared"], float("nan")
    )
    out["n_fit_shells"], out["reason"], out["reliable"], out["flag"] = 0, None, False, None
    window, fitted = usable, None
    params = cov = sigma = None
    for _ in range(20):
        if window.sum() < min_shells or (fitted is not None and np.array_equal(window, fitted)):
            break
        try:
            params, cov, sigma = _fit_ornstein_zernike_window(q[window], s4[window], None if relative is None else relative[window])
        except (RuntimeError, ValueError) as error:
            out["reason"] = out["flag"] = f"fit failed: {error}"
            return out
        fitted = window
        xi = np.sqrt(max(params[1], 0.0))
        window = usable & (q * xi <= fit_qxi_max) if xi > 0 else usable
    if fitted is not None and not np.array_equal(window, fitted) and window.sum() >= min_shells:
        window = fitted  # the window oscillates between two sets: keep the last one fitted
    n_window = int(window.sum())
    if params is None or n_window < min_shells:
        q_positive = q[usable]
        smallest = f"{q_positive.min():.3g}" if len(q_positive) else "none"
        out["n_fit_shells"] = n_window
        out["reason"] = (
            f"only {n_window} q shells with q ξ4 ≤ {fit_qxi_max:g} (need {min_shells}; smallest q = {smallest} σ⁻¹"
            + (f", ξ4 ≈ {np.sqrt(max(params[1], 0)):.3g} σ" if params is not None else "")
            + "): the box is too small for the Ornstein–Zernike fit"
        )
        out["flag"] = out["reason"]
        return out
    residual = (s4[window] - _ornstein_zernike(q[window], *params)) / (1.0 if sigma is None else sigma)
    xi2, xi2_err = float(params[1]), float(np.sqrt(cov[1, 1]))
    xi = np.sqrt(max(xi2, 0.0))
    out.update(
        chi4_inf=float(params[0]),
        chi4_inf_err=float(np.sqrt(cov[0, 0])),
        xi4=float(xi),
        xi4_err=float(xi2_err / (2 * xi)) if xi > 0 else float(np.sqrt(xi2_err)),
        xi4_squared=xi2,
        xi4_squared_err=xi2_err,
        fit_q_min=float(q[window].min()),
        fit_q_max=float(q[window].max()),
        n_fit_shells=n_window,
        reduced_chi2=float(np.sum(residual**2) / (n_window - 2)) if sigma is not None and n_window > 2 else float("nan"),
    )
    plain = s4[window] - _ornstein_zernike(q[window], *params)
    total = np.sum((s4[window] - s4[window].mean()) ** 2)
    out["r_squared"] = float(1 - np.sum(plain**2) / total) if total > 0 else float("nan")
    if np.isfinite(out["reduced_chi2"]) and out["reduced_chi2"] > max_reduced_chi2:
        out["flag"] = f"the Ornstein–Zernike form misses S4(q): reduced χ² = {out['reduced_chi2']:.1f} > {max_reduced_chi2:g}"
    elif xi < min_length:
        out["flag"] = f"ξ4 = {xi:.2f} σ is below the particle size ({min_length:g} σ)"
    out["reliable"] = out["flag"] is None
    return out


@dataclass(frozen=True)
class S4Options:
    """Settings of the four-point structure factor (config ``dynamics.s4``).

    q_max: largest |q| of the shells [σ⁻¹]; max_shells: number of |q| shells kept, q = 0
    included (≥ 2); max_vectors_per_shell: wave vectors averaged per shell (≥ 1);
    fit_qxi_max: Ornstein–Zernike fit window q ξ4 ≤ this [dimensionless, > 0]; min_shells:
    shells the fit needs (≥ 2). Values are kept as given (they are recorded in the JSON).
    """

    q_max: float = 3.0
    max_shells: int = 16
    max_vectors_per_shell: int = 24
    fit_qxi_max: float = 2.0
    min_shells: int = 3

    def __post_init__(self):
        if not (self.q_max > 0 and self.max_shells >= 2 and self.max_vectors_per_shell >= 1
                and self.fit_qxi_max > 0 and self.min_shells >= 2):
            raise ValueError(f"dynamics.s4: {self}; need q_max > 0, max_shells ≥ 2, max_vectors_per_shell ≥ 1, "
                             "fit_qxi_max > 0, min_shells ≥ 2")

    @classmethod
    def from_config(cls, s4_cfg: dict | None) -> "S4Options":
        """Options from the config mapping; an unknown key raises ``ValueError`` naming it."""
        known = {f.name for f in fields(cls)}
        unknown = set(s4_cfg or {}) - known
        if unknown:
            raise ValueError(f"dynamics.s4: unknown keys {sorted(unknown)}; expected {sorted(known)}")
        return cls(**(s4_cfg or {}))


@dataclass
class _OverlapRecord:
    """What S4 needs of one trajectory: frame times (T,), frame-0 positions (N, d) and the
    overlap weights Θ(a − |Δr_i(t_k)|) of every frame (T, N)."""

    label: str
    times: np.ndarray
    start: np.ndarray
    weights: np.ndarray


def _four_point(records: list[_OverlapRecord], box_length: float, dimensions: int, species_masks: dict, chi4_rows: dict, cfg: S4Options) -> dict:
    """S4(q, t*) and its Ornstein–Zernike fit per species at the time t* of the χ4 peak."""
    vectors, shell, q_shell = s4_wavevectors(box_length, dimensions, float(cfg.q_max), int(cfg.max_shells), int(cfg.max_vectors_per_shell))
    out = {}
    for species, mask in species_masks.items():
        times = np.array([t for t, _ in chi4_rows[species]])
        chi = np.array([c for _, c in chi4_rows[species]])
        ok = (times > 0) & np.isfinite(chi)
        record = {"t_star": float("nan"), "chi4_peak": float("nan"), "reason": None}
        if not ok.any():
            record["reason"] = "χ4 and S4 need ≥ 2 trajectories"
            out[species] = record
            continue
        t_star = float(times[ok][np.argmax(chi[ok])])
        w_amplitudes, rho_amplitudes, overlaps = [], [], []
        for rec in records:
            index = frame_at(rec.times, t_star)
            if index is None:
                continue
            weights = rec.weights[index][mask]
            w_q, rho_q = overlap_fourier_amplitudes(rec.start[mask], weights, vectors, box_length)
            w_amplitudes.append(w_q)
            rho_amplitudes.append(rho_q)
            overlaps.append(weights.mean())
        s4, s4_err = four_point_structure_factor(w_amplitudes, rho_amplitudes, overlaps, int(mask.sum()), shell)
        record.update(
            t_star=t_star,
            chi4_peak=float(chi[ok].max()),
            n_trajectories=len(overlaps),
            q=q_shell.tolist(),
            S4=s4.tolist(),
            S4_err=s4_err.tolist(),
            n_vectors=np.bincount(shell).tolist(),
            **fit_ornstein_zernike(q_shell, s4, s4_err, float(cfg.fit_qxi_max), int(cfg.min_shells)),
        )
        out[species] = record
    return {"config": asdict(cfg), "model": "S4(q) = chi4_inf / (1 + (q xi4)^2)", "species": out}
