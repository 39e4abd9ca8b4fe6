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

from docutils.core import publish_string
from docutils.parsers.rst import directives
from docutils.parsers.rst.directives.images import Figure
from docutils.writers.html4css1 import Writer

from glasscam.analysis.statistics import wilson_interval
from glasscam.core.keys import ALL_AGES
from glasscam.io.tables import read_json, read_table, write_json, write_text

STAGE_DIRECTORIES = {"model", "analysis", "gradcam", "dataset", "figures"}
DEFAULT_SPECIES = "A"  # Kob–Andersen convention: relaxation times of the A (majority) particles


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def fmt(value, digits: int = 3) -> str:
    """A number as printed everywhere in the findings (three significant figures; n/a for NaN)."""
    if value is None or not _finite(value):
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
    if not all(_finite(v) for v in (lo_a, hi_a, lo_b, hi_b)):
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
    return wilson_interval(round(accuracy * n_test), n_test) if _finite(accuracy) else (float("nan"), float("nan"))


def _baselines(metrics: dict) -> dict[str, dict]:
    """Every baseline of a metrics record: the U/N threshold (``energy_baseline``) and each entry of
    a ``baselines`` section (a dict name → record, or a list of records with a ``name``)."""
    out = {}
    if isinstance(metrics.get("energy_baseline"), dict):
        out["threshold on U/N"] = metrics["energy_baseline"]
    section = metrics.get("baselines") or {}
    items = section.items() if isinstance(section, dict) else ((e.get("name", f"baseline {k}"), e) for k, e in enumerate(section))
    for name, entry in items:
        if isinstance(entry, dict) and _finite(entry.get("test_accuracy")):
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
    return {
        "system": system,
        "variant": variant,
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
        if not isinstance(entry, dict) or not _finite(entry.get("accuracy")):
            continue
        diff = (record.get("cnn_minus_baseline") or {}).get(name) or {}
        order = 0
        if _finite(diff.get("lo")) and _finite(diff.get("hi")):
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
        if not fit or not _finite(fit.get("accuracy")):
            continue
        separable = _finite(fit.get("lo")) and _finite(chance) and fit["lo"] > chance
        sentences.append(
            f"{where}: the {cue_name.replace('_', ' ')} alone (logistic regression) scores {fmt(fit['accuracy'])} "
            f"{_interval(fit.get('lo'), fit.get('hi'))} — "
            + ("above the majority rate: the classes differ in this thermal cue, which a classifier could read."
               if separable else "not resolved above the majority rate on this test split.")
        )
        items.append({"name": f"thermal cue: {cue_name}", "accuracy": fit["accuracy"], "interval": [fit.get("lo"), fit.get("hi")]})
    return {"system": system, "variant": variant, "items": items, "chance": chance, "sentences": sentences}


def learning_curve_finding(system: str, variant: str, curve: dict) -> dict | None:
    """Mean test accuracy at the smallest and the largest training set of a learning curve."""
    rows = sorted(curve.get("summary", []), key=lambda r: r["train_samples_mean"])
    if not rows:
        return None
    first, last = rows[0], rows[-1]
    where = f"{system}" + (f", {variant}" if variant else "")
    change = last["test_accuracy_mean"] - first["test_accuracy_mean"]
    sentence = (
        f"{where}: with {fmt(first['train_samples_mean'])} training samples the CNN's mean test accuracy over "
        f"{first['repeats']} retraining(s) is {fmt(first['test_accuracy_mean'])}; with {fmt(last['train_samples_mean'])} it is "
        f"{fmt(last['test_accuracy_mean'])} ({'+' if change >= 0 else '−'}{fmt(abs(change))}"
        + (", more data still helps)." if change > 0.02 else ", no gain from the extra data at this size).")
    ) if len(rows) > 1 else f"{where}: mean test accuracy {fmt(last['test_accuracy_mean'])} with {fmt(last['train_samples_mean'])} training samples."
    return {
        "system": system,
        "variant": variant,
        "points": [{"train_samples": r["train_samples_mean"], "test_accuracy_mean": r["test_accuracy_mean"], "repeats": r["repeats"]} for r in rows],
        "sentences": [sentence],
    }


# --------------------------------------------------------------------------------- correlations
def _describe_row(row: dict) -> str:
    if row["kind"] == "mobility":
        return f"{row['quantity']} over Δt = {fmt(row['window'])} τ"
    return row["quantity"] + (f" coarse-grained over L = {fmt(row['coarse_graining'])} σ" if _finite(row["coarse_graining"]) and row["coarse_graining"] > 0 else " (per particle, not coarse-grained)")


def strongest_correlations(rows: list[dict]) -> list[dict]:
    """Per (Grad-CAM field, kind, quantity): the pooled (t_w = all) row with the largest |Spearman
    ρ| over windows, coarse-graining radii and species; fields in the order of the table (the
    primary field — the ReLU map of the positive class — first). Rows: dicts with the columns of
    :data:`glasscam.analysis.correlations.CORRELATION_COLUMNS`, numbers as floats."""
    best: dict[tuple[str, str, str], dict] = {}
    fields = list(dict.fromkeys(str(row.get("field", "")) for row in rows))
    for row in rows:
        if str(row.get("t_w")) != ALL_AGES or not _finite(row.get("spearman")):
            continue
        key = (str(row.get("field", "")), row["kind"], row["quantity"])
        if key not in best or abs(row["spearman"]) > abs(best[key]["spearman"]):
            best[key] = row
    order = {"mobility": 0, "indicator": 1}
    return [best[k] for k in sorted(best, key=lambda k: (fields.index(k[0]), order.get(k[1], 2), -abs(best[k]["spearman"])))]


def correlation_finding(system: str, variant: str, row: dict) -> dict:
    """One strongest correlation with its interval, the null and a sentence."""
    rho, lo, hi = row["spearman"], row.get("spearman_lo"), row.get("spearman_hi")
    null_lo, null_hi = row.get("null_spearman_lo"), row.get("null_spearman_hi")
    beyond_null = _compare(lo, hi, null_lo, null_hi) != 0
    species = "all particles" if row["species"] == "all" else f"{row['species']} particles"
    where = f"{system}" + (f", {variant}" if variant else "")
    direction = "higher" if rho > 0 else "lower"
    field = f" ({row['field']})" if row.get("field") else ""
    sentence = (
        f"{where}: Grad-CAM{field} vs {_describe_row(row)} ({species}, {int(row['n_samples'])} glass samples): Spearman ρ = {fmt(rho)}, "
        f"bootstrap 95 % interval {_interval(lo, hi)}; the shuffled-field null spans {_interval(null_lo, null_hi)}. "
        + ((f"A {_strength(rho)} association beyond the null: particles with larger Grad-CAM have {direction} {row['quantity']}."
            if _strength(rho) != "negligible" else
            f"Resolved beyond the null but negligible in size (|ρ| < 0.1): particles with larger Grad-CAM have marginally {direction} {row['quantity']}.")
           if beyond_null else "The interval reaches into the null range: no association can be claimed.")
    )
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
        "beyond_null": beyond_null,
        "sentences": [sentence],
    }


