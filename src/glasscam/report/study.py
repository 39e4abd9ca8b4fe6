"""The study summary: what one system's run found, per classification task and input kind, as
tables (JSON + CSV) and Markdown tables for docs/study.md.

For every task: the test accuracy of the CNN and of each baseline (Wilson 95 % intervals, and the
cluster-bootstrap interval over the test split's runs) and the CNN minus the best baseline
(paired Agresti–Min interval, and over runs, :mod:`glasscam.stages.baselines`); the
within-frame Spearman and Pearson correlation of the Grad-CAM field (ReLU and signed map of the
positive class) with propensity and mobility of the A particles per t_w and Δt, with bootstrap
intervals and the shuffled null (:mod:`glasscam.analysis.correlations`); the same for the best single
classical descriptor — chosen once, as the descriptor with the largest pooled |ρ| with the
propensity over every t_w and Δt (a maximum over many descriptors: its null is the shuffled one
of that descriptor, not a selection-corrected one); for every attribution correlation the
sanity nulls (the same CNN with random weights and trained on permuted labels, several seeds
each; ``learned`` only beyond both, :mod:`glasscam.analysis.sanity`) and the run-level interval;
ξ of the Grad-CAM field per t_w. Inputs made under other settings than the current config are
refused (:func:`check_settings`). For the
system: the fraction of A particles moving more than 0.5 σ per t_w and Δt (in the sample's
own trajectory and over the iso-configurational replicas) and the requested vs realised t_w of
the analysis samples.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from glasscam.analysis.statistics import is_finite_number
from glasscam.core.schedule import time_key
from glasscam.io.gsd import read_logs, read_provenance, read_states
from glasscam.io.provenance import config_hash, settings_difference
from glasscam.io.provenance import provenance as make_provenance
from glasscam.io.tables import read_json, read_table, write_json, write_table

DYNAMICS = ("propensity", "mobility")


def _read_csv(path) -> list[dict]:
    return read_table(path)




def _correlation_entry(row: dict) -> dict:
    keys = ("n_samples", "n_zero_maps", "n_particles", "pearson", "pearson_lo", "pearson_hi", "spearman", "spearman_lo",
            "spearman_hi", "n_runs", "spearman_run_lo", "spearman_run_hi", "null_spearman_lo", "null_spearman_hi")
    return {k: row.get(k) for k in keys if k in row}


def dynamics_correlations(rows: list[dict], field: str, species: str) -> list[dict]:
    """Rows of one field with propensity and mobility (raw, not coarse-grained) per t_w and Δt."""
    out = []
    for row in rows:
        if row["field"] != field or row["species"] != species or row["kind"] != "mobility":
            continue
        if row["quantity"] not in DYNAMICS:
            continue
        out.append({"field": field, "dynamics": row["quantity"], "t_w": row["t_w"], "window": row["window"],
                    **_correlation_entry(row)})
    return out


def best_descriptor(rows: list[dict], species: str) -> str | None:
    """The descriptor with the largest pooled |Spearman ρ| with the propensity (t_w = all),
    over every Δt."""
    best, value = None, -1.0
    for row in rows:
        if (row["species"] == species and row["quantity"] == "propensity" and row["t_w"] == "all"
                and is_finite_number(row.get("spearman")) and abs(row["spearman"]) > value):
            best, value = row["field"], abs(row["spearman"])
    return best


def rearrangement_table(mobility_gsd) -> list[dict]:
    """Fraction of A particles with |Δr| > 0.5 σ per realised t_w and Δt: in the sample's own
    trajectory (mean over samples; ``window_realised``: the mean realised window of the aging
    frames, within the mobility's tolerance of Δt) and over its iso-configurational replicas."""
    states, logs = read_states(mobility_gsd), read_logs(mobility_gsd)
    windows = read_provenance(mobility_gsd)["mobility"]["windows"]
    table = defaultdict(lambda: defaultdict(list))
    for state, log in zip(states, logs, strict=True):
        for dt in windows:
            for key in ("rearranged_A", "rearranged_A_replicas"):
                value = float(np.ravel(log.get(f"glasscam/{key}_dt{dt:g}", [np.nan]))[0])
                if math.isfinite(value):
                    table[(time_key(state.time), float(dt))][key].append(value)
            realised = float(np.ravel(log.get(f"glasscam/window_dt{dt:g}", [np.nan]))[0])
            if math.isfinite(realised):
                table[(time_key(state.time), float(dt))]["window_realised"].append(realised)
    rows = []
    for (t_w, dt), values in sorted(table.items()):
        rows.append({"t_w": t_w, "window": dt,
                     "window_realised": float(np.mean(values["window_realised"])) if values["window_realised"] else None,
                     "fraction_A_moved_trajectory": float(np.mean(values["rearranged_A"])) if values["rearranged_A"] else None,
                     "samples": len(values["rearranged_A"]),
                     "fraction_A_moved_replicas": (float(np.mean(values["rearranged_A_replicas"]))
                                                   if values["rearranged_A_replicas"] else None),
                     "samples_with_replicas": len(values["rearranged_A_replicas"])})
    return rows


def realised_ages(glass_samples_gsd) -> list[dict]:
    """Requested and realised t_w of the analysis samples (frames snap to the nearest time)."""
    rows = read_provenance(glass_samples_gsd).get("samples", [])
    out = {}
    for row in rows:
        out.setdefault(row["requested_age"], set()).add(round(row["time"], 6))
    return [{"requested": k, "realised": sorted(v)} for k, v in sorted(out.items())]


def ceiling_table(ceiling: dict, correlation_rows: list[dict], exclude: tuple = ()) -> list[dict]:
    """Per Δt and t_w, the comparison the GlassBench tables make: Spearman ρ with the propensity of
    the best single descriptor, the descriptor ridge and the supervised CNN (held-out test runs,
    :mod:`glasscam.stages.ceiling`), and of each attribution field of each task (every glass
    sample, from the correlation rows), each attribution with its sanity-null bands and ``learned``
    where the sanity-null table was given (:mod:`glasscam.analysis.sanity`).
    Fields in ``exclude`` (the descriptor rows mixed into the correlation rows) are left out."""
    table: dict = {}
    for row in ceiling.get("rows", []):
        t_w = row["t_w"] if row["t_w"] == "all" else round(float(row["t_w"]), 6)
        cell = table.setdefault((float(row["window"]), t_w), {"window": float(row["window"]), "t_w": t_w})
        cell[row["predictor"]] = {k: row.get(k) for k in ("field", "spearman", "spearman_lo", "spearman_hi", "pearson",
                                                          "n_test_frames", "n_particles")}
    for row in correlation_rows:
        if row.get("dynamics") != "propensity" or row.get("field") in exclude:
            continue
        t_w = row["t_w"] if row["t_w"] == "all" else round(float(row["t_w"]), 6)
        key = (float(row["window"]), t_w)
        if key not in table:
            continue
        table[key].setdefault("attributions", {})[f"{row['task']}:{row['field']}"] = {
            k: row.get(k) for k in ("spearman", "spearman_lo", "spearman_hi", "null_spearman_lo", "null_spearman_hi",
                                    "n_samples", "learned", "random_weights_lo", "random_weights_hi",
                                    "shuffled_labels_lo", "shuffled_labels_hi") if k in row}
    for cell in table.values():
        cell.setdefault("attributions", {})
    return [table[k] for k in sorted(table, key=lambda k: (k[0], k[1] != "all", k[1] if k[1] != "all" else 0))]


class StaleInput(ValueError):
    """A result made under other settings than the current config."""


def check_settings(baselines: dict, correlations: dict, settings: dict | None) -> None:
    """Refuse inputs made under other settings than ``settings`` (the current config's model,
    training, dataset, voxel and seed keys): every baselines JSON records the settings of its
    results, every correlation CSV their hash (:func:`glasscam.io.provenance.settings_record`).
    Raises :class:`StaleInput` naming the file and the differing keys; a file without a record
    (made before results recorded their settings) is refused too. No check when ``settings`` is
    None."""
    if settings is None:
        return
    current = config_hash(settings)
    for by_inputs in baselines.values():
        for path in by_inputs.values():
            b = read_json(path)
            if "settings" not in b:
                raise StaleInput(f"{path}: no settings recorded (made before results recorded them); rerun it "
                                 f"(snakemake --forcerun train_classifier)")
            if b.get("settings_hash") != current:
                differ = settings_difference(b["settings"], settings)
                raise StaleInput(f"{path}: made under other settings than the current config; differing keys: "
                                 f"{', '.join(differ) or '(none by value; hash ' + str(b.get('settings_hash')) + ')'}; "
                                 f"rerun it (snakemake --forcerun train_classifier, or --rerun-triggers params)")
    for path in correlations.values():
        hashes = {str(r.get("settings_hash", "")) for r in read_table(path)}
        if hashes != {current}:
            raise StaleInput(f"{path}: settings_hash {sorted(hashes)} ≠ {current} of the current config "
                             f"(its model was made under other model/training/dataset/voxel/seed keys, or before "
                             f"results recorded them); rerun it (snakemake --forcerun train_classifier)")


def _sanity_index(path) -> dict:
    return {(r["field"], r["quantity"], r["kind"], str(r["t_w"]), r["window"] if is_finite_number(r["window"]) else None,
             r["species"]): r for r in read_table(path) if not is_finite_number(r.get("coarse_graining")) or r["coarse_graining"] == 0}


SANITY_KEYS = ("learned", "beyond_null", "random_weights_seeds", "random_weights_mean", "random_weights_lo",
               "random_weights_hi", "beyond_random_weights", "shuffled_labels_seeds", "shuffled_labels_mean",
               "shuffled_labels_lo", "shuffled_labels_hi", "beyond_shuffled_labels")


def _truth(value) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "1.0")


