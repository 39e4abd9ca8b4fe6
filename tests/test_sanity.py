"""Sanity nulls (Adebayo et al., NeurIPS 2018): an attribution correlation is called learned only
beyond the shuffled null and beyond the same network re-initialised and trained on permuted
labels. Planted truth: a motif the network must learn passes both nulls; a map that only mirrors
the input density does not. Also the run-level (cluster-bootstrap) intervals and the settings
record that lets a summary refuse stale inputs."""

import math

import numpy as np
import pytest

from glasscam.analysis.correlations import _rows_for_field
from glasscam.analysis.sanity import beyond, control_band, sanity_table
from glasscam.analysis.statistics import run_bootstrap_mean, wilson_interval
from glasscam.core.keys import ALL_AGES
from glasscam.io.provenance import config_hash, settings_difference, settings_record

N_FRAMES, N = 12, 200


def correlation_rows(field_name, fields, targets, runs=None, seed=0):
    """Rows of the correlate stage's own function for per-frame fields against named targets."""
    target_list = [("indicator", name, name, 0.0, float("nan"), values) for name, values in targets.items()]
    masks = {"all": [np.ones(len(f), bool) for f in fields]}
    return _rows_for_field(field_name, fields, target_list, masks, [(ALL_AGES, np.arange(len(fields)))],
                           n_null=50, n_bootstrap=100, seed=seed, runs=runs)


def frames(generator):
    """Per frame: local density d_i (what any map of a density image follows), motif membership
    m_i (what only the labels reveal: independent of d)."""
    density = [generator.normal(0, 1, N) for _ in range(N_FRAMES)]
    motif = [(generator.uniform(size=N) < 0.15).astype(float) for _ in range(N_FRAMES)]
    return density, motif


def test_planted_motif_is_learned_and_density_mirror_is_not():
    g = np.random.default_rng(3)
    density, motif = frames(g)
    targets = {"local_density": density, "motif": motif}
    mirror = lambda s: [0.6 * d + np.random.default_rng(s + k).normal(0, 1, N) for k, d in enumerate(density)]  # noqa: E731
    # trained model: attends to the motif and, like every map of a density image, to the density
    model = [0.6 * d + 1.5 * m + g.normal(0, 1, N) for d, m in zip(density, motif, strict=True)]
    controls = {"random_weights": [correlation_rows("map", mirror(100 * s), targets) for s in range(3)],
                "shuffled_labels": [correlation_rows("map", mirror(1000 + 100 * s), targets) for s in range(3)]}
    table = {row["quantity"]: row for row in sanity_table(correlation_rows("map", model, targets), controls)}
    motif_row, density_row = table["motif"], table["local_density"]
    assert motif_row["learned"] and motif_row["beyond_random_weights"] and motif_row["beyond_shuffled_labels"]
    assert motif_row["spearman"] > 0.3 and abs(motif_row["random_weights_mean"]) < 0.05
    # the density association is far beyond the shuffled null, but every control has it too
    assert density_row["beyond_null"] and density_row["spearman"] > 0.2
    assert not density_row["learned"]
    assert density_row["random_weights_lo"] <= density_row["spearman"] <= density_row["random_weights_hi"]
    assert density_row["random_weights_seeds"] == 3


def test_beyond_is_directional_and_undefined_bands_never_pass():
    assert beyond(0.5, -0.1, 0.3) and beyond(-0.5, -0.3, 0.1)
    assert not beyond(0.2, -0.1, 0.3) and not beyond(0.0, 0.1, 0.2)
    assert not beyond(0.05, 0.2, 0.4)  # weaker than the control: not a learned association
    assert not beyond(0.5, float("nan"), float("nan"))
    # the model's own interval must clear the band, not only its point estimate
    assert beyond(0.5, -0.1, 0.3, 0.35, 0.6) and not beyond(0.5, -0.1, 0.3, 0.25, 0.6)
    assert not beyond(-0.5, -0.3, 0.1, -0.7, -0.28)
    band = control_band([{"spearman": 0.1, "spearman_lo": 0.05, "spearman_hi": 0.2},
                         {"spearman": 0.3, "spearman_lo": 0.25, "spearman_hi": 0.4}, None])
    assert band["seeds"] == 2 and band["mean"] == pytest.approx(0.2) and (band["lo"], band["hi"]) == (0.05, 0.4)
    assert band["sd"] == pytest.approx(np.std([0.1, 0.3], ddof=1))
    assert control_band([None, {"spearman": float("nan")}])["seeds"] == 0


