"""Findings: Wilson intervals against hand values, chance from the class balance, strongest
correlations and their null verdict, data-driven labels, and a page that docutils renders
without a system message and that states every number it was given."""

import csv
import json

import pytest

from glasscam.analysis.statistics import wilson_interval
from glasscam.report.findings import (
    classification_finding,
    findings,
    findings_rst,
    fmt,
    labels_of,
    rst_to_html,
    strongest_correlations,
    write_findings,
)


def test_wilson_interval_hand_values_and_range():
    # p = 0.8, n = 10, z = 1.96: centre (0.8 + 0.19208)/1.38415 = 0.71675, half 0.22657
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.49016, abs=2e-4) and hi == pytest.approx(0.94335, abs=2e-4)
    for k, n in ((0, 7), (7, 7), (1, 1)):
        lo, hi = wilson_interval(k, n)
        assert 0.0 <= lo < hi <= 1.0
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)


def metrics(matrix, accuracy=None, baseline=0.5):
    correct = sum(matrix[i][i] for i in range(len(matrix)))
    total = sum(map(sum, matrix))
    return {
        "confusion_matrix": matrix,
        "class_names": ["liquid", "glass"],
        "test_accuracy": correct / total if accuracy is None else accuracy,
        "energy_baseline": {"test_accuracy": baseline},
        "baselines": {"logistic q6 stats": {"test_accuracy": 0.75, "wilson_lo": 0.6, "wilson_hi": 0.86}},
    }


def test_chance_is_the_majority_rate_of_the_test_split():
    # 12 liquid, 10 glass in the test split; 21 correct
    item = classification_finding("ka3d", "thermal", metrics([[12, 0], [1, 9]]))
    assert item["n_test"] == 22 and item["n_correct"] == 21
    assert item["majority_class"] == "liquid"
    assert item["majority_rate"] == pytest.approx(12 / 22)
    assert "0.545" in item["sentences"][0] and "21 of the 22" in item["sentences"][0]
    assert "above that rate" in item["sentences"][0]
    names = [b["name"] for b in item["baselines"]]
    assert names == ["threshold on U/N", "logistic q6 stats"]
    assert item["baselines"][1]["interval"] == [0.6, 0.86]  # given interval kept
    # a classifier at the majority rate is not called better than chance
    weak = classification_finding("abm2d", "inherent", metrics([[6, 0], [5, 0]]))
    assert "not distinguishable" in weak["sentences"][0]


def corr_row(quantity, kind, rho, lo, hi, null=(-0.02, 0.02), species="all", window="", cg=0.0, t_w="all"):
    return {"quantity": quantity, "kind": kind, "coarse_graining": cg, "window": window, "species": species, "t_w": t_w,
            "n_samples": 12.0, "n_particles": 3000.0, "pearson": rho, "spearman": rho, "spearman_lo": lo, "spearman_hi": hi,
            "null_spearman_mean": 0.0, "null_spearman_lo": null[0], "null_spearman_hi": null[1]}


def test_strongest_correlation_per_quantity_and_null_verdict():
    rows = [
        corr_row("propensity", "mobility", 0.12, 0.05, 0.2, window=1.0),
        corr_row("propensity", "mobility", -0.31, -0.4, -0.22, window=10.0),
        corr_row("propensity", "mobility", 0.9, 0.8, 0.95, window=10.0, t_w=3.0),  # not pooled: ignored
        corr_row("q6", "indicator", 0.01, -0.03, 0.05, species="A", cg=2.0),
        corr_row("q6", "indicator", 0.05, -0.01, 0.1, species="B", cg=1.0),
    ]
    best = strongest_correlations(rows)
    assert [(r["quantity"], r["spearman"]) for r in best] == [("propensity", -0.31), ("q6", 0.05)]
    found = findings({"ka3d": {"correlations": {"": rows}}})["systems"]["ka3d"]
    dyn, struct = found["correlation_dynamics"][0], found["correlation_structure"][0]
    assert dyn["beyond_null"] and "moderate association beyond that null" in dyn["sentences"][0]
    assert "lower propensity" in dyn["sentences"][0]
    assert not struct["beyond_null"] and "no association can be claimed" in struct["sentences"][0]


