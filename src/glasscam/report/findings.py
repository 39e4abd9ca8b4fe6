"""Findings: what the pipeline found, as numbers with intervals and one sentence per number.

:func:`findings` is a pure function: a results dict (the parsed result files, grouped by system
and by variant — task / inputs, whatever directory levels the path layout has) → a findings dict
whose every entry holds its numbers and a sentence written from those numbers (no fixed prose
that could go stale). :func:`findings_rst` renders that dict as a reStructuredText page.
:func:`write_findings` is the stage function: it reads whatever result files it is given, by
kind, and writes ``findings.json`` (machine-readable), ``findings.rst`` and ``findings.html``.

Result kinds (the key of the ``files`` mapping of :func:`write_findings`) and what is reported:

* ``metrics`` (``metrics.json`` of a trained classifier): CNN test accuracy with its Wilson 95 %
  interval, the majority-class rate of the test split (the accuracy of always answering the
  commoner class — the honest chance level), the U/N threshold baseline and every entry of a
  ``baselines`` section, each with an interval;
* ``baselines`` (``baselines.json``): each classical baseline's accuracy (Wilson interval) and
  the paired difference CNN − baseline with its interval; the thermal cues alone;
* ``learning_curve`` (``learning_curve.json``): mean test accuracy at the smallest and largest
  training set;
* ``correlations`` (``correlations.csv``, rows pooled over every aging time, ``t_w = all``): per
  dynamical quantity and per structural indicator the strongest within-frame Spearman ρ with the
  Grad-CAM field (over windows / coarse-graining radii / species), its bootstrap 95 % interval
  and the shuffled-field null range;
* ``sanity_nulls`` (``controls/<task>/<inputs>/sanity_nulls.csv``, :mod:`glasscam.analysis.sanity`):
  each correlation above against the same CNN with random weights and trained on permuted
  labels; an association is called *learned* only where it lies beyond both, and every
  correlation sentence says plainly whether it is (or that no sanity nulls were run);
* ``correlation_length`` (``gradcam_correlation_length.json``): ξ of the Grad-CAM field, pooled and
  per group of frames (aging time t_w), with bootstrap 95 % intervals;
* ``liquid_relaxation`` (``liquid_relaxation.json``): τα(T) of the A particles (the Kob–Andersen
  convention; ``species`` selects another) and the diffusion coefficient D;
* ``aging_dynamics`` (``aging_dynamics.json``): ``tau_fs_1e_from_quench``, the time after the quench
  (t_w = 0) at which Fs(q*, t) of the A particles first falls to 1/e (the glass ages meanwhile: not
  an equilibrium τα), and τ(t_w) of the two-time Fs(q*; t_w + t, t_w) at each waiting time.

Labels of a file: its path relative to the results root; the first component is the system, the
remaining directory components other than the stage directories (:data:`STAGE_DIRECTORIES`) form
the variant (e.g. ``thermal``, ``liquid_vs_glass/inherent``), so a new path level needs no code.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from statistics import NormalDist

from docutils import nodes
from docutils.core import publish_string
from docutils.parsers.rst import Directive, directives
from docutils.parsers.rst.directives.images import Figure
from docutils.writers.html4css1 import Writer

from glasscam.analysis.sanity import row_key
from glasscam.analysis.statistics import (
    AT_CHANCE_WARNING,
    chance_status,
    is_finite_number,
    wilson_interval,
)
from glasscam.core.keys import ALL_AGES
from glasscam.io.tables import read_json, read_table, write_json, write_text
from glasscam.report.names import attribution_name, attribution_parts, quantity_name

STAGE_DIRECTORIES = {"model", "analysis", "gradcam", "dataset", "figures", "controls"}
DEFAULT_SPECIES = "A"  # Kob–Andersen convention: relaxation times of the A (majority) particles




def fmt(value, digits: int = 3) -> str:
    """A number as printed everywhere in the findings (three significant figures; n/a for NaN)."""
    if value is None or not is_finite_number(value):
        return "n/a"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1):
        return f"{int(value)}"
    return f"{value:.{digits}g}"


def _interval(lo, hi) -> str:
    return f"[{fmt(lo)}, {fmt(hi)}]"


def _strength(rho: float) -> str:
    a = abs(rho)
    return "negligible" if a < 0.1 else "weak" if a < 0.3 else "moderate" if a < 0.5 else "strong"


def _compare(lo_a, hi_a, lo_b, hi_b) -> int:
    """+1 if interval a lies wholly above b, −1 wholly below, 0 if they overlap or are unknown."""
    if not all(is_finite_number(v) for v in (lo_a, hi_a, lo_b, hi_b)):
        return 0
    return 1 if lo_a > hi_b else -1 if hi_a < lo_b else 0


# ------------------------------------------------------------------------------- classification
def _baseline_interval(entry: dict, n_test: int) -> tuple[float, float]:
    """An interval given with a baseline under any of the usual names, else Wilson from its
    accuracy on the n_test samples."""
    for lo_key, hi_key in (("test_accuracy_lo", "test_accuracy_hi"), ("wilson_lo", "wilson_hi"), ("ci_lo", "ci_hi"), ("lo", "hi")):
        if lo_key in entry and hi_key in entry:
            return float(entry[lo_key]), float(entry[hi_key])
    for key in ("test_accuracy_interval", "wilson95", "wilson_95", "interval", "ci95", "ci"):
        if isinstance(entry.get(key), (list, tuple)) and len(entry[key]) == 2:
            return float(entry[key][0]), float(entry[key][1])
    accuracy = entry.get("test_accuracy")
    return wilson_interval(round(accuracy * n_test), n_test) if is_finite_number(accuracy) else (float("nan"), float("nan"))


def _baselines(metrics: dict) -> dict[str, dict]:
    """Every baseline of a metrics record: the U/N threshold (``energy_baseline``) and each entry of
    a ``baselines`` section (a dict name → record, or a list of records with a ``name``)."""
    out = {}
    if isinstance(metrics.get("energy_baseline"), dict):
        out["threshold on U/N"] = metrics["energy_baseline"]
    section = metrics.get("baselines") or {}
    items = section.items() if isinstance(section, dict) else ((e.get("name", f"baseline {k}"), e) for k, e in enumerate(section))
    for name, entry in items:
        if isinstance(entry, dict) and is_finite_number(entry.get("test_accuracy")):
            out.setdefault(str(name), entry)
    return out


def classification_finding(system: str, variant: str, metrics: dict) -> dict:
    """Test accuracy of the CNN with its Wilson 95 % interval, the majority-class rate of the test
    split and every baseline with its interval, and one sentence each."""
    matrix = metrics["confusion_matrix"]
    classes = list(metrics["class_names"])
    per_class = [sum(row) for row in matrix]
    n_test = sum(per_class)
    correct = sum(matrix[i][i] for i in range(len(matrix)))
    accuracy = float(metrics["test_accuracy"])
    lo, hi = wilson_interval(correct, n_test)
    majority = max(range(len(classes)), key=lambda k: per_class[k])
    chance = per_class[majority] / n_test if n_test else float("nan")
    where = f"{system}" + (f", {variant}" if variant else "")
    balance = ", ".join(f"{n} {c}" for c, n in zip(classes, per_class, strict=True))
    versus_chance = _compare(lo, hi, chance, chance)
    sentences = [
        f"{where}: the CNN labels {correct} of the {n_test} test samples correctly (accuracy {fmt(accuracy)}, "
        f"Wilson 95 % interval {_interval(lo, hi)}). The test split holds {balance}, so always answering "
        f"'{classes[majority]}' would score {fmt(chance)}; the CNN's interval lies "
        + ("above that rate: it has learnt something the class balance does not give." if versus_chance > 0
           else "below that rate: it does worse than the class balance alone." if versus_chance < 0
           else "across that rate: on this test split it is not distinguishable from answering the majority class.")
    ]
    baselines = []
    for name, entry in _baselines(metrics).items():
        b_acc = float(entry["test_accuracy"])
        b_lo, b_hi = _baseline_interval(entry, n_test)
        order = _compare(lo, hi, b_lo, b_hi)
        verdict = (
            "the CNN is better beyond both intervals" if order > 0
            else "the baseline is better beyond both intervals — the CNN misses what this baseline holds" if order < 0
            else "the intervals overlap, so this test split cannot tell the two apart"
        )
        sentence = f"{where}, baseline '{name}': accuracy {fmt(b_acc)} {_interval(b_lo, b_hi)} on the same test split; {verdict}."
        baselines.append({"name": name, "test_accuracy": b_acc, "interval": [b_lo, b_hi], "cnn_vs_baseline": order, "sentence": sentence})
        sentences.append(sentence)
    status = chance_status(matrix)
    return {
        "system": system,
        "variant": variant,
        "at_chance": status["at_chance"],
        "chance_status": status,
        "test_accuracy": accuracy,
        "interval": [lo, hi],
        "interval_kind": "Wilson 95 %",
        "n_test": n_test,
        "n_correct": correct,
        "class_counts_test": dict(zip(classes, per_class, strict=True)),
        "majority_class": classes[majority],
        "majority_rate": chance,
        "baselines": baselines,
        "sentences": sentences,
    }


def baselines_findings(system: str, variant: str, record: dict) -> dict:
    """The classical baselines of ``baselines.json`` (glasscam.stages.baselines): each baseline's test
    accuracy with its Wilson interval and the paired difference CNN − baseline with its interval;
    the thermal cues (a logistic regression on one thermal quantity alone)."""
    where = f"{system}" + (f", {variant}" if variant else "")
    cnn = record.get("cnn", {})
    chance = record.get("chance_majority")
    sentences = []
    items = []
    for name, entry in (record.get("baselines") or {}).items():
        if not isinstance(entry, dict) or not is_finite_number(entry.get("accuracy")):
            continue
        diff = (record.get("cnn_minus_baseline") or {}).get(name) or {}
        order = 0
        if is_finite_number(diff.get("lo")) and is_finite_number(diff.get("hi")):
            order = 1 if diff["lo"] > 0 else -1 if diff["hi"] < 0 else 0
        verdict = ("the CNN is better (paired interval above 0)" if order > 0
                   else "the baseline is better (paired interval below 0): the CNN misses what it holds" if order < 0
                   else "the paired interval contains 0: this test split cannot tell them apart")
        name_text = name.replace("_", " ")
        sentence = (
            f"{where}: baseline '{name_text}' scores {fmt(entry['accuracy'])} {_interval(entry.get('lo'), entry.get('hi'))} "
            f"({entry.get('correct', '?')}/{entry.get('n', '?')} test samples; CNN {fmt(cnn.get('accuracy'))} "
            f"{_interval(cnn.get('lo'), cnn.get('hi'))}, majority class {fmt(chance)}); CNN − baseline = "
            f"{fmt(diff.get('difference'))} {_interval(diff.get('lo'), diff.get('hi'))} (paired): {verdict}."
        )
        items.append({"name": name, "accuracy": entry["accuracy"], "interval": [entry.get("lo"), entry.get("hi")],
                      "cnn_minus_baseline": diff, "sentence": sentence})
        sentences.append(sentence)
    for cue_name, cue in (record.get("thermal_cues") or {}).items():
        fit = cue.get("logistic") if isinstance(cue, dict) else None
        if not fit or not is_finite_number(fit.get("accuracy")):
            continue
        sentences.append(
            f"{where}: the {cue_name.replace('_', ' ')} alone (logistic regression) scores {fmt(fit['accuracy'])} "
            f"{_interval(fit.get('lo'), fit.get('hi'))} — " + thermal_cue_verdict(fit, chance)
        )
        items.append({"name": f"thermal cue: {cue_name}", "accuracy": fit["accuracy"], "interval": [fit.get("lo"), fit.get("hi")]})
    fit_sentence = cnn_fit_sentence(where, variant, record)
    if fit_sentence:
        sentences.append(fit_sentence)
    return {"system": system, "variant": variant, "items": items, "chance": chance, "sentences": sentences,
            "cnn_fit": record.get("cnn_fit")}


def thermal_cue_verdict(fit: dict, chance) -> str:
    """What a thermal cue's logistic fit (``accuracy``, Wilson ``lo``/``hi``, test samples ``n``)
    says against the majority rate ``chance``: the classes differ in the cue (lower bound above
    chance); the cue reads no better than chance; or — a high score whose interval still reaches
    chance, as 6 of 6 does ([0.61, 1] against 0.667) — the test split is too small to tell."""
    lo, accuracy = fit.get("lo"), fit.get("accuracy")
    if not is_finite_number(chance) or not is_finite_number(lo):
        return "no majority rate or interval to compare it with."
    if lo > chance:
        return "above the majority rate: the classes differ in this thermal cue, which a classifier could read."
    if is_finite_number(accuracy) and accuracy > chance:
        n = fit.get("n")
        samples = f"{n} test samples" if is_finite_number(n) else "this test split"
        return (f"above the majority rate {fmt(chance)}, but with {samples} its interval reaches down to it: the split is "
                f"too small to tell whether the classes differ in this cue.")
    return f"no better than the majority rate {fmt(chance)}: the classes do not differ in this cue on this test split."


def structure_only(variant: str, record: dict) -> bool:
    """A task only structure can answer: inherent-structure inputs, or the age task (one temperature)."""
    return "inherent" in (variant or "") or (record.get("task") or {}).get("kind") == "age"


def cnn_fit_sentence(where: str, variant: str, record: dict) -> str | None:
    """On a structure-only task where a baseline beats chance (its Wilson interval above the
    majority rate): whether the CNN fits its training split (unaugmented training accuracy ≥ the
    fit threshold) and the search that chose it; None elsewhere or without the fit keys."""
    fit = record.get("cnn_fit") or {}
    chance = record.get("chance_majority")
    best = (record.get("baselines") or {}).get(record.get("best_baseline")) or {}
    if not (structure_only(variant, record) and is_finite_number(fit.get("train_accuracy")) and is_finite_number(best.get("lo"))
            and is_finite_number(chance) and best["lo"] > chance):
        return None
    threshold = fit.get("fit_threshold") or 0.95
    search = (f"chosen by a search of {fit['search_trials']} trials on the validation split (trial "
              f"{fit.get('selected_trial')}; the search figure shows every trial)" if fit.get("search_trials")
              else "trained with the config's settings (no search)")
    head = (f"{where}: baseline '{str(record['best_baseline']).replace('_', ' ')}' beats chance "
            f"({fmt(best.get('accuracy'))} {_interval(best.get('lo'), best.get('hi'))} > majority {fmt(chance)}); the CNN, "
            f"{search}, ")
    if fit.get("fits_training_split"):
        return (head + f"fits its training split (unaugmented training accuracy {fmt(fit['train_accuracy'])} ≥ "
                f"{fmt(threshold)}; validation {fmt(fit.get('validation_accuracy'))}): where it falls short of the "
                "baseline on the test split it generalises worse, it does not fail to learn.")
    return (head + f"does NOT fit its training split (unaugmented training accuracy {fmt(fit['train_accuracy'])} < "
            f"{fmt(threshold)}; validation {fmt(fit.get('validation_accuracy'))}): it did not learn its own data, so "
            "its test accuracy is no measure of what these images hold.")


def learning_curve_finding(system: str, variant: str, curve: dict) -> dict | None:
    """Mean test accuracy at the smallest and the largest training set of a learning curve, each
    with the Wilson 95 % interval of its test split (``test_samples``); the change is called a gain
    or a loss only where the two intervals do not overlap."""
    rows = sorted(curve.get("summary", []), key=lambda r: r["train_samples_mean"])
    if not rows:
        return None
    n_test = int(curve.get("test_samples") or 0)

    def interval(row) -> tuple[float, float]:
        return wilson_interval(round(row["test_accuracy_mean"] * n_test), n_test)

    first, last = rows[0], rows[-1]
    where = f"{system}" + (f", {variant}" if variant else "")
    # e.g. one training run: no fraction of it is smaller, every point trains on the same samples
    one_size = len(rows) > 1 and first["train_samples_mean"] == last["train_samples_mean"]
    if one_size:
        sentence = (f"{where}: every fraction of the training runs gave the same {fmt(last['train_samples_mean'])} training "
                    f"samples (too few runs to subsample), so the curve asks nothing; mean test accuracy "
                    f"{fmt(last['test_accuracy_mean'])} {_interval(*interval(last))} ({n_test} test samples).")
    elif len(rows) > 1:
        order = _compare(*interval(last), *interval(first))
        change = last["test_accuracy_mean"] - first["test_accuracy_mean"]
        sentence = (
            f"{where}: with {fmt(first['train_samples_mean'])} training samples the CNN's mean test accuracy over "
            f"{first['repeats']} retraining(s) is {fmt(first['test_accuracy_mean'])} {_interval(*interval(first))}; with "
            f"{fmt(last['train_samples_mean'])} it is {fmt(last['test_accuracy_mean'])} {_interval(*interval(last))} "
            f"(Wilson 95 % on the {n_test} test samples; change {'+' if change >= 0 else '−'}{fmt(abs(change))}): "
            + ("more data helps beyond both intervals." if order > 0 else "more data makes it worse beyond both intervals."
               if order < 0 else "the intervals overlap — no measurable change at this size.")
        )
    else:
        sentence = (f"{where}: mean test accuracy {fmt(last['test_accuracy_mean'])} {_interval(*interval(last))} "
                    f"with {fmt(last['train_samples_mean'])} training samples ({n_test} test samples).")
    return {
        "system": system,
        "variant": variant,
        "n_test": n_test,
        "one_training_size": one_size,
        "points": [{"train_samples": r["train_samples_mean"], "test_accuracy_mean": r["test_accuracy_mean"],
                    "interval": list(interval(r)), "repeats": r["repeats"]} for r in rows],
        "sentences": [sentence],
    }


# --------------------------------------------------------------------------------- correlations
def _describe_row(row: dict) -> str:
    name = quantity_name(row["quantity"])
    if row["kind"] == "mobility":
        return f"{name} over Δt = {fmt(row['window'])} τ"
    return name + (f" coarse-grained over R_cg = {fmt(row['coarse_graining'])} σ" if is_finite_number(row["coarse_graining"]) and row["coarse_graining"] > 0 else " (per particle, not coarse-grained)")


def _field_name(field: str | None) -> str:
    """Readable name of an attribution field (``gradcam_glass`` → "Grad-CAM (class glass)"); "Grad-CAM" without one."""
    return attribution_name(field) if field else "Grad-CAM"


def is_last_block_gradcam(field: str | None) -> bool:
    """The seed paper's Grad-CAM: the ReLU or signed map of the last conv block (``gradcam_glass``,
    ``gradcam_signed_aged``), not an earlier block's map nor another attribution method."""
    parts = attribution_parts(field or "")
    return parts is not None and parts[0] in ("gradcam", "gradcam_signed") and parts[1] is None