def test_missing_control_row_makes_nothing_learned():
    g = np.random.default_rng(5)
    density, motif = frames(g)
    model = correlation_rows("map", [m + g.normal(0, 0.3, N) for m in motif], {"motif": motif})
    assert sanity_table(model, {"random_weights": [model[:0]]})[0]["learned"] is False


def test_run_bootstrap_is_wider_than_wilson_for_correlated_frames():
    """8 runs of 32 frames each: a run is right or wrong as a whole (the frames of one lineage
    share it). Wilson treats 256 samples as independent; the run bootstrap sees 8."""
    runs = np.repeat(np.arange(8), 32)
    correct = np.isin(runs, [0, 1, 2, 3, 4, 5]).astype(float)  # 6 of 8 runs right: 0.75
    record = run_bootstrap_mean(correct, runs, seed=1)
    lo, hi = wilson_interval(int(correct.sum()), len(correct))
    assert record["mean"] == pytest.approx(0.75) and record["n_runs"] == 8
    assert hi - lo < 0.12 and record["hi"] - record["lo"] > 0.45
    # independent samples (one per run): the two agree within resampling noise
    runs = np.arange(400)
    correct = (np.random.default_rng(0).uniform(size=400) < 0.7).astype(float)
    record = run_bootstrap_mean(correct, runs, seed=2)
    lo, hi = wilson_interval(int(correct.sum()), 400)
    assert record["lo"] == pytest.approx(lo, abs=0.015) and record["hi"] == pytest.approx(hi, abs=0.015)
    assert math.isnan(run_bootstrap_mean([1.0, 0.0], [3, 3], seed=0)["lo"])  # one run: no interval


def test_correlation_run_interval_counts_runs():
    g = np.random.default_rng(9)
    density, _ = frames(g)
    # each run has its own association strength: the run interval must cover that spread
    runs = np.repeat(np.arange(4), 3)
    strength = {0: 0.1, 1: 0.4, 2: 0.7, 3: 1.0}
    fields = [strength[r] * d + g.normal(0, 1, N) for r, d in zip(runs, density, strict=True)]
    row = correlation_rows("map", fields, {"local_density": density}, runs=runs)[0]
    assert row["n_runs"] == 4
    assert row["spearman_run_hi"] - row["spearman_run_lo"] > row["spearman_hi"] - row["spearman_lo"]


def test_settings_record_and_difference():
    a = {"model": {"channels": [8, 16]}, "training": {"epochs": 15, "learning_rate": 0.003}, "seed": 1}
    b = {"model": {"channels": [16, 32]}, "training": {"epochs": 15}, "seed": 1}
    record = settings_record(a)
    assert record["settings_hash"] == config_hash(a) != config_hash(b)
    assert settings_difference(a, b) == ["model.channels", "training.learning_rate"]
    assert settings_difference(a, a) == []