def test_labels_follow_the_path_not_a_fixed_layout(tmp_path):
    assert labels_of(tmp_path / "ka3d/model/thermal/metrics.json", tmp_path) == ("ka3d", "thermal")
    assert labels_of(tmp_path / "ka3d/model/age/inherent/metrics.json", tmp_path) == ("ka3d", "age/inherent")
    assert labels_of(tmp_path / "abm2d/analysis/correlations.csv", tmp_path) == ("abm2d", "")


def test_rst_to_html_refuses_system_messages():
    with pytest.raises(Exception, match="ndefined substitution"):
        rst_to_html("mobility |Δr| over the window\n")


def test_written_page_states_every_number(tmp_path):
    """Planted results → findings.json, and an HTML page that names every headline number."""
    root = tmp_path / "results"
    files = {"metrics": [], "correlations": [], "correlation_length": [], "liquid_relaxation": []}
    for system, matrix in (("ka3d", [[12, 0], [1, 9]]), ("abm2d", [[6, 0], [3, 2]])):
        for inputs in ("thermal", "inherent"):
            path = root / system / "model" / inputs / "metrics.json"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(metrics(matrix, baseline=0.6818)))
            files["metrics"].append(path)
        path = root / system / "analysis" / "correlations.csv"
        path.parent.mkdir(parents=True)
        with open(path, "w", newline="") as fh:
            rows = [corr_row("propensity", "mobility", 0.4321, 0.3, 0.5, window=10.0), corr_row("q6_avg", "indicator", -0.2468, -0.3, -0.2, cg=1.0)]
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        files["correlations"].append(path)
        path = root / system / "analysis" / "gradcam_correlation_length.json"
        path.write_text(json.dumps({"field": "gradcam_glass", "xi": 1.234, "xi_bootstrap_lo": 0.9, "xi_bootstrap_hi": 1.5, "n_frames": 8,
                                    "fit_r_min": 0.0, "fit_r_max": 3.0,
                                    "groups": [{"glasscam/time": 0.0, "xi": 0.5678, "xi_bootstrap_lo": 0.4, "xi_bootstrap_hi": 0.7, "n_frames": 4},
                                               {"glasscam/time": 3.245, "xi": 2.345, "xi_bootstrap_lo": 2.0, "xi_bootstrap_hi": 2.7, "n_frames": 4},
                                               {"glasscam/time": 7.5, "xi": 0.4321, "xi_bootstrap_lo": 0.3, "xi_bootstrap_hi": 0.5, "n_frames": 4,
                                                "reliable": False, "flag": "ξ = 0.43 σ is below the particle size (1 σ)"}]}))
        files["correlation_length"].append(path)
        path = root / system / "analysis" / "liquid_relaxation.json"
        path.write_text(json.dumps({"temperatures": [
            {"temperature": 1.0, "q": 7.2, "species": {"A": {"tau_alpha": 0.8771, "D": 0.04}, "all": {"tau_alpha": 0.7, "D": 0.05}}},
            {"temperature": 0.8, "q": 7.2, "species": {"A": {"tau_alpha": 2.61, "D": float("nan")}, "all": {"tau_alpha": 2.13, "D": 0.01}}},
        ]}))
        files["liquid_relaxation"].append(path)
    out = tmp_path / "findings"
    found = write_findings(files=files, root=root, out_json=out / "f.json", out_rst=out / "f.rst", out_html=out / "f.html")
    html = (out / "f.html").read_text()
    assert "System Message" not in html and 'class="system-message"' not in html
    saved = json.loads((out / "f.json").read_text())
    assert set(saved["systems"]) == {"ka3d", "abm2d"}
    for system, sections in found["systems"].items():
        for item in sections["classification"]:
            assert fmt(item["test_accuracy"]) in html and fmt(item["majority_rate"]) in html
            for b in item["baselines"]:
                assert fmt(b["test_accuracy"]) in html
            lo, hi = item["interval"]
            assert f"[{fmt(lo)}, {fmt(hi)}]" in html  # Wilson interval of the CNN
        # a flagged fit is named with its reason, never quoted as a length
        assert "0.432 σ" not in html and "below the particle size" in html
        for interval in ("[0.3, 0.5]", "[-0.02, 0.02]", "[0.9, 1.5]", "[0.4, 0.7]"):  # ρ, null, ξ, ξ(t_w = 0)
            assert interval in html, interval
        for number in ("0.432", "-0.247", "1.23", "0.568", "2.35", "0.877", "2.61"):
            assert number in html, number
        assert "A particles" in html
    assert "2.13" not in html  # τα of all particles is not the KA convention's number
    assert "liquid_vs_glass" not in findings_rst(found)