def strongest_correlations(rows: list[dict]) -> list[dict]:
    """Per (Grad-CAM field, kind, quantity): the pooled (t_w = all) row with the largest |Spearman
    ρ| over windows, coarse-graining radii and species, with ``n_candidates`` (how many rows it was
    picked from — the multiple comparison :func:`correlation_finding` corrects for); fields in the order of the table (the
    primary field — the ReLU map of the positive class — first). Rows: dicts with the columns of
    :data:`glasscam.analysis.correlations.CORRELATION_COLUMNS`, numbers as floats."""
    best: dict[tuple[str, str, str], dict] = {}
    candidates: dict[tuple[str, str, str], int] = {}
    fields = list(dict.fromkeys(str(row.get("field", "")) for row in rows))
    for row in rows:
        if str(row.get("t_w")) != ALL_AGES or not is_finite_number(row.get("spearman")):
            continue
        key = (str(row.get("field", "")), row["kind"], row["quantity"])
        candidates[key] = candidates.get(key, 0) + 1
        if key not in best or abs(row["spearman"]) > abs(best[key]["spearman"]):
            best[key] = row
    for key, row in best.items():
        best[key] = {**row, "n_candidates": candidates[key]}
    order = {"mobility": 0, "indicator": 1}
    return [best[k] for k in sorted(best, key=lambda k: (fields.index(k[0]), order.get(k[1], 2), -abs(best[k]["spearman"])))]


