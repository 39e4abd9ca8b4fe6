"""Sanity nulls of attribution correlations: does a map's association with a particle property
come from what the network *learned*, or from what the input representation and the
architecture impose on any map?

Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018: an attribution that is a
finding about the trained model must change when the model does. Two controls, each drawn with
several seeds (:func:`glasscam.stages.train.train_control`):

* ``random_weights`` (model randomization): the same architecture, freshly initialised, untrained;
* ``shuffled_labels`` (data randomization): the same architecture trained with the same settings
  on the same split with permuted labels.

Every control model is explained and correlated by the same functions as the real model, so the
rows of its correlation table match the model's one to one (same field, quantity, kind,
coarse-graining, Δt, species, t_w). For every such key this module gives:

* the model's Spearman ρ (n-weighted within-frame mean, :mod:`.correlations`) with its frame
  and run intervals, and the shuffled-field null band [null_lo, null_hi];
* per control c over its seeds k = 1 … K: the mean and standard deviation of ρ_k, and the band
  [c_lo, c_hi] = [min_k min(ρ_k, lo_k), max_k max(ρ_k, hi_k)] — the envelope of every seed's
  95 % frame-bootstrap interval, so it holds both the spread over seeds and each seed's sampling
  spread (with K = 2 or 3 seeds a t-interval of the mean would be mostly the t quantile);
* ``beyond_<c>`` / ``beyond_null``: the model's 95 % frame-bootstrap interval [lo, hi] of ρ lies
  wholly outside the band *in ρ's own direction* — lo > band_hi for ρ > 0, hi < band_lo for
  ρ < 0 — i.e. the model's association is stronger than the control's beyond sampling noise
  (where the model row has no interval, ρ itself is compared);
* ``learned``: beyond the shuffled null and beyond every control. A missing or undefined band
  (e.g. a control whose map is identically zero in every frame) is never passed.

Only ``learned`` rows may be read as structure the network learned to use; the others are
associations that any map of this input and architecture shows.
"""

from __future__ import annotations

import math

import numpy as np

#: the columns that name one correlation (one row of a correlation table)
KEY_COLUMNS = ("field", "quantity", "kind", "coarse_graining", "window", "species", "t_w")
CONTROL_NAMES = ("random_weights", "shuffled_labels")


def sanity_columns(controls=CONTROL_NAMES) -> list[str]:
    """Columns of the sanity-null table for the given control names."""
    columns = list(KEY_COLUMNS) + ["n_samples", "spearman", "spearman_lo", "spearman_hi", "spearman_run_lo",
                                   "spearman_run_hi", "null_spearman_lo", "null_spearman_hi", "beyond_null"]
    for c in controls:
        columns += [f"{c}_seeds", f"{c}_mean", f"{c}_sd", f"{c}_lo", f"{c}_hi", f"beyond_{c}"]
    return columns + ["learned"]


def row_key(row: dict) -> tuple:
    """The row's identity; numbers as rounded floats, NaN (no coarse-graining / no Δt) as a label
    (NaN ≠ NaN would make every such key unique)."""
    out = []
    for c in KEY_COLUMNS:
        value = row.get(c)
        number = _number(value)
        out.append(round(number, 9) if math.isfinite(number) else str(value) if isinstance(value, str) else "nan")
    return tuple(out)


def _number(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def _finite_cell(value) -> bool:
    return math.isfinite(_number(value))


def beyond(rho: float, lo: float, hi: float, rho_lo: float = float("nan"), rho_hi: float = float("nan")) -> bool:
    """The model's ρ (with its interval [rho_lo, rho_hi] where finite) wholly outside the band
    [lo, hi] in ρ's own direction: rho_lo > hi for ρ > 0, rho_hi < lo for ρ < 0 (ρ itself stands
    in for a missing interval end); False when ρ or the band is undefined, or ρ = 0."""
    if not (_finite_cell(rho) and _finite_cell(lo) and _finite_cell(hi)):
        return False
    if rho > 0:
        return bool((_number(rho_lo) if _finite_cell(rho_lo) else rho) > hi)
    if rho < 0:
        return bool((_number(rho_hi) if _finite_cell(rho_hi) else rho) < lo)
    return False


def control_band(seed_rows: list[dict | None]) -> dict:
    """Summary of one control's rows for one key over its seeds (None where a seed has no row):
    number of seeds with a finite ρ, mean, standard deviation (ddof 1; NaN for one seed) and the
    envelope [lo, hi] of every seed's ρ and its 95 % frame-bootstrap interval."""
    rhos = [_number(r.get("spearman")) for r in seed_rows if r is not None]
    rhos = [v for v in rhos if math.isfinite(v)]
    if not rhos:
        return {"seeds": 0, "mean": float("nan"), "sd": float("nan"), "lo": float("nan"), "hi": float("nan")}
    ends = [v for r in seed_rows if r is not None for v in (_number(r.get("spearman")), _number(r.get("spearman_lo")),
                                                           _number(r.get("spearman_hi"))) if math.isfinite(v)]
    return {"seeds": len(rhos), "mean": float(np.mean(rhos)), "sd": float(np.std(rhos, ddof=1)) if len(rhos) > 1 else float("nan"),
            "lo": float(min(ends)), "hi": float(max(ends))}


def sanity_table(model_rows: list[dict], controls: dict[str, list[list[dict]]]) -> list[dict]:
    """One row per correlation of the model (``model_rows``: a correlation table's rows) with the
    shuffled null, each control's band over its seeds and the verdict (module docstring).

    ``controls``: {control name: [rows of seed 0, rows of seed 1, …]}, each a correlation table
    of that control model made by the same function as ``model_rows``. A key absent from a
    seed's table counts as a missing seed. Raises ``ValueError`` for a control without seeds."""
    for name, seeds in controls.items():
        if not seeds:
            raise ValueError(f"control {name!r} has no seeds")
    indexed = {name: [{row_key(r): r for r in rows} for rows in seeds] for name, seeds in controls.items()}
    out = []
    for row in model_rows:
        key = row_key(row)
        rho = _number(row.get("spearman"))
        record = {c: row.get(c) for c in KEY_COLUMNS}
        record.update({c: _number(row.get(c)) for c in ("n_samples", "spearman", "spearman_lo", "spearman_hi",
                                                        "spearman_run_lo", "spearman_run_hi", "null_spearman_lo",
                                                        "null_spearman_hi")})
        interval = (record["spearman_lo"], record["spearman_hi"])
        record["beyond_null"] = beyond(rho, record["null_spearman_lo"], record["null_spearman_hi"], *interval)
        learned = record["beyond_null"]
        for name, seeds in indexed.items():
            band = control_band([seed.get(key) for seed in seeds])
            record.update({f"{name}_{k}": v for k, v in band.items()})
            record[f"beyond_{name}"] = beyond(rho, band["lo"], band["hi"], *interval)
            learned = learned and record[f"beyond_{name}"]
        record["learned"] = bool(learned)
        out.append(record)
    return out