def sanity_summary(path, species: str) -> dict:
    """Counts of the sanity-null table of one task for ``species``: rows, rows beyond the
    shuffled null, and rows *learned* (beyond both controls too), per field."""
    out = {}
    for row in read_table(path):
        if row["species"] != species:
            continue
        entry = out.setdefault(row["field"], {"rows": 0, "beyond_null": 0, "learned": 0})
        entry["rows"] += 1
        entry["beyond_null"] += _truth(row["beyond_null"])
        entry["learned"] += _truth(row["learned"])
    return out


def summarize_study(*, system: str, baselines: dict, correlations: dict, lengths: dict, descriptor_csv,
                    mobility_gsd, glass_samples_gsd, out_json, species: str = "A", sanity: dict | None = None,
                    settings: dict | None = None, ceiling=None) -> dict:
    """Collect one system's findings. ``baselines`` {task: {inputs: baselines.json}},
    ``correlations`` {task: correlations.csv}, ``lengths`` {task: gradcam_correlation_length.json},
    ``sanity`` {task: sanity_nulls.csv} (the attribution rows then carry the control bands and
    ``learned``, :mod:`glasscam.analysis.sanity`). ``settings``: the current config's settings;
    inputs made under others are refused (:func:`check_settings`). ``ceiling``:
    supervised_ceiling.json (:func:`ceiling_table`) or None.
    Writes ``out_json`` and, beside it, ``classifiers.csv``, ``correlations.csv``,
    ``rearrangements.csv``, ``correlation_lengths.csv``, ``ceiling.csv``; returns the record."""
    check_settings(baselines, correlations, settings)
    record = {"system": system, "species": species, "tasks": {}}
    if settings is not None:
        record["settings_hash"] = config_hash(settings)
        # a realisation is the same settings under another root seed (compare_realisations)
        record["seed"] = settings.get("seed")
        record["settings_hash_except_seed"] = config_hash({k: v for k, v in settings.items() if k != "seed"})
    descriptor_rows = _read_csv(descriptor_csv)
    best = best_descriptor(descriptor_rows, species)
    record["best_descriptor"] = best
    classifier_rows, correlation_rows, length_rows = [], [], []
    for task, by_inputs in baselines.items():
        entry = {"classifiers": {}, "correlations": [], "correlation_length": []}
        for inputs, path in by_inputs.items():
            b = read_json(path)
            entry["classifiers"][inputs] = {
                "class_names": b["class_names"], "test_class_counts": b["class_balance"]["test"],
                "majority_rate": b["chance_majority"], "cnn": b["cnn"],
                "baselines": {k: {**{x: v[x] for x in ("accuracy", "lo", "hi", "n")},
                                  "run_interval": v.get("run_interval")} for k, v in b["baselines"].items()},
                "best_baseline": b["best_baseline"], "cnn_minus_best_baseline": b["cnn_minus_best_baseline"],
                "thermal_cues": {k: {"distribution": v["distribution"],
                                     "accuracy_alone": {x: v["logistic"][x] for x in ("accuracy", "lo", "hi")}}
                                 for k, v in b["thermal_cues"].items()},
                "kinetic_relaxation_time": (b.get("kinetic_relaxation") or {}).get("time"),
                "cnn_fit": b.get("cnn_fit") or {},
            }
            c = entry["classifiers"][inputs]
            classifier_rows.append({
                "task": task, "inputs": inputs, "test_samples": b["cnn"]["n"], "majority_rate": c["majority_rate"],
                **{f"cnn_{k}": b["cnn"][k] for k in ("accuracy", "lo", "hi")},
                **{f"cnn_run_{k}": (b["cnn"].get("run_interval") or {}).get(k) for k in ("lo", "hi", "n_runs")},
                **{f"{name}_{k}": v[k] for name, v in c["baselines"].items() for k in ("accuracy", "lo", "hi")},
                "best_baseline": c["best_baseline"],
                **{f"cnn_minus_best_{k}": c["cnn_minus_best_baseline"][k] for k in ("difference", "lo", "hi")},
                **{f"cnn_minus_best_run_{k}": (c["cnn_minus_best_baseline"].get("run_interval") or {}).get(k)
                   for k in ("lo", "hi")},
                **{f"cnn_{k}": c["cnn_fit"].get(k) for k in ("train_accuracy", "validation_accuracy",
                                                             "fits_training_split", "search_trials")},
            })
        rows = _read_csv(correlations[task])
        fields = list(dict.fromkeys(r["field"] for r in rows))
        for field in fields:
            entry["correlations"] += dynamics_correlations(rows, field, species)
        if sanity and task in sanity:
            index = _sanity_index(sanity[task])
            for row in entry["correlations"]:
                match = index.get((row["field"], row["dynamics"], "mobility", str(row["t_w"]),
                                   row["window"] if is_finite_number(row["window"]) else None, species))
                if match is None:
                    raise ValueError(f"{sanity[task]}: no row for {row['field']} × {row['dynamics']} "
                                     f"(t_w {row['t_w']}, Δt {row['window']}, {species}) of {correlations[task]}")
                row.update({k: (_truth(match[k]) if k == "learned" or k.startswith("beyond") else match.get(k))
                            for k in SANITY_KEYS if k in match})
            entry["sanity_nulls"] = sanity_summary(sanity[task], species)
        if best:
            entry["correlations"] += dynamics_correlations(descriptor_rows, best, species)
        for row in entry["correlations"]:
            correlation_rows.append({"task": task, "species": species, **row})
        length = read_json(lengths[task])
        maps = [("relu", length), ("signed", length.get("signed"))] + sorted((length.get("attributions") or {}).items())
        for label, rec in maps:
            if not rec:
                continue
            for group in rec.get("groups", []):
                # a flagged fit (misses its data, or ξ below the particle size) is listed with its
                # reason and no ξ: never quoted
                quotable = group.get("reliable", True) is not False
                row = {"task": task, "map": label, "field": rec["field"], "t_w": group.get("glasscam/time"),
                       "xi": group.get("xi") if quotable else None,
                       "xi_lo": group.get("xi_bootstrap_lo") if quotable else None,
                       "xi_hi": group.get("xi_bootstrap_hi") if quotable else None, "amplitude": group.get("amplitude"),
                       "fit_r_start": group.get("fit_r_start"), "fit_r_end": group.get("fit_r_end"),
                       "r_squared": group.get("r_squared"), "reduced_chi2": group.get("reduced_chi2"),
                       "reliable": quotable, "flag": group.get("flag"), "n_frames": group.get("n_frames")}
                entry["correlation_length"].append(row)
                length_rows.append(row)
            if "note" in rec:
                entry["correlation_length"].append({"map": label, "note": rec["note"]})
        record["tasks"][task] = entry
    ceiling_rows = []
    if ceiling is not None:
        record["ceiling"] = ceiling_table(read_json(ceiling), correlation_rows, exclude=(best,))
        for cell in record["ceiling"]:
            flat = {"window": cell["window"], "t_w": cell["t_w"]}
            for predictor in ("best_descriptor", "descriptor_ridge", "supervised_cnn"):
                entry = cell.get(predictor) or {}
                flat[f"{predictor}_spearman"] = entry.get("spearman")
                flat[f"{predictor}_lo"], flat[f"{predictor}_hi"] = entry.get("spearman_lo"), entry.get("spearman_hi")
            flat["best_descriptor"] = (cell.get("best_descriptor") or {}).get("field")
            for name, entry in cell["attributions"].items():
                flat[f"{name}_spearman"] = entry.get("spearman")
                for key in ("learned", "random_weights_lo", "random_weights_hi", "shuffled_labels_lo", "shuffled_labels_hi"):
                    if key in entry:
                        flat[f"{name}_{key}"] = entry[key]
            ceiling_rows.append(flat)
    record["rearrangements"] = rearrangement_table(mobility_gsd)
    record["realised_ages"] = realised_ages(glass_samples_gsd)
    record["provenance"] = make_provenance({"system": system}, stage="study_summary",
                                           inputs={"baselines": baselines, "correlations": correlations,
                                                   "sanity": sanity,
                                                   "lengths": lengths, "descriptors": str(descriptor_csv),
                                                   "ceiling": None if ceiling is None else str(ceiling)})

    out_dir = Path(out_json).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in (("classifiers", classifier_rows), ("correlations", correlation_rows),
                       ("rearrangements", record["rearrangements"]), ("correlation_lengths", length_rows),
                       ("ceiling", ceiling_rows)):
        if not rows:
            continue
        columns = list(dict.fromkeys(k for row in rows for k in row))
        write_table(out_dir / f"{name}.csv", rows, columns)
    write_json(out_json, record, indent=1, default=str)
    return record