def corrected_null(null_lo: float, null_hi: float, n_candidates: int) -> tuple[float, float]:
    """The shuffled-field null band widened for picking the largest |ρ| of ``n_candidates``
    (Bonferroni): the one-cell null's 2.5–97.5 % range read as mean ± 1.96 σ (normal
    approximation of the permutation null), then mean ± z σ with z the two-sided 0.05 /
    n_candidates quantile. Equals the given band for one candidate."""
    if not (is_finite_number(null_lo) and is_finite_number(null_hi)):
        return float("nan"), float("nan")
    centre, sigma = (null_lo + null_hi) / 2, (null_hi - null_lo) / (2 * NormalDist().inv_cdf(0.975))
    z = NormalDist().inv_cdf(1 - 0.025 / max(1, int(n_candidates)))
    return centre - z * sigma, centre + z * sigma


def _chance_prefix(model: dict | None) -> str:
    """'Model at chance (numbers): maps show no learned structure — ' where ``model`` (a
    :func:`chance_status`) is at chance; '' otherwise."""
    if not model or not model["at_chance"]:
        return ""
    return model["warning"][0].upper() + model["warning"][1:] + " — "


def _band(row: dict, control: str) -> str:
    # the count is of the seeds whose map gives a finite ρ (an all-zero map of a control has none)
    n = int(row.get(f'{control}_seeds') or 0)
    return (f"ρ = {fmt(row.get(f'{control}_mean'))} (band {_interval(row.get(f'{control}_lo'), row.get(f'{control}_hi'))}, "
            f"{n} seed{'' if n == 1 else 's'} with a finite ρ)")