def test_baselines_paired_verdicts_and_thermal_cues():
    record = {
        "chance_majority": 0.55,
        "cnn": {"accuracy": 0.91, "lo": 0.72, "hi": 0.97, "n": 22, "correct": 20},
        "baselines": {
            "descriptor_logistic": {"accuracy": 0.59, "lo": 0.39, "hi": 0.77, "n": 22, "correct": 13},
            "energy_threshold": {"accuracy": 0.86, "lo": 0.67, "hi": 0.95, "n": 22, "correct": 19},
        },
        "cnn_minus_baseline": {
            "descriptor_logistic": {"difference": 0.32, "lo": 0.1, "hi": 0.54},
            "energy_threshold": {"difference": 0.05, "lo": -0.1, "hi": 0.19},
        },
        "thermal_cues": {"kinetic_temperature": {"logistic": {"accuracy": 1.0, "lo": 0.85, "hi": 1.0}}},
    }
    found = findings({"ka3d": {"baselines": {"age/thermal": record}}})["systems"]["ka3d"]["baselines"][0]
    logistic, energy, cue = found["sentences"]
    assert "descriptor logistic" in logistic and "0.32 [0.1, 0.54]" in logistic and "the CNN is better" in logistic
    assert "cannot tell them apart" in energy
    assert "kinetic temperature alone" in cue and "classes differ in this thermal cue" in cue
    rst_to_html(findings_rst({"systems": {"ka3d": {"baselines": [found]}}}))  # renders cleanly


def test_thermal_cue_verdict_tells_a_small_split_from_no_difference():
    """The demo's kinetic temperature scored 6 of 6 ([0.61, 1]) against a majority rate 0.667 and the
    findings said 'not resolved above the majority rate' after a perfect score; a high score whose
    interval reaches chance is a split too small to tell, a score at chance is no difference."""
    from glasscam.report.findings import thermal_cue_verdict

    lo, hi = wilson_interval(6, 6)
    small = thermal_cue_verdict({"accuracy": 1.0, "lo": lo, "hi": hi, "n": 6}, 4 / 6)
    assert "with 6 test samples its interval reaches down to it" in small and "too small to tell" in small, small
    assert "not resolved" not in small
    none = thermal_cue_verdict({"accuracy": 0.5, "lo": 0.19, "hi": 0.81, "n": 6}, 4 / 6)
    assert none.startswith("no better than the majority rate 0.667"), none
    assert "classes differ in this thermal cue" in thermal_cue_verdict({"accuracy": 1.0, "lo": 0.85, "hi": 1.0, "n": 22}, 0.55)
    assert thermal_cue_verdict({"accuracy": 1.0, "lo": 0.85, "hi": 1.0}, None).startswith("no majority rate")


def test_missing_diffusion_coefficient_says_why_without_a_unit():
    from glasscam.report.findings import relaxation_findings

    reason = "MSD ≥ 1 σ² at only 0 times (need 3): diffusive regime not reached"
    record = {"temperatures": [
        {"temperature": 1.0, "q": 7.2, "species": {"A": {"tau_alpha": 2.61, "D": float("nan"), "reason": reason}}},
        {"temperature": 2.0, "q": 7.2, "species": {"A": {"tau_alpha": 0.5, "D": 0.125}}},
    ]}
    text = " ".join(relaxation_findings("ka3d", record)["sentences"])
    assert f"T = 1: τα = 2.61 τ, no D ({reason})" in text and "T = 2: τα = 0.5 τ, D = 0.125 σ²/τ" in text
    assert "n/a σ²/τ" not in text