def length_findings(system: str, variant: str, record: dict) -> dict:
    """ξ of the Grad-CAM field pooled and per aging time, with bootstrap intervals."""
    where = f"{system}" + (f", {variant}" if variant else "")
    groups = []
    for group in record.get("groups", []):
        age = group.get("glasscam/time")
        groups.append({"t_w": age, "xi": group["xi"], "interval": [group.get("xi_bootstrap_lo"), group.get("xi_bootstrap_hi")], "n_frames": group["n_frames"]})
    sentences = [
        f"{where}: the Grad-CAM field ({record.get('field', 'gradcam')}) decorrelates over ξ = {fmt(record['xi'])} σ "
        f"(bootstrap 95 % interval {_interval(record.get('xi_bootstrap_lo'), record.get('xi_bootstrap_hi'))}, fit of C(r) = A exp(−r/ξ) "
        f"on {fmt(record.get('fit_r_min'))} ≤ r ≤ {fmt(record.get('fit_r_max'))} σ, {record['n_frames']} glass samples); "
        "per aging time below, t_w is the realised time of the stored frame."
    ]
    if _finite(record["xi"]) and _finite(record.get("fit_r_max")) and record["xi"] > 0.5 * (record["fit_r_max"] - (record.get("fit_r_min") or 0)):
        sentences.append(
            f"{where}: ξ is more than half the fitted range (r ≤ {fmt(record['fit_r_max'])} σ): the decay is barely "
            "sampled and ξ is poorly constrained (fit a longer range to pin it down)."
        )
    for g in groups:
        sentences.append(f"{where}, t_w = {fmt(g['t_w'])} τ ({g['n_frames']} samples): ξ = {fmt(g['xi'])} σ {_interval(*g['interval'])}.")
    finite = [g for g in groups if _finite(g["xi"]) and g["t_w"] is not None]
    if len(finite) > 1:
        first, last = finite[0], finite[-1]
        order = _compare(*last["interval"], *first["interval"])
        sentences.append(
            f"{where}: from t_w = {fmt(first['t_w'])} τ to {fmt(last['t_w'])} τ, ξ "
            + ("grows beyond both intervals." if order > 0 else "shrinks beyond both intervals." if order < 0
               else "does not change beyond its intervals.")
        )
    return {"system": system, "variant": variant, "xi": record["xi"], "interval": [record.get("xi_bootstrap_lo"), record.get("xi_bootstrap_hi")], "groups": groups, "sentences": sentences}