def _truth(value) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "1.0")


def sanity_sentence(row: dict, sanity: dict | None) -> tuple[bool | None, str]:
    """(learned, sentence) of one correlation against the sanity nulls
    (:mod:`glasscam.analysis.sanity`); (None, …) when no sanity-null table was given."""
    if sanity is None:
        return None, ("No sanity nulls (random-weight and permuted-label CNNs) were run for it: whether the network "
                      "learned this association, or any map of this input shows it, cannot be told.")
    if not sanity:
        return False, "The sanity-null table has no row for it: it is not called learned."
    controls = "; ".join(f"{name.replace('_', ' ')} CNNs {_band(sanity, name)}"
                         for name in ("random_weights", "shuffled_labels") if f"{name}_mean" in sanity)
    if _truth(sanity.get("learned")):
        return True, (f"Against the sanity nulls ({controls}) it is learned: stronger than every control and the "
                      "shuffled null.")
    failed = [name.replace("_", " ") for name in ("random_weights", "shuffled_labels")
              if f"beyond_{name}" in sanity and not _truth(sanity[f"beyond_{name}"])]
    return False, (f"Against the sanity nulls ({controls}) it is NOT learned: the "
                   f"{' and '.join(failed) or 'shuffled'} control{'s' if len(failed) > 1 else ''} show{'' if len(failed) > 1 else 's'} "
                   "as strong an association, so it comes from the input representation and the architecture, not "
                   "from what the network learned.")


def correlation_finding(system: str, variant: str, row: dict, model: dict | None = None,
                        sanity: dict | None = None) -> dict | None:
    """One strongest correlation with its interval, tested against the shuffled-field null of the
    same maximum (Bonferroni over the ``n_candidates`` rows it was picked from,
    :func:`corrected_null`), the sanity nulls (``sanity``: the row of the sanity-null table for it,
    {} if it has none, None if no table was given) and a sentence; an association is called
    *learned* only where the sanity table says so; prefixed with the at-chance warning where the
    Grad-CAM model (``model``, a :func:`chance_status`) is at chance. None where the interval or
    the null is not a number (nothing to report)."""
    rho, lo, hi = row["spearman"], row.get("spearman_lo"), row.get("spearman_hi")
    null_lo, null_hi = row.get("null_spearman_lo"), row.get("null_spearman_hi")
    if not all(is_finite_number(v) for v in (rho, lo, hi, null_lo, null_hi)):
        return None
    k = int(row.get("n_candidates") or 1)
    max_lo, max_hi = corrected_null(null_lo, null_hi, k)
    beyond_null = _compare(lo, hi, max_lo, max_hi) != 0
    species = "all particles" if row["species"] == "all" else f"{row['species']} particles"
    where = f"{system}" + (f", {variant}" if variant else "")
    direction = "higher" if rho > 0 else "lower"
    method = _field_name(row.get("field"))
    quantity = quantity_name(row["quantity"])
    picked = (f"the largest |ρ| of {k} candidates (species, windows, radii); the shuffled-field null of one candidate spans "
              f"{_interval(null_lo, null_hi)}, of the largest of {k} (Bonferroni) {_interval(max_lo, max_hi)}. ")
    if k == 1:
        picked = f"the shuffled-field null spans {_interval(null_lo, null_hi)}. "
    sentence = _chance_prefix(model) + (
        f"{where}: {method} vs {_describe_row(row)} ({species}, {int(row['n_samples'])} glass samples): Spearman ρ = {fmt(rho)}, "
        f"bootstrap 95 % interval {_interval(lo, hi)}; " + picked
        + ((f"A {_strength(rho)} association beyond that null: particles with larger {method} have {direction} {quantity}."
            if _strength(rho) != "negligible" else
            f"Resolved beyond that null but negligible in size (|ρ| < 0.1): particles with larger {method} have marginally {direction} {quantity}.")
           if beyond_null else "The interval reaches into that null range: no association can be claimed.")
    )
    learned, note = sanity_sentence(row, sanity)
    sentence += " " + note
    return {
        "system": system,
        "variant": variant,
        "field": row.get("field"),
        "kind": row["kind"],
        "quantity": row["quantity"],
        "species": row["species"],
        "window": row.get("window"),
        "coarse_graining": row.get("coarse_graining"),
        "n_samples": int(row["n_samples"]),
        "spearman": rho,
        "interval": [lo, hi],
        "null_interval": [null_lo, null_hi],
        "n_candidates": k,
        "null_interval_of_maximum": [max_lo, max_hi],
        "beyond_null": beyond_null,
        "model_at_chance": bool(model and model["at_chance"]),
        "learned": learned,
        "sanity_nulls": sanity or None,
        "sentences": [sentence],
    }