def line_configuration(rng, aged: bool, time: float):
    """Uniform random particles (L = 8 σ, 2D) with two lines of 8 B particles (spacing 0.55 σ):
    young samples have two vertical lines, aged ones one horizontal and one vertical. Every B
    particle has the same local B density either way; only the orientation of a line tells the
    class — a motif that no map of the local (species) density carries."""
    from test_tasks import T_G, TYPES, D, L, N

    from glasscam.core.state import State

    positions = np.zeros((N, 3))
    positions[:, :D] = rng.uniform(-L / 2, L / 2, (N, D))
    typeid = np.zeros(N, dtype=int)
    motif = np.zeros(N, dtype=bool)
    slots = rng.choice(N, 16, replace=False)
    for line, direction in enumerate(((1.0, 0.0) if aged else (0.0, 1.0), (0.0, 1.0))):
        centre = np.array([-L / 4 + line * L / 2, rng.uniform(-L / 2, L / 2)])
        members = slots[8 * line: 8 * line + 8]
        positions[members, :D] = centre + np.outer(np.arange(8) - 3.5, direction) * 0.55
        typeid[members] = 1
        motif[members] = aged and line == 0
    positions[:, :D] -= L * np.round(positions[:, :D] / L)
    velocities = rng.normal(0, np.sqrt(T_G), (N, 3)) * [1, 1, 0]
    state = State(positions, np.zeros((N, 3), dtype=int), velocities, typeid, TYPES, np.ones(N), L, D,
                  step=int(time * 200), time=time)
    return state, motif


def test_trained_motif_network_passes_both_nulls(tmp_path):
    """End to end: a CNN trained on the line-orientation age task (:func:`line_configuration`)
    ranks the particles of the horizontal line (per-particle target: motif membership, among
    the B particles) beyond the shuffled null and beyond the same CNN re-initialised and trained
    on permuted labels (two seeds each); in the same maps the B particles as a whole — what
    the input channels show any map — are not a learned association."""
    from test_tasks import TIMES, build_age

    from glasscam.io.gsd import read_logs, write_states
    from glasscam.stages.explain import explain
    from glasscam.stages.train import train_classifier, train_control

    rng = np.random.default_rng(7)
    paths = []
    for run in range(16):
        states = [line_configuration(rng, t >= 50, t)[0] for t in TIMES]
        logs = [{"particles/glasscam/potential_energy": np.zeros(len(s.typeid), dtype=np.float32),
                 "glasscam/kinetic_temperature": np.array([0.3])} for s in states]
        paths.append(str(tmp_path / f"a{run}.gsd"))
        write_states(paths[-1], states, {"system": "planted", "run": run, "replica": 0, "stage": "aging",
                                         "seed": run, "temperature": 0.3}, logs)
    build_age(tmp_path, paths)
    model_cfg = {"channels": [8, 16]}
    train_cfg = {"epochs": 15, "batch_size": 16, "learning_rate": 0.005, "patience": 5, "augment": False}
    models = {"model": tmp_path / "model.pt"}
    metrics = train_classifier(dataset_h5=tmp_path / "age.h5", model_out=models["model"], metrics_out=tmp_path / "metrics.json", model_cfg=model_cfg, train_cfg=train_cfg,
                               seed=2, device="cpu")
    print("model test accuracy", metrics["test_accuracy"])
    for control in ("random_weights", "shuffled_labels"):
        for k in range(2):
            models[(control, k)] = tmp_path / f"{control}{k}.pt"
            metrics = train_control(dataset_h5=tmp_path / "age.h5", model_out=models[(control, k)], metrics_out=tmp_path / f"{control}{k}.json",
                                    model_cfg=model_cfg, train_cfg=train_cfg, control=control, seed=2, control_seed=k, device="cpu")
            print(control, k, "test accuracy", metrics["test_accuracy"])
    samples = [line_configuration(np.random.default_rng(100 + k), True, 60.0) for k in range(12)]
    aged = [state for state, _ in samples]
    for k, state in enumerate(aged):
        state.step = k
    write_states(tmp_path / "aged.gsd", aged, {"stage": "test"}, [{"glasscam/sample": np.array([k])} for k in range(12)])
    b = [s.typeid == 1 for s in aged]
    targets = {"motif": [m[sel].astype(float) for (_, m), sel in zip(samples, b, strict=True)]}
    species_b = {"motif": targets["motif"]}
    rows = {}
    for name, path in models.items():
        out = tmp_path / f"cam_{'_'.join(map(str, name)) if isinstance(name, tuple) else name}"
        explain(model_path=path, glass_gsd=tmp_path / "aged.gsd", out_h5=out.with_suffix(".h5"), out_gsd=out.with_suffix(".gsd"), gradcam_cfg={}, device="cpu")
        field = [np.asarray(log["particles/glasscam/gradcam_signed_aged"], float) for log in read_logs(out.with_suffix(".gsd"))]
        rows[name] = (correlation_rows("gradcam_signed_aged", [f[sel] for f, sel in zip(field, b, strict=True)], species_b)
                      + correlation_rows("gradcam_signed_aged", field, {"B": [sel.astype(float) for sel in b]}))
    table = {r["quantity"]: r for r in sanity_table(rows["model"], {c: [rows[(c, k)] for k in range(2)]
                                                                    for c in ("random_weights", "shuffled_labels")})}
    for row in table.values():
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
    motif, species = table["motif"], table["B"]
    assert motif["spearman"] > 0.6  # measured 0.87: the horizontal line ranked first in every frame
    assert motif["learned"] and motif["beyond_random_weights"] and motif["beyond_shuffled_labels"]
    # the controls' maps follow the B channel (|ρ| up to 0.7, either sign); the model's does not
    assert not species["learned"]