def _fmt(value, digits: int = 2) -> str:
    return "–" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def _fit_cell(fit: dict) -> str:
    """'1.00 / 0.83 (24)' — the CNN's unaugmented training and validation accuracy at its kept
    epoch and the number of search trials; '(no search)' without one; '*' marks a CNN that does
    not fit its training split (training accuracy < the fit threshold)."""
    if not is_finite_number(fit.get("train_accuracy")):
        return "n/a"
    flag = "" if fit.get("fits_training_split") else " *"
    trials = f"({fit['search_trials']})" if fit.get("search_trials") else "(no search)"
    return f"{_fmt(fit['train_accuracy'])}{flag} / {_fmt(fit.get('validation_accuracy'))} {trials}"


def markdown_tables(record: dict) -> str:
    """The study's numbers as Markdown tables (classifiers; Grad-CAM and best descriptor vs
    dynamics per t_w and Δt; ξ per t_w; rearranged fractions), for docs/study.md."""
    lines = [f"**{record['system']}** (correlations: {record['species']} particles, within-frame Spearman ρ and "
             "Pearson r with 95 % bootstrap intervals over samples; null = 95 % range of the shuffled field)", ""]
    lines += ["| task | inputs | test n | majority | CNN | CNN, runs resampled | logistic on descriptors | U/N threshold "
              "| CNN − best | CNN − best, runs resampled | CNN train / validation (search trials) |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for task, entry in record["tasks"].items():
        for inputs, c in entry["classifiers"].items():
            b = c["baselines"]
            d = c["cnn_minus_best_baseline"]
            runs = c["cnn"].get("run_interval") or {}
            d_runs = d.get("run_interval") or {}
            lines.append(
                f"| {task} | {inputs} | {c['cnn']['n']} | {_fmt(c['majority_rate'])} | "
                f"{_fmt(c['cnn']['accuracy'])} [{_fmt(c['cnn']['lo'])}, {_fmt(c['cnn']['hi'])}] | "
                f"[{_fmt(runs.get('lo'))}, {_fmt(runs.get('hi'))}] ({runs.get('n_runs', '–')} runs) | "
                + " | ".join(f"{_fmt(b[k]['accuracy'])} [{_fmt(b[k]['lo'])}, {_fmt(b[k]['hi'])}]"
                             for k in ("descriptor_logistic", "energy_threshold"))
                + f" | {d['difference']:+.2f} [{d['lo']:+.2f}, {d['hi']:+.2f}] | "
                f"[{_fmt(d_runs.get('lo'))}, {_fmt(d_runs.get('hi'))}] | {_fit_cell(c.get('cnn_fit') or {})} |")
    windows = sorted({row["window"] for entry in record["tasks"].values() for row in entry["correlations"]})
    lines += ["", "Cells: Spearman ρ [95 % bootstrap interval] / Pearson r; † = ρ's interval excludes the shuffled "
              "null's 95 % range; samples counts frames used, (z) frames whose map is identically zero.", "",
              "| task | field | dynamics | t_w (τ) | samples | " + " | ".join(f"Δt = {w:g} τ" for w in windows) + " |",
              "|---|---|---|---|---|" + "---|" * len(windows)]
    for task, entry in record["tasks"].items():
        table: dict = {}
        for row in entry["correlations"]:
            if row["t_w"] == "all":
                continue
            table.setdefault((row["field"], row["dynamics"], row["t_w"]), {})[row["window"]] = row
        for (field, dynamics, t_w), cells in table.items():
            if not any(is_finite_number(c.get("spearman")) or (c.get("n_zero_maps") or 0) > 0 for c in cells.values()):
                continue
            # counts from a window that exists at this t_w (the first may not: mobility windows are NaN
            # where no frame realises Δt)
            first = max(cells.values(), key=lambda c: (int(c.get("n_samples") or 0), int(c.get("n_zero_maps") or 0)))
            out = []
            for w in windows:
                c = cells.get(w)
                if c is None or not is_finite_number(c.get("spearman")):
                    out.append("–")
                    continue
                significant = (is_finite_number(c.get("null_spearman_lo")) and is_finite_number(c.get("spearman_lo"))
                               and (c["spearman_lo"] > c["null_spearman_hi"] or c["spearman_hi"] < c["null_spearman_lo"]))
                out.append(f"{c['spearman']:+.2f} [{c['spearman_lo']:+.2f}, {c['spearman_hi']:+.2f}]"
                           f"{'†' if significant else ''} / {c['pearson']:+.2f}")
            lines.append(f"| {task} | {field} | {dynamics} | {t_w:g} | {int(first['n_samples'])} "
                         f"({int(first.get('n_zero_maps') or 0)}) | " + " | ".join(out) + " |")
    sanity_rows = [(task, row) for task, entry in record["tasks"].items() for row in entry["correlations"]
                   if "learned" in row]
    if sanity_rows:
        lines += ["", "Sanity nulls (Adebayo et al. 2018): ρ of the model's map; the shuffled null; the same CNN with "
                  "random weights and trained on permuted labels, mean ρ over seeds [band: every seed's ρ and 95 % "
                  "interval]; **learned** only where ρ lies beyond the null and both bands in its own direction. "
                  "Run-level interval: runs resampled.", "",
                  "| task | field | dynamics | t_w (τ) | Δt (τ) | ρ | runs resampled | null | random weights | "
                  "permuted labels | learned |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for task, row in sanity_rows:
            if not is_finite_number(row.get("spearman")):
                continue
            t_w = row["t_w"] if isinstance(row["t_w"], str) else f"{row['t_w']:g}"
            lines.append(
                f"| {task} | {row['field']} | {row['dynamics']} | {t_w} | {_fmt(row['window'], 0)} | "
                f"{row['spearman']:+.2f} | [{_fmt(row.get('spearman_run_lo'))}, {_fmt(row.get('spearman_run_hi'))}] | "
                f"[{_fmt(row.get('null_spearman_lo'))}, {_fmt(row.get('null_spearman_hi'))}] | "
                + " | ".join(f"{_fmt(row.get(f'{c}_mean'))} [{_fmt(row.get(f'{c}_lo'))}, {_fmt(row.get(f'{c}_hi'))}]"
                             for c in ("random_weights", "shuffled_labels"))
                + f" | {'**yes**' if row['learned'] else 'no'} |")
    lines += ["", "ξ from C(r) = A exp(−r/ξ) fitted from the peak of C(r) (fit range, R²); a flagged fit is not quoted.", "",
              "| task | map | t_w (τ) | ξ (σ) | 95 % interval | fit range (σ) | R² | frames |",
              "|---|---|---|---|---|---|---|---|"]
    for task, entry in record["tasks"].items():
        for row in entry["correlation_length"]:
            if "note" in row:
                lines.append(f"| {task} | {row['map']} | – | – | {row['note']} | – | – | – |")
                continue
            xi = (f"{_fmt(row['xi'])} | [{_fmt(row.get('xi_lo'))}, {_fmt(row.get('xi_hi'))}]" if row.get("reliable", True)
                  else f"flagged | {row.get('flag')}")
            lines.append(f"| {task} | {row['map']} | {_fmt(row['t_w'], 3)} | {xi} | "
                         f"{_fmt(row.get('fit_r_start'))}–{_fmt(row.get('fit_r_end'))} | {_fmt(row.get('r_squared'))} | "
                         f"{row.get('n_frames')} |")
    if record.get("ceiling"):
        attributions = list(dict.fromkeys(name for cell in record["ceiling"] for name in cell["attributions"]))
        lines += ["", "Propensity (A particles), Spearman ρ per Δt and t_w: best single descriptor (chosen on the "
                  "training runs, sign kept), ridge on every descriptor and the supervised CNN — held-out test runs, "
                  "[95 % bootstrap over frames]; each attribution over every glass sample (task:field, † beyond the "
                  "shuffled null; **learned**: beyond the shuffled null and beyond both randomisation nulls — the "
                  "re-initialised and the permuted-label controls, every seed's interval — in its own direction).", "",
                  "| Δt (τ) | t_w (τ) | best descriptor | descriptor ridge | supervised CNN | "
                  + " | ".join(attributions) + " |",
                  "|---|---|---|---|---|" + "---|" * len(attributions)]

        def cell_text(entry, null=False) -> str:
            if not entry or not is_finite_number(entry.get("spearman")):
                return "–"
            text = f"{entry['spearman']:+.2f}"
            if is_finite_number(entry.get("spearman_lo")) and is_finite_number(entry.get("spearman_hi")):
                text += f" [{entry['spearman_lo']:+.2f}, {entry['spearman_hi']:+.2f}]"
            if null and is_finite_number(entry.get("null_spearman_lo")) and is_finite_number(entry.get("spearman_lo")) and (
                    entry["spearman_lo"] > entry["null_spearman_hi"] or entry["spearman_hi"] < entry["null_spearman_lo"]):
                text += "†"
            if null and entry.get("learned") is True:
                text += " **learned**"
            return text

        for cell in record["ceiling"]:
            best = cell.get("best_descriptor") or {}
            t_w = cell["t_w"] if cell["t_w"] == "all" else f"{cell['t_w']:g}"
            lines.append(f"| {cell['window']:g} | {t_w} | {best.get('field', '–')} {cell_text(best)} | "
                         f"{cell_text(cell.get('descriptor_ridge'))} | {cell_text(cell.get('supervised_cnn'))} | "
                         + " | ".join(cell_text(cell["attributions"].get(a), True) for a in attributions) + " |")
    lines += ["", "| t_w (τ) | Δt (τ) | realised Δt (τ) | A moved > 0.5 σ (own trajectory) | (over replicas) | samples |",
              "|---|---|---|---|---|---|"]
    for row in record["rearrangements"]:
        lines.append(f"| {row['t_w']:g} | {row['window']:g} | {_fmt(row.get('window_realised'), 1)} | "
                     f"{_fmt(row['fraction_A_moved_trajectory'], 3)} | {_fmt(row['fraction_A_moved_replicas'], 3)} | "
                     f"{row['samples']} |")
    return "\n".join(lines) + "\n"


def _headline_values(record: dict) -> dict:
    """{(quantity, task, inputs, Δt, t_w): (value, learned)} of one study record: per task and input
    kind the CNN's test accuracy, the best baseline's and their difference; per Δt at t_w = all the
    propensity ρ of the best descriptor, the descriptor ridge, the supervised CNN and every
    attribution (with its ``learned`` flag)."""
    out = {}
    for task, entry in record["tasks"].items():
        for inputs, c in entry["classifiers"].items():
            best = c["baselines"].get(c["best_baseline"]) or {}
            out[("CNN test accuracy", task, inputs, None, None)] = (c["cnn"]["accuracy"], None)
            out[(f"best baseline ({c['best_baseline']}) accuracy", task, inputs, None, None)] = (best.get("accuracy"), None)
            out[("CNN − best baseline", task, inputs, None, None)] = (c["cnn_minus_best_baseline"]["difference"], None)
    for cell in record.get("ceiling") or []:
        if cell["t_w"] != "all":
            continue
        # the best descriptor is chosen per realisation (its field may differ): one row for it
        for predictor in ("best_descriptor", "descriptor_ridge", "supervised_cnn"):
            entry = cell.get(predictor) or {}
            out[(f"ρ: {predictor.replace('_', ' ')}", None, None, cell["window"], "all")] = (entry.get("spearman"), None)
        for name, entry in cell["attributions"].items():
            out[(f"ρ: {name}", None, None, cell["window"], "all")] = (entry.get("spearman"), entry.get("learned"))
    return out


def compare_realisations(records: list[dict]) -> list[dict]:
    """How far the headline numbers move between independent realisations of one study: the same
    system and settings under other root seeds (new initial conditions, MD, splits, trainings).

    ``records``: two or more study records (``study.json``). Returns one row per headline number
    (:func:`_headline_values`): ``quantity``, ``task``, ``inputs``, ``window`` (Δt, τ), ``t_w``,
    ``values`` (one per realisation, in the order given; None where a realisation lacks it),
    ``learned`` (attributions: one flag per realisation), ``mean``, ``min``, ``max`` and
    ``spread`` = max − min over the realisations that have the number.

    Raises ValueError when fewer than two records are given, when they belong to different systems,
    were made under different settings apart from the seed (``settings_hash_except_seed``), lack
    that record (made before realisations were recorded), or share a seed (then they are one
    realisation, not independent)."""
    if len(records) < 2:
        raise ValueError(f"compare_realisations: {len(records)} study record(s); need two or more realisations")
    systems = {r["system"] for r in records}
    if len(systems) > 1:
        raise ValueError(f"compare_realisations: records of different systems {sorted(systems)}")
    missing = [i for i, r in enumerate(records) if "settings_hash_except_seed" not in r]
    if missing:
        raise ValueError(f"compare_realisations: record(s) {missing} carry no settings_hash_except_seed "
                         "(made before realisations were recorded): rerun their study_summary")
    hashes = {r["settings_hash_except_seed"] for r in records}
    if len(hashes) > 1:
        raise ValueError(f"compare_realisations: the records differ in more than the seed (settings {sorted(hashes)})")
    seeds = [r.get("seed") for r in records]
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"compare_realisations: seeds {seeds} repeat — one realisation counted twice")
    values = [_headline_values(r) for r in records]
    keys = list(dict.fromkeys(k for v in values for k in v))
    rows = []
    for key in keys:
        quantity, task, inputs, window, t_w = key
        got = [v.get(key, (None, None)) for v in values]
        numbers = [x for x, _ in got if is_finite_number(x)]
        row = {"quantity": quantity, "task": task, "inputs": inputs, "window": window, "t_w": t_w,
               "values": [x if is_finite_number(x) else None for x, _ in got]}
        if any(flag is not None for _, flag in got):
            row["learned"] = [flag for _, flag in got]
        row.update({"mean": float(np.mean(numbers)) if numbers else None,
                    "min": min(numbers) if numbers else None, "max": max(numbers) if numbers else None,
                    "spread": (max(numbers) - min(numbers)) if len(numbers) > 1 else None})
        rows.append(row)
    return rows


def realisation_table(records: list[dict]) -> str:
    """:func:`compare_realisations` as a Markdown table: one column per realisation (its seed), the
    mean and the spread (max − min)."""
    rows = compare_realisations(records)
    seeds = [r.get("seed") for r in records]
    lines = [f"**{records[0]['system']}**: headline numbers over {len(records)} independent realisations "
             f"(root seeds {', '.join(str(x) for x in seeds)}); ρ: Spearman with the propensity of the A particles, "
             "t_w pooled; **L**: learned (beyond the shuffled and both randomisation nulls).", "",
             "| quantity | task | inputs | Δt (τ) | " + " | ".join(f"seed {x}" for x in seeds) + " | mean | spread |",
             "|---|---|---|---|" + "---|" * len(seeds) + "---|---|"]
    for row in rows:
        learned = row.get("learned") or [None] * len(seeds)
        cells = [("–" if v is None else f"{v:+.2f}" if row["quantity"].startswith(("ρ", "CNN −")) else f"{v:.2f}")
                 + (" **L**" if flag else "") for v, flag in zip(row["values"], learned)]
        window = "" if row["window"] is None else f"{row['window']:g}"
        lines.append(f"| {row['quantity']} | {row['task'] or ''} | {row['inputs'] or ''} | {window} | "
                     + " | ".join(cells) + f" | {_fmt(row['mean'])} | {_fmt(row['spread'])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # python -m glasscam.report.study <summary/study.json>                   the study's tables
    # python -m glasscam.report.study --realisations <a/study.json> <b/study.json> ...
    if sys.argv[1:2] == ["--realisations"]:
        print(realisation_table([read_json(path) for path in sys.argv[2:]]))
    else:
        print(markdown_tables(read_json(sys.argv[1])))