# ------------------------------------------------------------------ verdict, max-null, chance (issue 21)
AT_CHANCE = [[0, 2], [0, 2]]  # the demo's age CNN: one class for every sample, 2 of 4 right
ABOVE_CHANCE = [[20, 0], [1, 19]]


def task_results(matrix, rows=None, curve=None):
    """Planted results of one system with one task 'age': its thermal metrics, correlations and
    a correlation length, and optionally a learning curve."""
    kinds = {
        "metrics": {"age/thermal": {**metrics(matrix), "class_counts": {"train": {"liquid": 4, "glass": 4}, "test": {
            "liquid": sum(matrix[0]), "glass": sum(matrix[1])}}}},
        "correlations": {"age": rows or [corr_row("propensity", "mobility", 0.4, 0.3, 0.5, window=10.0)]},
        "correlation_length": {"age": {"field": "gradcam_glass", "xi": 1.2, "xi_bootstrap_lo": 0.9, "xi_bootstrap_hi": 1.5,
                                       "n_frames": 8, "fit_r_min": 0.0, "fit_r_max": 4.0, "groups": []}},
    }
    if curve:
        kinds["learning_curve"] = {"age/thermal": curve}
    return {"ka3d": kinds}


def test_model_at_chance_is_said_in_every_sentence_drawn_from_its_maps():
    from glasscam.analysis.statistics import AT_CHANCE_WARNING, chance_status

    assert chance_status(AT_CHANCE)["at_chance"] and not chance_status(ABOVE_CHANCE)["at_chance"]
    assert chance_status([[3, 0], [0, 1]])["at_chance"]  # 4/4 right, Wilson lower 0.51 < majority 0.75
    for matrix, warned in ((AT_CHANCE, True), (ABOVE_CHANCE, False)):
        found = findings(task_results(matrix), runs=4)["systems"]["ka3d"]
        drawn = found["correlation_dynamics"] + found["correlation_length"]
        for item in drawn:
            assert (AT_CHANCE_WARNING in item["sentences"][0].lower()) == warned, item["sentences"][0]
        assert (AT_CHANCE_WARNING in found["classification"][0]["sentences"][0]) == warned
        verdict = " ".join(found["verdict"][0]["sentences"])
        assert "4 independent runs" in verdict and "8 train" in verdict
        assert ("Cannot be asked of a model at chance" in verdict) == warned
        assert ("Yes" in verdict) != warned


def test_caption_directive_and_figure_banner_warn_only_at_chance(tmp_path):
    import matplotlib.pyplot as plt

    from glasscam.analysis.statistics import AT_CHANCE_WARNING
    from glasscam.plots.chance import chance_banner
    from glasscam.report.findings import register_report_directives

    register_report_directives()
    for matrix, warned in ((AT_CHANCE, True), (ABOVE_CHANCE, False)):
        path = tmp_path / f"metrics_{warned}.json"
        path.write_text(json.dumps(metrics(matrix)))
        html = rst_to_html(f".. glasscam-model-status:: {path}\n\nA caption.\n")
        assert (AT_CHANCE_WARNING in html.lower()) == warned
        fig, _ = plt.subplots()
        chance_banner(fig, path)
        texts = " ".join(t.get_text() for t in fig.texts)
        assert (AT_CHANCE_WARNING in texts) == warned
        plt.close(fig)


