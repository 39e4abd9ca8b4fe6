"""Statistics shared by stages and reports: Wilson and paired (Agresti–Min) accuracy intervals,
cluster-bootstrap intervals over runs, and the regularised logistic-regression baseline."""

import math

import numpy as np
from scipy.stats import t as student_t

from glasscam.core.tasks import SPLITS

Z95 = 1.959963984540054


C_GRID = tuple(10.0 ** np.arange(-3, 3.01, 0.5))


def wilson_interval(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion correct/n (default 95 %)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def run_mean_interval(values_by_run: dict, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean over independent runs and its Student-t interval.

    ``values_by_run`` maps a run to the values of its trajectories (iso-configurational replicas
    of one run share their start and are not independent): each run's values are averaged first,
    then mean ± t_{(1+c)/2, n−1} · s/√n over the n run means (s: their sample standard
    deviation). Duplicating a run's replicas changes nothing. Returns (mean, lo, hi, n_runs);
    lo = hi = NaN with fewer than 2 runs."""
    means = np.array([np.mean(v) for v in values_by_run.values() if len(v)], dtype=np.float64)
    n = len(means)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    centre = float(means.mean())
    if n < 2:
        return centre, float("nan"), float("nan"), n
    half = float(student_t.ppf(0.5 + confidence / 2, n - 1) * means.std(ddof=1) / math.sqrt(n))
    return centre, centre - half, centre + half, n


def paired_accuracy_difference(correct_a: np.ndarray, correct_b: np.ndarray, z: float = Z95) -> dict:
    """Accuracy of A minus accuracy of B on the same n samples with the Agresti–Min interval.

    ``correct_a``, ``correct_b``: (n,) bool. With n12 = #(A right, B wrong), n21 = #(A wrong,
    B right): Δ = (n12 − n21)/n; the interval adds ½ to each of the four cells and applies Wald."""
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {a.shape} vs {b.shape}")
    n = len(a)
    n11, n12, n21, n22 = (np.sum(a & b), np.sum(a & ~b), np.sum(~a & b), np.sum(~a & ~b))
    delta = float((n12 - n21) / n) if n else float("nan")
    m = n + 2.0
    p12, p21 = (n12 + 0.5) / m, (n21 + 0.5) / m
    d = p12 - p21
    se = math.sqrt(max(p12 + p21 - d * d, 0.0) / m)
    return {"difference": delta, "lo": max(-1.0, d - z * se), "hi": min(1.0, d + z * se), "n": int(n),
            "a_only_correct": int(n12), "b_only_correct": int(n21), "both_correct": int(n11), "both_wrong": int(n22)}


RUN_BOOTSTRAP = 2000  # resamples of the runs for a cluster-bootstrap interval


def run_bootstrap_mean(values: np.ndarray, runs: np.ndarray, seed: int, n_bootstrap: int = RUN_BOOTSTRAP) -> dict:
    """Cluster-bootstrap 95 % interval of the mean of per-sample ``values`` (n,) whose samples come
    in lineages ``runs`` (n,): the R distinct runs are drawn R times with replacement and every
    sample of a drawn run enters (Davison & Hinkley, *Bootstrap Methods*, 1997, §3.8) — frames of
    one run are correlated, so treating them as independent (Wilson) understates the spread.
    Returns {mean, lo, hi, n_runs, n_bootstrap, method}; lo = hi = NaN with fewer than 2 runs."""
    values, runs = np.asarray(values, dtype=float), np.asarray(runs)
    if values.shape != runs.shape:
        raise ValueError(f"values and runs differ in shape: {values.shape} vs {runs.shape}")
    labels, index = np.unique(runs, return_inverse=True)
    sums = np.bincount(index, weights=values, minlength=len(labels))
    counts = np.bincount(index, minlength=len(labels)).astype(float)
    out = {"mean": float(sums.sum() / counts.sum()) if counts.sum() else float("nan"), "lo": float("nan"),
           "hi": float("nan"), "n_runs": int(len(labels)), "n_bootstrap": int(n_bootstrap),
           "method": "cluster bootstrap over runs (lineages), percentile 2.5/97.5"}
    if len(labels) > 1 and n_bootstrap > 0:
        draws = np.random.default_rng(seed).integers(0, len(labels), (n_bootstrap, len(labels)))
        multiplicity = np.array([np.bincount(d, minlength=len(labels)) for d in draws], dtype=float)
        means = multiplicity @ sums / (multiplicity @ counts)
        out["lo"], out["hi"] = map(float, np.percentile(means, [2.5, 97.5]))
    return out


def run_bootstrap_accuracy(correct: np.ndarray, runs: np.ndarray, seed: int, n_bootstrap: int = RUN_BOOTSTRAP) -> dict:
    """Accuracy (fraction of ``correct`` (n,) bool) with its cluster-bootstrap interval over the
    test samples' ``runs`` (:func:`run_bootstrap_mean`)."""
    return run_bootstrap_mean(np.asarray(correct, dtype=float), runs, seed, n_bootstrap)


def accuracy_record(predicted: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy with its Wilson interval and the number of test samples."""
    correct = int(np.sum(np.asarray(predicted) == np.asarray(labels)))
    n = len(labels)
    lo, hi = wilson_interval(correct, n)
    return {"accuracy": correct / n if n else float("nan"), "lo": lo, "hi": hi, "n": n, "correct": correct}


def fit_logistic(features: np.ndarray, labels: np.ndarray, split: np.ndarray, seed: int) -> dict:
    """Standardised L2 logistic regression: C from :data:`C_GRID` by validation accuracy (ties:
    the smaller C, i.e. stronger regularisation), fitted on the training split; test predictions.

    ``features`` (S, F), ``labels`` (S,), ``split`` (S,) with the codes of
    :data:`glasscam.core.tasks.SPLITS`. Constant features are dropped."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, val, test = (np.flatnonzero(split == SPLITS[k]) for k in ("train", "validation", "test"))
    x = np.asarray(features, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    keep = np.isfinite(x).all(axis=0) & (x[train].std(axis=0) > 0)
    if not keep.any():
        return {"test_predicted": np.zeros(len(test), int).tolist(), "C": None, "features_used": 0,
                "validation_accuracy": float("nan"), "note": "no usable (finite, non-constant) feature"}
    x = x[:, keep]
    best = None
    for c in C_GRID:
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000, random_state=seed))
        model.fit(x[train], labels[train])
        accuracy = float(np.mean(model.predict(x[val]) == labels[val]))
        if best is None or accuracy > best[0] + 1e-12:
            best = (accuracy, c, model)
    accuracy, c, model = best
    return {"test_predicted": model.predict(x[test]).astype(int).tolist(), "C": float(c),
            "features_used": int(keep.sum()), "validation_accuracy": accuracy,
            "train_accuracy": float(np.mean(model.predict(x[train]) == labels[train]))}


def is_finite_number(value) -> bool:
    """True for an int or float that is finite (not NaN or ±inf); False for None, strings and the
    like — how tables read back from CSV/JSON mark a missing number."""
    return isinstance(value, (int, float)) and math.isfinite(value)


AT_CHANCE_WARNING = "model at chance: maps show no learned structure"


def chance_status(confusion_matrix) -> dict:
    """Whether a classifier has learnt anything its test split can show: its test accuracy's
    Wilson 95 % interval against the majority-class rate (the accuracy of always answering the
    commoner class).

    ``confusion_matrix``: (n_classes, n_classes) counts, rows = true class. Returns ``accuracy``,
    ``interval`` (Wilson 95 %), ``n_test``, ``majority_rate`` and ``at_chance`` — True unless the
    interval's lower bound lies above the majority rate (an empty test split is at chance), with
    ``warning``: :data:`AT_CHANCE_WARNING` and the numbers, or '' when above chance."""
    matrix = np.asarray(confusion_matrix, dtype=int)
    n = int(matrix.sum())
    correct = int(np.trace(matrix))
    lo, hi = wilson_interval(correct, n)
    majority = float(matrix.sum(axis=1).max() / n) if n else float("nan")
    accuracy = correct / n if n else float("nan")
    at_chance = not (n > 0 and lo > majority)
    warning = (
        f"{AT_CHANCE_WARNING} (test accuracy {accuracy:.3g}, 95 % interval [{lo:.3g}, {hi:.3g}] on {n} samples, "
        f"not above the majority rate {majority:.3g})" if at_chance else ""
    )
    return {"accuracy": accuracy, "interval": [lo, hi], "n_test": n, "majority_rate": majority,
            "at_chance": at_chance, "warning": warning}
