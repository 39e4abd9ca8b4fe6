"""Supervised ceiling on a planted per-particle target: propensity = f(local density)."""

import json

import numpy as np
import pytest

from glasscam.core.keys import RUN_KEY, SAMPLE_KEY, TIME_KEY, per_particle_key
from glasscam.core.state import State
from glasscam.io.gsd import write_states
from glasscam.stages.ceiling import supervised_ceiling

L, N, D = 8.0, 160, 2


def local_density(positions, radius=1.0):
    delta = positions[:, None, :] - positions[None, :, :]
    delta -= L * np.round(delta / L)
    r2 = (delta**2).sum(-1)
    return (np.exp(-r2 / (2 * radius**2)).sum(1) - 1.0)  # Gaussian-weighted neighbour count


def planted_files(tmp_path, runs=6, frames=4, seed=0):
    rng = np.random.default_rng(seed)
    states, indicator_logs, mobility_logs = [], [], []
    sample = 0
    for run in range(runs):
        for f in range(frames):
            # clustered configurations so that the local density varies
            centres = rng.uniform(-L / 2, L / 2, (6, D))
            points = centres[rng.integers(0, 6, N)] + rng.normal(0, 1.2, (N, D))
            points = (points + L / 2) % L - L / 2
            pos = np.zeros((N, 3))
            pos[:, :D] = points
            typeid = (np.arange(N) >= 120).astype(int)
            state = State(pos, np.zeros((N, 3), int), np.zeros((N, 3)), typeid, ["A", "B"], np.ones(N), L, D,
                          time=float(10 * (f % 2)))
            density = local_density(points)
            noise = rng.normal(size=N)
            common = {SAMPLE_KEY: np.array([sample]), RUN_KEY: np.array([run]), TIME_KEY: np.array([state.time])}
            indicator_logs.append({**common, per_particle_key("local_density"): density.astype(np.float32),
                                   per_particle_key("unrelated"): noise.astype(np.float32)})
            propensity = -2.0 * density + rng.normal(0, 0.2 * density.std(), N)
            mobility_logs.append({**common, per_particle_key("propensity_dt10"): propensity.astype(np.float32),
                                  per_particle_key("mobility_dt10"): propensity.astype(np.float32)})
            states.append(state)
            sample += 1
    write_states(tmp_path / "indicators.gsd", states, {}, indicator_logs)
    write_states(tmp_path / "mobility.gsd", states, {"mobility": {"windows": [10.0]}}, mobility_logs)
    return tmp_path / "indicators.gsd", tmp_path / "mobility.gsd"


def test_ceiling_recovers_a_planted_density_propensity(tmp_path):
    indicators, mobility = planted_files(tmp_path)
    record = supervised_ceiling(indicators, mobility, tmp_path / "ceiling.json", tmp_path / "ceiling.csv",
                                {"channels": [8, 16]}, {"spacing": 0.25, "width": 0.3, "grid_multiple": 2},
                                {"train": 0.5, "validation": 0.17, "test": 0.33},
                                {"epochs": 15, "learning_rate": 0.01, "patience": 6, "batch_size": 4}, seed=1,
                                n_bootstrap=20)
    rows = {(r["predictor"], r["t_w"]): r for r in record["rows"]}
    assert set(record["runs"]["test"]).isdisjoint(record["runs"]["train"])
    assert record["best_descriptor"]["10"] == {"descriptor": "local_density", "sign": -1.0}
    # the planted descriptor is recovered (noise: ρ_true ≈ 0.98), by ridge and as a single descriptor
    assert rows[("best_descriptor", "all")]["spearman"] > 0.9
    assert rows[("descriptor_ridge", "all")]["spearman"] > 0.9
    # the CNN learns f(local density) from the density image on runs it never saw
    print({k: round(v["spearman"], 3) for k, v in rows.items()})
    assert rows[("supervised_cnn", "all")]["spearman"] > 0.6
    assert {r["t_w"] for r in record["rows"]} == {"all", 0.0, 10.0}
    saved = json.loads((tmp_path / "ceiling.json").read_text())
    assert saved["cnn_history"]["10"]["best_epoch"] >= 1
    assert saved["model"] == {"channels": [16, 32]}  # ceiling.model's default over the classifier's [8, 16]