def test_largest_of_many_correlations_is_tested_against_the_null_of_the_maximum():
    from glasscam.report.findings import corrected_null

    assert corrected_null(-0.02, 0.02, 1) == pytest.approx((-0.02, 0.02))
    lo9, hi9 = corrected_null(-0.02, 0.02, 9)  # z(1 − 0.025/9) = 2.77 → ±0.0283
    assert hi9 == pytest.approx(0.02 * 2.7729 / 1.95996, rel=1e-3) and lo9 == pytest.approx(-hi9)
    # a ρ of 0.03 [0.021, 0.04]: beyond the one-cell null, not beyond the null of the largest of 9
    rows = [corr_row("propensity", "mobility", 0.03, 0.021, 0.04, window=1.0)]
    rows += [corr_row("propensity", "mobility", 0.001 * k, -0.01, 0.01, window=float(k)) for k in range(2, 10)]
    item = findings(task_results(ABOVE_CHANCE, rows))["systems"]["ka3d"]["correlation_dynamics"][0]
    assert item["n_candidates"] == 9 and not item["beyond_null"]
    assert "largest |ρ| of 9 candidates" in item["sentences"][0] and "no association can be claimed" in item["sentences"][0]
    alone = findings(task_results(ABOVE_CHANCE, rows[:1]))["systems"]["ka3d"]["correlation_dynamics"][0]
    assert alone["beyond_null"]


def test_no_bullet_without_a_number_and_learning_curve_reads_its_intervals():
    rows = [corr_row("mobility", "mobility", float("nan"), float("nan"), float("nan"), window=1.0),
            {**corr_row("q6", "indicator", 0.2, float("nan"), float("nan")), "n_samples": 1.0}]
    curve = {"test_samples": 4, "summary": [
        {"train_samples_mean": 4.0, "test_accuracy_mean": 0.75, "repeats": 2},
        {"train_samples_mean": 8.0, "test_accuracy_mean": 0.5, "repeats": 2}]}
    found = findings(task_results(ABOVE_CHANCE, rows, curve))
    text = findings_rst(found)
    assert "n/a" not in text
    assert "correlation_dynamics" not in found["systems"]["ka3d"] and "correlation_structure" not in found["systems"]["ka3d"]
    sentence = found["systems"]["ka3d"]["learning_curve"][0]["sentences"][0]
    assert "no measurable change at this size" in sentence and "[0.301, 0.954]" in sentence and "[0.15, 0.85]" in sentence
    big = {"test_samples": 400, "summary": [{**curve["summary"][0], "test_accuracy_mean": 0.6},
                                             {**curve["summary"][1], "test_accuracy_mean": 0.9}]}
    assert "more data helps beyond both intervals" in findings(task_results(ABOVE_CHANCE, None, big))["systems"]["ka3d"]["learning_curve"][0]["sentences"][0]
def test_learning_curve_of_one_training_size_asks_nothing():
    """The tiny DAG's abm2d age split has one training run: fractions 0.5 and 1 both train on its 2
    samples, and the findings said 'No measurable change at this size: … with 2 training samples,
    … with 2'. One size is said to ask nothing, in the curve's bullet and in the verdict."""
    curve = {"test_samples": 2, "summary": [{"train_samples_mean": 2.0, "test_accuracy_mean": 0.5, "repeats": 1},
                                            {"train_samples_mean": 2.0, "test_accuracy_mean": 0.5, "repeats": 1}]}
    system = findings(task_results(ABOVE_CHANCE, None, curve))["systems"]["ka3d"]
    bullet = system["learning_curve"][0]["sentences"][0]
    assert "same 2 training samples" in bullet and "asks nothing" in bullet and "change" not in bullet, bullet
    verdict = " ".join(system["verdict"][0]["sentences"])
    assert "does more training data help? Not asked" in verdict and "No measurable change" not in verdict, verdict