def _quotable(record: dict) -> bool:
    """A ξ record may be quoted unless its fit was flagged (``reliable: false``; records written
    before fits were judged carry no verdict and are quoted as before)."""
    return is_finite_number(record.get("xi")) and record.get("reliable", True) is not False


def length_findings(system: str, variant: str, record: dict, model: dict | None = None) -> dict:
    """ξ of the Grad-CAM field pooled and per aging time, with bootstrap intervals; a flagged fit
    (:func:`glasscam.analysis.correlations.fit_correlation_length`) is named with its reason,
    never quoted as a length; prefixed with the at-chance warning where the Grad-CAM model
    (``model``, a :func:`chance_status`) is at chance."""
    where = f"{system}" + (f", {variant}" if variant else "")
    groups = []
    for group in record.get("groups", []):
        age = group.get("glasscam/time")
        groups.append({"t_w": age, "xi": group["xi"] if _quotable(group) else None,
                       "interval": [group.get("xi_bootstrap_lo"), group.get("xi_bootstrap_hi")] if _quotable(group) else [None, None],
                       "n_frames": group["n_frames"], "flag": group.get("flag"), "r_squared": group.get("r_squared")})
    fit_range = (f"on {fmt(record.get('fit_r_start', record.get('fit_r_min')))} ≤ r ≤ "
                 f"{fmt(record.get('fit_r_end', record.get('fit_r_max')))} σ"
                 + (f", R² = {fmt(record['r_squared'])}" if is_finite_number(record.get("r_squared")) else ""))
    if _quotable(record):
        sentences = [
            f"{where}: the {_field_name(record.get('field'))} field decorrelates over ξ = {fmt(record['xi'])} σ "
            f"(bootstrap 95 % interval {_interval(record.get('xi_bootstrap_lo'), record.get('xi_bootstrap_hi'))}, fit of C(r) = A exp(−r/ξ) "
            f"{fit_range}, {record['n_frames']} glass samples); "
            "per aging time below, t_w is the realised time of the stored frame."
        ]
    else:
        sentences = [f"{where}: no correlation length of the {_field_name(record.get('field'))} field is quoted: "
                     f"{record.get('flag') or 'the fit failed'} ({record.get('n_frames', 0)} glass samples)."]
    if (_quotable(record) and is_finite_number(record.get("fit_r_max"))
            and record["xi"] > 0.5 * (record["fit_r_max"] - (record.get("fit_r_min") or 0))):
        sentences.append(
            f"{where}: ξ is more than half the fitted range (r ≤ {fmt(record['fit_r_max'])} σ): the decay is barely "
            "sampled and ξ is poorly constrained (fit a longer range to pin it down)."
        )
    for g in groups:
        if g["xi"] is None:
            sentences.append(f"{where}, t_w = {fmt(g['t_w'])} τ ({g['n_frames']} samples): ξ not quoted — "
                             f"{g['flag'] or 'the fit failed'}.")
        else:
            lo, hi = g["interval"]
            outside = is_finite_number(lo) and is_finite_number(hi) and not lo <= g["xi"] <= hi
            sentences.append(f"{where}, t_w = {fmt(g['t_w'])} τ ({g['n_frames']} samples): ξ = {fmt(g['xi'])} σ {_interval(lo, hi)}"
                             + (" — the fit lies outside its own bootstrap interval: too few samples for the interval "
                                "to be trusted." if outside else "."))
    finite = [g for g in groups if g["xi"] is not None and is_finite_number(g["xi"]) and g["t_w"] is not None]
    if len(finite) > 1:
        first, last = finite[0], finite[-1]
        order = _compare(*last["interval"], *first["interval"])
        sentences.append(
            f"{where}: from t_w = {fmt(first['t_w'])} τ to {fmt(last['t_w'])} τ, ξ "
            + ("grows beyond both intervals." if order > 0 else "shrinks beyond both intervals." if order < 0
               else "does not change beyond its intervals.")
        )
    sentences = [_chance_prefix(model) + text for text in sentences]
    return {"system": system, "variant": variant, "xi": record["xi"] if _quotable(record) else None,
            "interval": [record.get("xi_bootstrap_lo"), record.get("xi_bootstrap_hi")] if _quotable(record) else [None, None],
            "reliable": _quotable(record), "flag": record.get("flag"), "groups": groups,
            "model_at_chance": bool(model and model["at_chance"]), "sentences": sentences}


def relaxation_findings(system: str, record: dict, species: str = DEFAULT_SPECIES) -> dict | None:
    """τα(T) and D(T) of ``species`` in the equilibrium liquid."""
    points = []
    for entry in sorted(record.get("temperatures", []), key=lambda t: -t["temperature"]):
        data = entry["species"].get(species)
        if data is None:
            continue
        fit = data.get("tau_alpha_fit") or {}
        flagged = fit.get("reliable") is False and is_finite_number(data["tau_alpha"])  # a crossing that cannot be quoted
        points.append({"temperature": entry["temperature"], "tau_alpha": None if flagged else data["tau_alpha"],
                       "tau_flag": fit.get("flag") if flagged else None, "D": data.get("D"), "q": entry["q"],
                       "D_reason": data.get("reason")})
    if not points:
        return None

    def diffusion(p) -> str:
        if is_finite_number(p["D"]):
            return f"D = {fmt(p['D'])} σ²/τ"
        return f"no D ({p['D_reason']})" if p.get("D_reason") else "no D"

    def relaxation(p) -> str:
        return f"τα not quoted ({p['tau_flag']})" if p.get("tau_flag") else f"τα = {fmt(p['tau_alpha'])} τ"

    listing = "; ".join(f"T = {fmt(p['temperature'])}: {relaxation(p)}, {diffusion(p)}" for p in points)
    sentences = [f"{system}: equilibrium liquid, {species} particles (q* = first peak of S(q)) — {listing}."]
    finite = [p for p in points if is_finite_number(p["tau_alpha"])]
    if len(finite) > 1:
        hot, cold = finite[0], finite[-1]
        sentences.append(
            f"{system}: cooling from T = {fmt(hot['temperature'])} to {fmt(cold['temperature'])} slows the structural relaxation "
            f"of the {species} particles {fmt(cold['tau_alpha'] / hot['tau_alpha'])}-fold."
        )
    return {"system": system, "species": species, "points": points, "sentences": sentences}