def test_ceiling_model_overrides_the_classifier_architecture(tmp_path):
    """ceiling.model replaces keys of the classifier's model: one block keeps the full grid
    (no pooling), recorded with the output resolution; a non-mapping is refused by name."""
    indicators, mobility = planted_files(tmp_path)
    record = supervised_ceiling(indicators, mobility, tmp_path / "ceiling.json", tmp_path / "ceiling.csv",
                                {"channels": [8, 16, 32], "kernel_size": 3},
                                {"spacing": 0.25, "width": 0.3, "grid_multiple": 2},
                                {"train": 0.5, "validation": 0.17, "test": 0.33},
                                {"epochs": 2, "patience": 2, "model": {"channels": [8]}}, seed=1, n_bootstrap=5)
    assert record["model"] == {"channels": [8], "kernel_size": 3}
    n = int(round(record_box(indicators) / 0.25))
    assert record["output_cells"] in (n, n + 1)  # one block: no pooling, the image's own grid
    with pytest.raises(ValueError, match="ceiling.model"):
        supervised_ceiling(indicators, mobility, tmp_path / "c2.json", tmp_path / "c2.csv", {"channels": [8]},
                           {"spacing": 0.25, "width": 0.3, "grid_multiple": 2},
                           {"train": 0.5, "validation": 0.17, "test": 0.33}, {"model": [8]}, seed=1)


def record_box(path) -> float:
    from glasscam.io.gsd import read_states

    return float(np.ravel(read_states(path)[0].box_length)[0])


def test_ceiling_with_an_uninformative_image_stays_at_chance(tmp_path):
    """A target unrelated to the structure: neither the CNN nor ridge predicts it on test runs."""
    indicators, mobility = planted_files(tmp_path, seed=3)
    import gsd.hoomd

    from glasscam.io.gsd import read_logs, read_states

    states, logs = read_states(mobility), read_logs(mobility)
    rng = np.random.default_rng(9)
    for log in logs:
        log[per_particle_key("propensity_dt10")] = rng.normal(size=N).astype(np.float32)
    write_states(tmp_path / "mobility_random.gsd", states, {"mobility": {"windows": [10.0]}}, logs)
    assert gsd.hoomd  # the GSD reader is the one the stage uses
    record = supervised_ceiling(indicators, tmp_path / "mobility_random.gsd", tmp_path / "c.json", tmp_path / "c.csv",
                                {"channels": [8, 16]}, {"spacing": 0.25, "width": 0.3, "grid_multiple": 2},
                                {"train": 0.5, "validation": 0.17, "test": 0.33},
                                {"epochs": 4, "learning_rate": 0.01, "patience": 2}, seed=1, n_bootstrap=20)
    for row in record["rows"]:
        if row["t_w"] == "all":
            assert abs(row["spearman"]) < 0.15, row


def test_study_table_reads_descriptor_ridge_cnn_and_each_attribution_per_tw_and_dt():
    from glasscam.report.study import ceiling_table, markdown_tables

    ceiling = {"rows": [
        {"window": 10.0, "t_w": t_w, "predictor": p, "field": f, "spearman": v, "spearman_lo": v - 0.1,
         "spearman_hi": v + 0.1, "pearson": v, "n_test_frames": 2, "n_particles": 800}
        for t_w in ("all", 10.0000000001)
        for p, f, v in (("best_descriptor", "local_density_cg2", 0.31), ("descriptor_ridge", "ridge", 0.42),
                        ("supervised_cnn", "cnn", 0.53))]}
    correlations = [{"task": "age", "field": name, "dynamics": "propensity", "t_w": t_w, "window": 10.0,
                     "spearman": v, "spearman_lo": v - 0.05, "spearman_hi": v + 0.05, "null_spearman_lo": -0.02,
                     "null_spearman_hi": 0.02, "n_samples": 6}
                    for t_w in ("all", 10.0) for name, v in (("gradcam_aged", -0.12), ("ig_aged", 0.21))]
    table = ceiling_table(ceiling, correlations)
    assert [(c["window"], c["t_w"]) for c in table] == [(10.0, "all"), (10.0, 10.0)]
    assert table[1]["supervised_cnn"]["spearman"] == 0.53 and table[1]["attributions"]["age:ig_aged"]["spearman"] == 0.21
    assert "learned" not in table[0]["attributions"]["age:ig_aged"]  # no sanity-null table given
    with_nulls = [{**row, "learned": False, "random_weights_lo": -0.3, "random_weights_hi": 0.3} for row in correlations]
    assert ceiling_table(ceiling, with_nulls)[1]["attributions"]["age:ig_aged"]["random_weights_hi"] == 0.3
    record = {"system": "ka3d", "species": "A", "tasks": {}, "rearrangements": [], "ceiling": table}
    text = markdown_tables(record)
    assert "| best descriptor | descriptor ridge | supervised CNN | age:gradcam_aged | age:ig_aged |" in text
    assert "local_density_cg2 +0.31 [+0.21, +0.41] | +0.42 [+0.32, +0.52] | +0.53 [+0.43, +0.63] | -0.12 [-0.17, -0.07]† |" in text