@pytest.mark.parametrize("train_accuracy, fits", [(0.99, True), (0.62, False)])
def test_fit_of_the_cnn_is_stated_where_a_baseline_beats_chance(train_accuracy, fits):
    """Structure-only task (inherent inputs), the descriptor baseline above chance: the findings say
    whether the searched CNN fits its training split; on thermal inputs of liquid vs glass they
    do not (not a structure-only task), nor where no baseline beats chance."""
    record = {
        "task": {"kind": "liquid_vs_glass"}, "chance_majority": 0.5, "best_baseline": "descriptor_logistic",
        "cnn": {"accuracy": 0.48, "lo": 0.4, "hi": 0.57, "n": 128, "correct": 62},
        "baselines": {"descriptor_logistic": {"accuracy": 0.84, "lo": 0.77, "hi": 0.89, "n": 128, "correct": 108}},
        "cnn_minus_baseline": {"descriptor_logistic": {"difference": -0.36, "lo": -0.46, "hi": -0.26}},
        "cnn_fit": {"train_accuracy": train_accuracy, "validation_accuracy": 0.55, "fits_training_split": fits,
                    "fit_threshold": 0.95, "search_trials": 16, "selected_trial": 7},
    }
    found = findings({"abm2d": {"baselines": {"liquid_vs_glass/inherent": record,
                                              "liquid_vs_glass/thermal": record}}})["systems"]["abm2d"]["baselines"]
    inherent, thermal = (next(f for f in found if f["variant"].endswith(v)) for v in ("inherent", "thermal"))
    sentence = inherent["sentences"][-1]
    assert "search of 16 trials" in sentence and fmt(train_accuracy) in sentence
    assert ("fits its training split" in sentence) == fits and ("does NOT fit" in sentence) == (not fits)
    assert not any("training split" in s for s in thermal["sentences"])
    below = {**record, "baselines": {"descriptor_logistic": {**record["baselines"]["descriptor_logistic"], "lo": 0.45}}}
    found = findings({"abm2d": {"baselines": {"age/inherent": below}}})["systems"]["abm2d"]["baselines"][0]
    assert not any("training split" in s for s in found["sentences"])
    rst_to_html(findings_rst({"systems": {"abm2d": {"baselines": [inherent]}}}))


def test_verdict_asks_grad_cam_of_grad_cam_and_counts_every_method_in_the_other_maximum():
    """The fresh user's case: the Grad-CAM question was answered with occlusion's ρ, labelled
    'Grad-CAM (occlusion_glass)', against a null of one method's candidates."""
    def rows(field, rho, candidates=3):
        return [{**corr_row("cage_relative", "mobility", rho if k == 0 else rho / 4, rho - 0.05 if k == 0 else -0.01,
                            rho + 0.05 if k == 0 else 0.01, window=float(k + 1)), "field": field}
                for k in range(candidates)]
    table = rows("gradcam_glass", -0.115) + rows("gradcam_signed_glass", 0.05) + rows("occlusion_glass", 0.30) \
        + rows("ig_glass", 0.10) + rows("gradcam_b1_glass", 0.2)
    found = findings({"ka3d": {"metrics": {"liquid_vs_glass/thermal": metrics([[20, 0], [0, 20]])},
                               "correlations": {"liquid_vs_glass": table}}})["systems"]["ka3d"]
    text = found["verdict"][0]["sentences"]
    gradcam = next(t for t in text if "Grad-CAM field (last conv block)" in t)
    other = next(t for t in text if "any other attribution" in t)
    assert "Grad-CAM (class glass) with cage-relative displacement, -0.115" in gradcam
    assert "largest of 6" in gradcam  # ReLU and signed map, 3 candidates each
    assert "occlusion (class glass)" in other and "0.3" in other and "largest of 9" in other  # 3 methods × 3
    details = " ".join(s for item in found["correlation_dynamics"] for s in item["sentences"])
    assert "cage_relative" not in details and "occlusion_glass" not in details
    assert "occlusion (class glass) vs cage-relative displacement" in details


def test_verdict_on_thermal_inputs_names_the_thermal_cue_and_the_inherent_model():
    cue = {"chance_majority": 0.5, "cnn": {"accuracy": 1.0, "lo": 0.9, "hi": 1.0},
           "thermal_cues": {"kinetic_temperature": {"logistic": {"accuracy": 1.0, "lo": 0.74, "hi": 1.0}}}}
    found = findings({"ka3d": {
        "metrics": {"liquid_vs_glass/thermal": metrics([[20, 0], [0, 20]]),
                    "liquid_vs_glass/inherent": metrics([[6, 0], [5, 0]])},
        "baselines": {"liquid_vs_glass/thermal": cue}}})["systems"]["ka3d"]
    text = " ".join(found["verdict"][0]["sentences"])
    assert "Yes: accuracy 1" in text
    assert "kinetic temperature alone 1 [0.74, 1]" in text and "does not show structure" in text
    assert "on inherent structures (structure only): accuracy 0.545" in text and "model at chance" in text