def test_findings_call_learned_only_beyond_the_sanity_nulls():
    from glasscam.report.findings import correlation_finding

    row = {"field": "gradcam_aged", "kind": "mobility", "quantity": "propensity", "window": 10.0,
           "coarse_graining": 0.0, "species": "A", "t_w": "all", "n_samples": 24.0, "spearman": -0.45,
           "spearman_lo": -0.5, "spearman_hi": -0.4, "null_spearman_lo": -0.02, "null_spearman_hi": 0.02}
    imposed = {"learned": "False", "beyond_null": "True", "random_weights_mean": -0.44, "random_weights_lo": -0.6,
               "random_weights_hi": -0.3, "random_weights_seeds": 2.0, "beyond_random_weights": "False",
               "shuffled_labels_mean": -0.5, "shuffled_labels_lo": -0.55, "shuffled_labels_hi": -0.42,
               "shuffled_labels_seeds": 2.0, "beyond_shuffled_labels": "True"}
    found = correlation_finding("ka3d", "age", row, sanity=imposed)
    assert found["learned"] is False
    assert "NOT learned: the random weights control shows as strong an association" in found["sentences"][0]
    learned = {**imposed, "learned": "True", "beyond_random_weights": "True"}
    found = correlation_finding("ka3d", "age", row, sanity=learned)
    assert found["learned"] is True and "it is learned" in found["sentences"][0]
    found = correlation_finding("ka3d", "age", row)
    assert found["learned"] is None and "cannot be told" in found["sentences"][0]


def test_study_summary_refuses_inputs_made_under_other_settings(tmp_path):
    import json

    from glasscam.io.tables import write_table
    from glasscam.report.study import StaleInput, check_settings

    current = {"model": {"channels": [8, 16, 32]}, "training": {"epochs": 15}, "seed": 1}
    old = {"model": {"channels": [16, 32, 64]}, "training": {"epochs": 15}, "seed": 1}
    (tmp_path / "baselines.json").write_text(json.dumps(settings_record(old)))
    write_table(tmp_path / "correlations.csv", [{"field": "x", "settings_hash": config_hash(current)}],
                ["field", "settings_hash"])
    baselines = {"age": {"thermal": tmp_path / "baselines.json"}}
    correlations = {"age": tmp_path / "correlations.csv"}
    with pytest.raises(StaleInput, match=r"baselines.json: made under other settings.*differing keys: model.channels"):
        check_settings(baselines, correlations, current)
    (tmp_path / "baselines.json").write_text(json.dumps(settings_record(current)))
    check_settings(baselines, correlations, current)
    write_table(tmp_path / "correlations.csv", [{"field": "x", "settings_hash": config_hash(old)}],
                ["field", "settings_hash"])
    with pytest.raises(StaleInput, match=r"correlations.csv: settings_hash"):
        check_settings(baselines, correlations, current)
