"""Descriptor ceiling and held-out evaluation of per-particle predictions.

* :func:`descriptor_ridge` — ridge regression (scikit-learn ``RidgeCV``, penalty chosen by
  efficient leave-one-out on the training particles) of a within-frame standardised target on
  every per-particle descriptor, each standardised with the training mean and spread;
* :func:`best_single_descriptor` — the descriptor with the largest pooled |Spearman ρ| on the
  training frames, its sign kept, so that on the test frames it is scored as a predictor
  (ρ × sign) like the regressions;
* :func:`held_out_correlation` — within-frame Pearson / Spearman of a prediction with the truth,
  n-weighted over frames with a bootstrap over frames (:class:`FrameCorrelations`).
"""

from __future__ import annotations

import numpy as np

from glasscam.analysis.correlations import FrameCorrelations

RIDGE_ALPHAS = tuple(np.logspace(-3, 4, 15))


def descriptor_ridge(features: list[np.ndarray], targets: list[np.ndarray], train: list[int],
                     alphas=RIDGE_ALPHAS) -> tuple[list[np.ndarray], dict]:
    """Fit on the particles of frames ``train`` where the target and every feature are finite;
    predict every frame. ``features[k]`` (N, P), ``targets[k]`` (N,) (NaN = not used). Returns
    (predictions (N,) per frame, NaN where a feature is not finite; {alpha, coefficients per
    standardised feature, n_train})."""
    from sklearn.linear_model import RidgeCV

    x_train = np.concatenate([features[k] for k in train])
    y_train = np.concatenate([targets[k] for k in train])
    ok = np.isfinite(y_train) & np.all(np.isfinite(x_train), axis=1)
    if ok.sum() < 3:
        raise ValueError(f"descriptor ridge: {int(ok.sum())} training particles with finite target and descriptors")
    mean, spread = x_train[ok].mean(axis=0), x_train[ok].std(axis=0)
    spread[spread == 0] = 1.0
    model = RidgeCV(alphas=alphas).fit((x_train[ok] - mean) / spread, y_train[ok])
    predictions = []
    for f in features:
        finite = np.all(np.isfinite(f), axis=1)
        p = np.full(len(f), np.nan)
        if finite.any():
            p[finite] = model.predict((f[finite] - mean) / spread)
        predictions.append(p)
    return predictions, {"alpha": float(model.alpha_), "coefficients": model.coef_.tolist(), "n_train": int(ok.sum())}


def _frames(predictions, truths, frames):
    xs, ys = [], []
    for k in frames:
        ok = np.isfinite(predictions[k]) & np.isfinite(truths[k])
        xs.append(predictions[k][ok])
        ys.append(truths[k][ok])
    return xs, ys


def held_out_correlation(predictions: list[np.ndarray], truths: list[np.ndarray], frames: list[int], n_bootstrap: int,
                         generator: np.random.Generator) -> dict:
    """Pooled within-frame Pearson and Spearman of ``predictions`` with ``truths`` over ``frames``
    with 95 % bootstrap intervals (frames resampled): keys of :meth:`FrameCorrelations.pooled`."""
    xs, ys = _frames(predictions, truths, frames)
    correlations = FrameCorrelations.compute(xs, ys, 0, generator)
    return correlations.pooled(np.arange(len(xs)), n_bootstrap, generator)


def best_single_descriptor(features: list[np.ndarray], names: list[str], truths: list[np.ndarray],
                           train: list[int]) -> tuple[str, float]:
    """(name, sign of its pooled training ρ) of the descriptor with the largest pooled |Spearman ρ|
    with the target over the frames ``train``."""
    best, best_value, sign = None, -1.0, 1.0
    for j, name in enumerate(names):
        xs, ys = _frames([f[:, j] for f in features], truths, train)
        pooled = FrameCorrelations.compute(xs, ys, 0, np.random.default_rng(0)).pooled(np.arange(len(xs)), 0, None)
        rho = pooled.get("spearman", float("nan"))
        if np.isfinite(rho) and abs(rho) > best_value:
            best, best_value, sign = name, abs(rho), float(np.sign(rho) or 1.0)
    if best is None:
        raise ValueError("no descriptor correlates with the target on the training frames")
    return best, sign