def aging_findings(system: str, record: dict, species: str = DEFAULT_SPECIES) -> dict | None:
    """The 1/e time of Fs after the quench (``tau_fs_1e_from_quench``, t_w = 0) and τ(t_w) of the
    two-time Fs(q*; t_w + t, t_w) in the aging glass."""
    tau = (record.get("tau_fs_1e_from_quench") or {}).get(species)
    if tau is None:
        return None
    fit = (record.get("tau_fs_1e_from_quench_fit") or record.get("tau_alpha_fit") or {}).get(species) or {}
    if fit.get("reliable") is False and is_finite_number(tau):  # a crossing interpolated too coarsely to quote
        return {"system": system, "species": species, "tau_alpha": None, "q": record["q"], "flag": fit.get("flag"),
                "sentences": [f"{system}: aging glass after the quench, {species} particles — the 1/e time of Fs not quoted: {fit.get('flag')}."]}
    sentence = (
        f"{system}: aging glass after the quench, {species} particles — Fs(q* = {fmt(record['q'])}, t) reaches 1/e at "
        f"t = {fmt(tau)} τ after the quench (t_w = 0; {record.get('n_trajectories')} trajectories; the glass ages meanwhile, "
        "so this is not an equilibrium τα)."
        if is_finite_number(tau) else
        f"{system}: aging glass after the quench, {species} particles — Fs(q*, t) does not reach 1/e within the aging run: "
        "the glass does not relax on the simulated time scale."
    )
    sentences = [sentence]
    per_age = ((record.get("two_time") or {}).get("tau_fs_1e") or {}).get(species) or []
    if per_age:
        listing = "; ".join(
            f"t_w = {fmt(e['t_w'])} τ: " + (f"{fmt(e['tau'])} τ" if is_finite_number(e["tau"]) else f"> {fmt(e.get('t_max'))} τ (Fs above 1/e to the end of the run)")
            for e in per_age
        )
        sentences.append(
            f"{system}: two-time Fs(q*; t_w + t, t_w) of the {species} particles falls to 1/e after τ(t_w) = {listing} "
            f"({record['two_time']['n_runs']} independent runs)."
        )
    return {"system": system, "species": species, "tau_fs_1e_from_quench": tau, "q": record["q"], "sentences": sentences}


GRADCAM_INPUTS = "thermal"  # the classifier whose Grad-CAM maps the correlations read (workflow/rules/explain.smk)


def _largest_of(group: list[dict]) -> str:
    """The answer from the largest |ρ| of a group of strongest correlations: named by method and
    quantity, tested against the shuffled null of the largest of every candidate row behind the
    group (Bonferroni over the sum of their ``n_candidates``), and whether the sanity nulls call it
    learned."""
    strongest = max(group, key=lambda c: abs(c["spearman"]))
    k = sum(int(c.get("n_candidates") or 1) for c in group)
    null_lo, null_hi = corrected_null(*strongest["null_interval"], k)
    beyond = _compare(*strongest["interval"], null_lo, null_hi) != 0
    learned = strongest.get("learned")
    learned_text = ("; beyond both randomisation nulls: learned" if learned is True
                    else "; not beyond the randomisation nulls (random weights, permuted labels): not established as learned"
                    if learned is False else "")
    name = _field_name(strongest.get("field"))
    return ((f"Yes ({_strength(strongest['spearman'])})" if beyond else "Not resolved")
            + f": the largest |ρ| is {name} with {quantity_name(strongest['quantity'])}, {fmt(strongest['spearman'])} "
            f"{_interval(*strongest['interval'])}, against the null of the largest of {k} {_interval(null_lo, null_hi)}"
            + (learned_text if beyond else "") + ".")


def _structure_or_temperature(task: str, item: dict, sections: dict) -> list[str]:
    """What a CNN above chance on thermal inputs may have read: the thermal cues alone (kinetic
    temperature, vibration amplitude) where they separate the classes as well, and the same task on
    inherent structures (no vibrations left), which tests structure."""
    out = []
    inputs = item["variant"].rpartition("/")[2]
    if inputs != "inherent":
        cues = [i for b in sections.get("baselines", []) if b["variant"] == item["variant"]
                for i in b["items"] if i["name"].startswith("thermal cue:")]
        lo = item["interval"][0]
        matched = [c for c in cues if is_finite_number(c["interval"][1]) and c["interval"][1] >= lo]
        if matched:
            out.append(f"{task}: but on thermal inputs a thermal cue alone does as well — "
                       + "; ".join(f"{c['name'].split(': ', 1)[1].replace('_', ' ')} alone {fmt(c['accuracy'])} "
                                   f"{_interval(*c['interval'])}" for c in matched)
                       + ": this accuracy does not show structure.")
    inherent = [i for i in sections.get("classification", []) if i["variant"] == f"{task}/inherent"]
    if inherent and inputs != "inherent":
        other = inherent[0]
        out.append(f"{task} on inherent structures (structure only): accuracy {fmt(other['test_accuracy'])} "
                   f"{_interval(*other['interval'])}, majority rate {fmt(other['majority_rate'])} — "
                   + (f"{AT_CHANCE_WARNING}." if other["at_chance"] else "above chance: structure separates the classes."))
    return out