def test_study_table_marks_learned_attributions_and_has_no_placeholder_null_columns():
    from glasscam.report.study import markdown_tables

    cell = {"window": 10.0, "t_w": "all", "attributions": {
        "age:ig_aged": {"spearman": 0.21, "spearman_lo": 0.16, "spearman_hi": 0.26, "null_spearman_lo": -0.02,
                        "null_spearman_hi": 0.02, "learned": True},
        "age:gradcam_aged": {"spearman": -0.12, "spearman_lo": -0.17, "spearman_hi": -0.07, "null_spearman_lo": -0.02,
                             "null_spearman_hi": 0.02, "learned": False}}}
    text = markdown_tables({"system": "ka3d", "species": "A", "tasks": {}, "rearrangements": [], "ceiling": [cell]})
    assert "+0.21 [+0.16, +0.26]† **learned** |" in text
    assert "-0.12 [-0.17, -0.07]† |" in text  # beyond the shuffled null only: not learned
    assert "null: random weights" not in text  # no placeholder columns for the randomisation nulls
    row = next(line for line in text.splitlines() if line.startswith("| 10 | all |"))
    assert row.endswith("**learned** | -0.12 [-0.17, -0.07]† |")


def _study_record(seed, cnn_accuracy, rho_ig, learned, system="ka3d", settings="s1"):
    return {"system": system, "seed": seed, "settings_hash_except_seed": settings, "species": "A",
            "tasks": {"age": {"classifiers": {"thermal": {
                "cnn": {"accuracy": cnn_accuracy}, "best_baseline": "energy_threshold",
                "baselines": {"energy_threshold": {"accuracy": 0.9}, "descriptor_logistic": {"accuracy": 0.8}},
                "cnn_minus_best_baseline": {"difference": cnn_accuracy - 0.9}}}}},
            "ceiling": [{"window": 10.0, "t_w": "all",
                         "best_descriptor": {"field": "potential_energy_cg2", "spearman": 0.3},
                         "descriptor_ridge": {"spearman": 0.35}, "supervised_cnn": {"spearman": 0.5},
                         "attributions": {"age:ig_aged": {"spearman": rho_ig, "learned": learned}}},
                        {"window": 10.0, "t_w": 10.5, "attributions": {}}]}


def test_realisations_give_the_spread_of_each_headline_number():
    import pytest

    from glasscam.report.study import compare_realisations, realisation_table

    records = [_study_record(1, 0.80, 0.10, False), _study_record(2, 0.90, 0.16, True),
               _study_record(3, 0.85, 0.13, False)]
    rows = {(r["quantity"], r["task"], r["inputs"], r["window"]): r for r in compare_realisations(records)}
    cnn = rows[("CNN test accuracy", "age", "thermal", None)]
    assert cnn["values"] == [0.80, 0.90, 0.85] and abs(cnn["mean"] - 0.85) < 1e-12 and abs(cnn["spread"] - 0.10) < 1e-12
    diff = rows[("CNN − best baseline", "age", "thermal", None)]
    assert abs(diff["min"] - (-0.10)) < 1e-12 and abs(diff["max"] - 0.0) < 1e-12
    ig = rows[("ρ: age:ig_aged", None, None, 10.0)]
    assert ig["learned"] == [False, True, False] and abs(ig["spread"] - 0.06) < 1e-12
    assert rows[("ρ: supervised cnn", None, None, 10.0)]["spread"] == 0.0
    assert not any(r["t_w"] not in (None, "all") for r in rows.values())  # pooled t_w only
    text = realisation_table(records)
    assert "| seed 1 | seed 2 | seed 3 | mean | spread |" in text
    assert "| ρ: age:ig_aged |  |  | 10 | +0.10 | +0.16 **L** | +0.13 | 0.13 | 0.06 |" in text
    with pytest.raises(ValueError, match="seeds .* repeat"):
        compare_realisations([_study_record(1, 0.8, 0.1, False), _study_record(1, 0.9, 0.1, False)])
    with pytest.raises(ValueError, match="more than the seed"):
        compare_realisations([_study_record(1, 0.8, 0.1, False), _study_record(2, 0.9, 0.1, False, settings="s2")])
    with pytest.raises(ValueError, match="different systems"):
        compare_realisations([_study_record(1, 0.8, 0.1, False), _study_record(2, 0.9, 0.1, False, system="abm2d")])
    with pytest.raises(ValueError, match="two or more"):
        compare_realisations(records[:1])
    old = _study_record(2, 0.9, 0.1, False)
    del old["settings_hash_except_seed"]
    with pytest.raises(ValueError, match="rerun their study_summary"):
        compare_realisations([records[0], old])