def relaxation_findings(system: str, record: dict, species: str = DEFAULT_SPECIES) -> dict | None:
    """τα(T) and D(T) of ``species`` in the equilibrium liquid."""
    points = []
    for entry in sorted(record.get("temperatures", []), key=lambda t: -t["temperature"]):
        data = entry["species"].get(species)
        if data is None:
            continue
        points.append({"temperature": entry["temperature"], "tau_alpha": data["tau_alpha"], "D": data.get("D"), "q": entry["q"],
                       "D_reason": data.get("reason")})
    if not points:
        return None

    def diffusion(p) -> str:
        if _finite(p["D"]):
            return f"D = {fmt(p['D'])} σ²/τ"
        return f"no D ({p['D_reason']})" if p.get("D_reason") else "no D"

    listing = "; ".join(f"T = {fmt(p['temperature'])}: τα = {fmt(p['tau_alpha'])} τ, {diffusion(p)}" for p in points)
    sentences = [f"{system}: equilibrium liquid, {species} particles (q* = first peak of S(q)) — {listing}."]
    finite = [p for p in points if _finite(p["tau_alpha"])]
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
    sentence = (
        f"{system}: aging glass after the quench, {species} particles — Fs(q* = {fmt(record['q'])}, t) reaches 1/e at "
        f"t = {fmt(tau)} τ after the quench (t_w = 0; {record.get('n_trajectories')} trajectories; the glass ages meanwhile, "
        "so this is not an equilibrium τα)."
        if _finite(tau) else
        f"{system}: aging glass after the quench, {species} particles — Fs(q*, t) does not reach 1/e within the aging run: "
        "the glass does not relax on the simulated time scale."
    )
    sentences = [sentence]
    per_age = ((record.get("two_time") or {}).get("tau_fs_1e") or {}).get(species) or []
    if per_age:
        listing = "; ".join(
            f"t_w = {fmt(e['t_w'])} τ: " + (f"{fmt(e['tau'])} τ" if _finite(e["tau"]) else f"> {fmt(e.get('t_max'))} τ (Fs above 1/e to the end of the run)")
            for e in per_age
        )
        sentences.append(
            f"{system}: two-time Fs(q*; t_w + t, t_w) of the {species} particles falls to 1/e after τ(t_w) = {listing} "
            f"({record['two_time']['n_runs']} independent runs)."
        )
    return {"system": system, "species": species, "tau_fs_1e_from_quench": tau, "q": record["q"], "sentences": sentences}


def findings(results: dict) -> dict:
    """Findings from parsed results.

    ``results``: {system: {kind: {variant: data}}}, kind one of ``metrics``, ``learning_curve``,
    ``correlations`` (list of row dicts), ``correlation_length``, ``liquid_relaxation``,
    ``aging_dynamics``; variant a string ('' where the kind has none).
    Returns {"systems": {system: {section: [finding, ...]}}}, each finding with its numbers and
    ``sentences``; sections appear only where their kind was given."""
    out = {}
    for system in sorted(results):
        kinds = results[system]
        sections: dict[str, list] = {}
        for variant, metrics in sorted(kinds.get("metrics", {}).items()):
            sections.setdefault("classification", []).append(classification_finding(system, variant, metrics))
        for variant, record in sorted(kinds.get("baselines", {}).items()):
            sections.setdefault("baselines", []).append(baselines_findings(system, variant, record))
        for variant, curve in sorted(kinds.get("learning_curve", {}).items()):
            item = learning_curve_finding(system, variant, curve)
            if item:
                sections.setdefault("learning_curve", []).append(item)
        for variant, rows in sorted(kinds.get("correlations", {}).items()):
            for row in strongest_correlations(rows):
                key = "correlation_dynamics" if row["kind"] == "mobility" else "correlation_structure"
                sections.setdefault(key, []).append(correlation_finding(system, variant, row))
        for variant, record in sorted(kinds.get("correlation_length", {}).items()):
            sections.setdefault("correlation_length", []).append(length_findings(system, variant, record))
        for variant, record in sorted(kinds.get("liquid_relaxation", {}).items()):
            item = relaxation_findings(system, record)
            if item:
                sections.setdefault("liquid_relaxation", []).append({**item, "variant": variant})
        for variant, record in sorted(kinds.get("aging_dynamics", {}).items()):
            item = aging_findings(system, record)
            if item:
                sections.setdefault("aging_dynamics", []).append({**item, "variant": variant})
        out[system] = sections
    return {"systems": out}


SECTION_TITLES = {
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
    """The findings as a reStructuredText page: one section per system (opening with its table of
    test accuracies), one subsection per kind of finding, one bullet per sentence."""
    lines = [title, "=" * len(title), ""]
    if not found["systems"]:
        lines += ["No results were given.", ""]
    for system, sections in found["systems"].items():
        lines += [system, "-" * len(system), ""]
        lines += accuracy_table(system, sections)
        for key, items in sections.items():
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


def write_findings(files: dict[str, list], root, out_json, out_rst, out_html) -> dict:
    """Stage function: read the result files (kind → paths under ``root``), compute
    :func:`findings` and write them as JSON (NaN → null), reStructuredText and HTML."""
    found = findings(load_results(files, root))
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

    directives.register_directive("glasscam-figure", EmbeddedFigure)