def verdict(system: str, sections: dict, runs: int | None = None) -> dict:
    """The opening paragraph of a system's findings, from its numbers: the run's size (runs,
    samples per split of each task), which questions it can answer at that size and the answer
    to each, with intervals.

    Questions: (1) does the CNN tell the classes apart — answerable where even a perfect score on
    the test split would have a Wilson interval above the majority rate; (2) does its Grad-CAM
    field go with the dynamics — only where that CNN is above chance; (3) does more data help —
    the learning curve's intervals."""
    sentences = []
    size = []
    for item in sections.get("classification", []):
        if item["variant"].endswith(f"/{GRADCAM_INPUTS}") or "/" not in item["variant"]:
            counts = item.get("split_counts") or {"test": item["n_test"]}
            size.append(f"{item['variant'].split('/')[0] or 'classifier'}: " + ", ".join(f"{n} {split}" for split, n in counts.items()))
    if size or runs:
        sentences.append(f"{system}: " + (f"{runs} independent runs; " if runs else "") + "samples per split — " + "; ".join(size) + ".")
    for item in sections.get("classification", []):
        if not (item["variant"].endswith(f"/{GRADCAM_INPUTS}") or "/" not in item["variant"]):
            continue
        task = item["variant"].split("/")[0] or "classifier"
        n, chance = item["n_test"], item["majority_rate"]
        resolvable = n > 0 and wilson_interval(n, n)[0] > chance
        lo, hi = item["interval"]
        if not resolvable:
            sentences.append(
                f"{task}: can the CNN tell the classes apart? Not at this size — with {n} test samples even a perfect score "
                f"has a Wilson interval reaching {fmt(wilson_interval(n, n)[0])}, below the majority rate {fmt(chance)} "
                f"(measured: {fmt(item['test_accuracy'])} {_interval(lo, hi)}); nothing below can be read as what the CNN learnt."
            )
        else:
            sentences.append(
                f"{task}: can the CNN tell the classes apart? "
                + (f"Yes: accuracy {fmt(item['test_accuracy'])} {_interval(lo, hi)} lies above the majority rate {fmt(chance)}."
                   if not item["at_chance"] else
                   f"Not shown: accuracy {fmt(item['test_accuracy'])} {_interval(lo, hi)} is not above the majority rate "
                   f"{fmt(chance)} — {AT_CHANCE_WARNING}.")
            )
        if resolvable and not item["at_chance"] and "/" in item["variant"]:
            sentences += _structure_or_temperature(task, item, sections)
        dynamics = [c for c in sections.get("correlation_dynamics", []) if c["variant"] == task]
        if dynamics:
            if item["at_chance"]:
                sentences.append(f"{task}: does the Grad-CAM field go with the dynamics? Cannot be asked of a model at chance.")
            else:
                # the seed paper's question reads its Grad-CAM (last block) only; the other
                # attributions are a question of their own, their maximum tested over all of them
                for question, group in (
                        ("does the Grad-CAM field (last conv block) go with the dynamics?",
                         [c for c in dynamics if is_last_block_gradcam(c.get("field"))]),
                        ("does any other attribution (earlier blocks, HiResCAM, Integrated Gradients, occlusion) "
                         "go with the dynamics?", [c for c in dynamics if not is_last_block_gradcam(c.get("field"))])):
                    if group:
                        sentences.append(f"{task}: {question} " + _largest_of(group))
        for curve in sections.get("learning_curve", []):
            if curve["variant"] == item["variant"] and len(curve["points"]) > 1:
                first, last = curve["points"][0], curve["points"][-1]
                if curve.get("one_training_size"):
                    sentences.append(f"{task}: does more training data help? Not asked: every fraction of the training runs gave "
                                     f"the same {fmt(first['train_samples'])} training samples (too few runs to subsample).")
                    continue
                order = _compare(*last["interval"], *first["interval"])
                sentences.append(
                    f"{task}: does more training data help? "
                    + ("Yes" if order > 0 else "It hurts" if order < 0 else "No measurable change at this size")
                    + f": {fmt(first['test_accuracy_mean'])} {_interval(*first['interval'])} with {fmt(first['train_samples'])} "
                    f"training samples, {fmt(last['test_accuracy_mean'])} {_interval(*last['interval'])} with {fmt(last['train_samples'])}."
                )
    return {"system": system, "runs": runs, "sentences": sentences}


def findings(results: dict, runs: int | None = None) -> dict:
    """Findings from parsed results.

    ``results``: {system: {kind: {variant: data}}}, kind one of ``metrics``, ``learning_curve``,
    ``correlations`` (list of row dicts), ``correlation_length``, ``liquid_relaxation``,
    ``aging_dynamics``; variant a string ('' where the kind has none). ``runs``: independent runs
    per system (config ``protocol.runs``), stated in the verdict.
    Returns {"systems": {system: {section: [finding, ...]}}}, each finding with its numbers and
    ``sentences``, the first section ``verdict`` (:func:`verdict`); other sections appear only where
    their kind was given. Findings drawn from the Grad-CAM maps of a model at chance
    (:func:`glasscam.analysis.statistics.chance_status` of the task's thermal classifier) open with
    the at-chance warning."""
    out = {}
    for system in sorted(results):
        kinds = results[system]
        sections: dict[str, list] = {}
        models = {}
        for variant, metrics in sorted(kinds.get("metrics", {}).items()):
            item = classification_finding(system, variant, metrics)
            item["split_counts"] = {split: sum(c.values()) for split, c in (metrics.get("class_counts") or {}).items()}
            sections.setdefault("classification", []).append(item)
            task, _, inputs = variant.rpartition("/")
            if inputs == GRADCAM_INPUTS:
                models[task] = item["chance_status"]
                if item["at_chance"]:
                    item["sentences"][0] += f" This is the model of the {task} Grad-CAM maps: {AT_CHANCE_WARNING}."
        for variant, record in sorted(kinds.get("baselines", {}).items()):
            sections.setdefault("baselines", []).append(baselines_findings(system, variant, record))
        for variant, curve in sorted(kinds.get("learning_curve", {}).items()):
            item = learning_curve_finding(system, variant, curve)
            if item:
                sections.setdefault("learning_curve", []).append(item)
        # sanity-null tables by task (variant <task>/<inputs> under controls/)
        sanity = {variant.split("/")[0]: {row_key(r): r for r in rows}
                  for variant, rows in kinds.get("sanity_nulls", {}).items()}
        for variant, rows in sorted(kinds.get("correlations", {}).items()):
            table = sanity.get(variant.split("/")[0]) if sanity else None
            for row in strongest_correlations(rows):
                key = "correlation_dynamics" if row["kind"] == "mobility" else "correlation_structure"
                match = None if table is None else table.get(row_key(row), {})
                item = correlation_finding(system, variant, row, models.get(variant), match)
                if item:
                    sections.setdefault(key, []).append(item)
        for variant, record in sorted(kinds.get("correlation_length", {}).items()):
            sections.setdefault("correlation_length", []).append(length_findings(system, variant, record, models.get(variant)))
        for variant, record in sorted(kinds.get("liquid_relaxation", {}).items()):
            item = relaxation_findings(system, record)
            if item:
                sections.setdefault("liquid_relaxation", []).append({**item, "variant": variant})
        for variant, record in sorted(kinds.get("aging_dynamics", {}).items()):
            item = aging_findings(system, record)
            if item:
                sections.setdefault("aging_dynamics", []).append({**item, "variant": variant})
        out[system] = {"verdict": [verdict(system, sections, runs)], **sections}
    return {"systems": out}


SECTION_TITLES = {
    "verdict": "Verdict: what this run can show at its size",
    "classification": "Classification: CNN against chance and baselines",
    "baselines": "Classical baselines and thermal cues (paired comparison with the CNN)",
    "learning_curve": "Learning curve",
    "correlation_dynamics": "Grad-CAM and dynamics (strongest correlation per measure)",
    "correlation_structure": "Grad-CAM and structure (strongest correlation per indicator)",
    "correlation_length": "Static length ξ of the Grad-CAM field",
    "liquid_relaxation": "Liquid relaxation τα(T)",
    "aging_dynamics": "Aging dynamics",
}


def _rst_escape(text: str) -> str:
    """Escape the characters reStructuredText would read as markup (|, *, `, _ at word ends)."""
    for char in ("\\", "|", "*", "`"):
        text = text.replace(char, "\\" + char)
    return text.replace("_ ", "\\_ ")


def accuracy_table(system: str, sections: dict) -> list[str]:
    """RST list-table of a system's test accuracies: one row per variant (task / inputs), the CNN,
    the majority-class rate and every baseline, each with its 95 % interval. Baselines of
    ``baselines.json`` replace the metrics file's U/N threshold where both exist."""
    rows: dict[str, dict] = {}
    for item in sections.get("classification", []):
        row = rows.setdefault(item["variant"] or "—", {})
        row["n"] = str(item["n_test"])
        row["CNN"] = f"{fmt(item['test_accuracy'])} {_interval(*item['interval'])}"
        row["majority rate"] = fmt(item["majority_rate"])
        row["_metrics"] = {b["name"]: f"{fmt(b['test_accuracy'])} {_interval(*b['interval'])}" for b in item["baselines"]}
    for item in sections.get("baselines", []):
        row = rows.setdefault(item["variant"] or "—", {})
        row["_baselines"] = {b["name"].replace("_", " "): f"{fmt(b['accuracy'])} {_interval(*b['interval'])}"
                             for b in item["items"] if not b["name"].startswith("thermal cue")}
    if not rows:
        return []
    for row in rows.values():
        row.update(row.pop("_baselines", None) or row.get("_metrics", {}))
        row.pop("_metrics", None)
    columns = ["n", "CNN", "majority rate"]
    columns += [c for c in dict.fromkeys(k for row in rows.values() for k in row) if c not in columns]
    lines = [f".. list-table:: {system}: test accuracy (95 % intervals; n test samples)", "   :header-rows: 1", ""]
    lines += ["   * - task / inputs"] + [f"     - {_rst_escape(c)}" for c in columns]
    for variant, row in rows.items():
        lines += [f"   * - {_rst_escape(variant)}"] + [f"     - {_rst_escape(row.get(c, '—'))}" for c in columns]
    return lines + [""]


def findings_rst(found: dict, title: str = "Findings") -> str:
    """The findings as a reStructuredText page: the verdict of each system (one paragraph each),
    then one section per system (opening with its table of test accuracies), one subsection per
    kind of finding, one bullet per sentence."""
    lines = [title, "=" * len(title), ""]
    if not found["systems"]:
        lines += ["No results were given.", ""]
    for system, sections in found["systems"].items():
        for item in sections.get("verdict", []):
            if item["sentences"]:
                lines += [_rst_escape(" ".join(item["sentences"])), ""]
    for system, sections in found["systems"].items():
        lines += [system, "-" * len(system), ""]
        lines += accuracy_table(system, sections)
        for key, items in sections.items():
            if key == "verdict":
                continue
            heading = SECTION_TITLES.get(key, key)
            lines += [heading, "~" * len(heading), ""]
            for item in items:
                for sentence in item["sentences"]:
                    lines += [f"* {_rst_escape(sentence)}"]
            lines += [""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- file I/O
def _read_correlations(path) -> list[dict]:
    return read_table(path)


READERS = {
    "metrics": read_json,
    "baselines": read_json,
    "learning_curve": read_json,
    "correlations": _read_correlations,
    "sanity_nulls": _read_correlations,
    "correlation_length": read_json,
    "liquid_relaxation": read_json,
    "aging_dynamics": read_json,
}


def labels_of(path, root) -> tuple[str, str]:
    """(system, variant) of a result file from its path relative to ``root``: the first
    component, and the other directory components that are not stage directories, joined by /."""
    parts = Path(path).resolve().relative_to(Path(root).resolve()).parts
    if len(parts) < 2:
        raise ValueError(f"{path}: expected <root>/<system>/…/<file> under {root}")
    return parts[0], "/".join(p for p in parts[1:-1] if p not in STAGE_DIRECTORIES)


def load_results(files: dict[str, list], root) -> dict:
    """Parse every file of ``files`` (kind → paths; kinds of :data:`READERS`) into the results dict
    of :func:`findings`."""
    results: dict = {}
    for kind, paths in files.items():
        if kind not in READERS:
            raise KeyError(f"unknown result kind {kind!r}; expected one of {sorted(READERS)}")
        for path in paths:
            system, variant = labels_of(path, root)
            results.setdefault(system, {}).setdefault(kind, {})[variant] = READERS[kind](path)
    return results


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def rst_to_html(text: str) -> str:
    """A standalone HTML page of reStructuredText ``text`` (docutils); raises ValueError on any
    docutils system message (warning or worse), so that a broken page never ships."""

    html = publish_string(text, writer=Writer(), settings_overrides={"report_level": 2, "halt_level": 2, "output_encoding": "unicode", "embed_stylesheet": True})
    return html if isinstance(html, str) else html.decode()


def write_findings(*, files: dict[str, list], root, out_json, out_rst, out_html, runs: int | None = None) -> dict:
    """Stage function: read the result files (kind → paths under ``root``), compute
    :func:`findings` (``runs``: independent runs per system, for the verdict) and write them as
    JSON (NaN → null), reStructuredText and HTML."""
    found = findings(load_results(files, root), runs=runs)
    found["sources"] = {kind: [str(p) for p in paths] for kind, paths in files.items()}
    text = findings_rst(found)
    html = rst_to_html(text)
    write_json(out_json, _jsonable(found), indent=2, ensure_ascii=False)
    write_text(out_rst, text)
    write_text(out_html, html)
    return found


# ------------------------------------------------------------------------------- report helpers
def png_data_uri(path) -> str:
    """``data:image/png;base64,…`` of the file at ``path``."""

    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def register_report_directives() -> None:
    """Register the docutils directive ``glasscam-figure``: a ``figure`` whose image is embedded
    as a data URI, so that figures on the report's landing page survive moving the HTML file.
    (Snakemake's own ``embeddedfigure`` resolves to docutils' Figure.run and keeps the path.)"""

    class EmbeddedFigure(Figure):
        def run(self):
            path = directives.uri(self.arguments[0])
            self.options.setdefault("alt", Path(path).name)
            self.arguments[0] = png_data_uri(path)
            return super().run()

    class ModelStatus(Directive):
        """``.. glasscam-model-status:: metrics.json``: a warning box with the at-chance warning
        and its numbers where that model's test accuracy is not above its majority rate; nothing
        otherwise (captions of the figures drawn from its Grad-CAM maps)."""

        required_arguments = 1

        def run(self):
            status = chance_status(read_json(self.arguments[0])["confusion_matrix"])
            if not status["at_chance"]:
                return []
            box = nodes.warning()
            box += nodes.paragraph(text=status["warning"][0].upper() + status["warning"][1:] + ": nothing in this "
                                   "figure can be read as structure the network learnt.")
            return [box]

    directives.register_directive("glasscam-figure", EmbeddedFigure)
    directives.register_directive("glasscam-model-status", ModelStatus)
