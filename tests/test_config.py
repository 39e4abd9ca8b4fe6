"""Configuration validation: every error names the offending key, before any job runs."""

import copy

import pytest
from conftest import ROOT, SCHEMA

from glasscam.config import load_yaml, protocol_for, validate_config
from glasscam.errors import ConfigError


def test_default_and_demo_configs_are_valid(default_config):
    validate_config(default_config, SCHEMA)
    demo = load_yaml(ROOT / "config" / "demo.yaml")
    validate_config(merge(default_config, demo), SCHEMA)


def merge(base, override):
    """Recursive dict update, as Snakemake merges --configfile over configfile:."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda c: c["systems"]["ka3d"].__setitem__("N", -5), "systems.ka3d.N"),
        (lambda c: c["systems"]["ka3d"].__setitem__("N", 4000), "systems.ka3d.composition"),
        (lambda c: c["systems"]["ka3d"]["composition"].__setitem__("B", -1), "systems.ka3d.composition.B"),
        (lambda c: c["systems"]["ka3d"].__setitem__("density", "dense"), "systems.ka3d.density"),
        (lambda c: c["systems"]["ka3d"].__setitem__("colour", "red"), "systems.ka3d"),
        (lambda c: c["systems"]["ka3d"].pop("dt"), "systems.ka3d.dt"),
        (lambda c: c["protocol"]["aging"].__setitem__("replicas", 0), "protocol.aging.replicas"),
        (lambda c: c.__setitem__("engine", "gromacs"), "engine"),
        (lambda c: c["systems"]["ka3d"]["state_points"].__setitem__("quench_from", 0.7), "systems.ka3d.state_points.quench_from"),
        (lambda c: c["systems"]["ka3d"]["state_points"].__setitem__("glass_temperature", 0.9), "systems.ka3d.state_points.glass_temperature"),
        (lambda c: c["systems"]["ka3d"]["potential"]["pairs"].pop("AB"), "systems.ka3d.potential.pairs"),
        (lambda c: c["systems"]["ka3d"]["potential"]["pairs"].__setitem__("AC", {"epsilon": 1, "sigma": 1}), "systems.ka3d.potential.pairs.AC"),
        (lambda c: c.__setitem__("run_systems", ["nope"]), "run_systems"),
        (lambda c: c["dataset"].__setitem__("glass_ages", [1e9]), "dataset.glass_ages"),
        (lambda c: c["dataset"].__setitem__("classifier_min_age", 5000), "dataset.classifier_min_age"),
        (lambda c: c["dataset"].__setitem__("classifier_min_age", -1), "dataset.classifier_min_age"),
        (lambda c: c["systems"]["ka3d"]["masses"].__setitem__("C", 1.0), "systems.ka3d.masses"),
    ],
)
def test_bad_config_names_the_key(default_config, mutate, key):
    config = copy.deepcopy(default_config)
    mutate(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA)
    assert key in str(err.value)


def test_system_protocol_overrides_merge(default_config):
    config = copy.deepcopy(default_config)
    config["systems"]["ka3d"]["protocol"] = {"aging": {"replicas": 3}, "runs": 4}
    merged = protocol_for(config, "ka3d")
    assert merged["aging"]["replicas"] == 3 and merged["runs"] == 4
    assert merged["aging"]["duration"] == config["protocol"]["aging"]["duration"]
    validate_config(config, SCHEMA)


def test_coarse_graining_radius_beyond_half_box_is_rejected(default_config):
    config = copy.deepcopy(default_config)
    config["systems"]["ka3d"]["composition"] = {"A": 200, "B": 50}
    config["systems"]["ka3d"].pop("N")
    config["indicators"]["coarse_graining_radii"] = [1, 3]
    with pytest.raises(ConfigError, match="indicators: radius 3"):
        validate_config(config, SCHEMA)


FIELD = ROOT.parent / "shared" / "field-cases"


def _set(path, value):
    """Mutation setting the dotted ``path`` of a config to ``value``."""

    def mutate(config):
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


@pytest.mark.parametrize(
    "mutate, key, reason",
    [
        (_set("results", ""), "results", "filesystem root"),
        (_set("systems.ka3d.potential.cutoff", 0.5), "systems.ka3d.potential.cutoff", "repulsive core"),
        (_set("systems.ss3d.potential.pairs.AB.cutoff", 0.9), "systems.ss3d.potential.pairs.AB.cutoff", "repulsive core"),
        (_set("voxel.spacing", 0.6), "voxel.spacing", "does not resolve the Gaussian"),
        (_set("voxel", {"spacing": 20.0, "width": 20.0, "grid_multiple": 4}), "voxel.spacing", "half the box"),
        (_set("voxel", {"spacing": 3.0, "width": 2.5, "grid_multiple": 4}), "voxel.spacing", "cells per axis"),
        (_set("voxel.grid_multiple", 2), "voxel.grid_multiple", "pooling stride 4"),
        (_set("dataset.split", {"train": 0.6, "validation": 0.6, "test": 0.6}), "dataset.split", "sum to 1.8"),
        (_set("dynamics.windows", [1, 20000]), "dynamics.windows", "longer than the aging run"),
        (lambda c: (_set("dataset.glass_ages", [500, 1000])(c), _set("dynamics.windows", [1, 9600])(c)),
         "dynamics.windows [9600]", "t_w = 500"),
        (_set("systems.ka3d.state_points.melt_temperature", 0.7), "systems.ka3d.state_points.melt_temperature", "below"),
        (_set("gradcam.layer", 7), "gradcam.layer", "3 conv blocks"),
        (_set("correlations.gradcam_key", "gradcam_glas"), "correlations.gradcam_key", "gradcam_glass"),
        (_set("systems.ka3d.dt", 0.02), "systems.ka3d.dt", "steps per period"),
        (_set("systems.ka3d.dt", 0.05), "systems.ka3d.dt", "steps per period"),
        (_set("protocol.aging.frames_per_decade", 1), "dataset.glass_ages", "frames_per_decade"),
    ],
)
def test_derived_quantities_are_checked_before_any_job(default_config, mutate, key, reason):
    config = copy.deepcopy(default_config)
    mutate(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA)
    assert key in str(err.value) and reason in str(err.value)


def test_stable_time_steps_and_layers_pass(default_config):
    """The catalogue's dt (77–118 steps per period), half the threshold's dt and the boundary
    values of the new checks are accepted."""
    config = copy.deepcopy(default_config)
    config["systems"]["ka3d"]["dt"] = 0.01  # 38 steps per period of the AB pair
    config["gradcam"]["layer"] = 2
    config["correlations"]["gradcam_key"] = "gradcam_signed_glass"
    config["voxel"]["spacing"] = 1.5 * config["voxel"]["width"]
    config["systems"]["ss2d"]["state_points"]["melt_temperature"] = 2.0  # = highest liquid T
    validate_config(config, SCHEMA)


def test_time_step_threshold_follows_the_pair_curvature(default_config):
    """ω = √(V''(r_min)/μ) with V''(2^{1/6}σ) = 36·2^{2/3} ε/σ² for Lennard-Jones (analytic)."""
    import math

    from glasscam.config.checks import stiffest_oscillation
    from glasscam.core.systems import system_from_config

    system = system_from_config("ka3d", default_config["systems"]["ka3d"])
    pair, r0, curvature, omega = stiffest_oscillation(system)
    assert pair == "AB" and r0 == pytest.approx(2 ** (1 / 6) * 0.8)
    assert curvature == pytest.approx(36 * 2 ** (2 / 3) * 1.5 / 0.8**2)
    assert omega == pytest.approx(math.sqrt(curvature / 0.5))


def test_gradcam_key_accepts_task_classes(default_config):
    from glasscam.config.checks import gradcam_key_errors

    config = copy.deepcopy(default_config)
    config["dataset"]["tasks"] = [{"name": "age", "kind": "age", "young": [5, 20], "aged": [1000, 10000]}]
    for key in ("positive", "gradcam_glass", "gradcam_aged", "gradcam_signed_young"):
        config["correlations"]["gradcam_key"] = key
        assert gradcam_key_errors(config) == [], key
    config["correlations"]["gradcam_key"] = "gradcam_ancient"
    assert "gradcam_ancient" in gradcam_key_errors(config)[0]


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("results: x\nprotocol:\n  runs: [3\n  melt_time: 5\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml:4:\d+: YAML syntax error"):
        load_yaml(path)


def test_yaml_syntax_error_in_the_workflow_config_is_named_by_the_dag(tmp_path):
    """An edit that breaks the workflow's own config.yaml: Snakemake alone says only 'Config file
    is not valid JSON or YAML'; the Snakefile checks it first and names file, line and column."""
    import shutil
    import subprocess
    import sys

    for name in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "workflow", tmp_path / "workflow")
    lines = (tmp_path / "config.yaml").read_text().splitlines()
    line = next(k for k, text in enumerate(lines) if text.startswith("  runs:"))
    lines.insert(line + 1, "   oops: 1")  # one space too many
    (tmp_path / "config.yaml").write_text("\n".join(lines) + "\n")
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert f"config.yaml:{line + 2}:4: YAML syntax error" in result.stdout + result.stderr


def test_renamed_species_name_the_file_they_came_from(default_config, tmp_path):
    """Field case 09: the user's composition/masses/pairs merged over config.yaml's."""
    user = tmp_path / "renamed.yaml"
    user.write_text(
        "systems:\n  ka3d:\n    N: 500\n    composition: {L: 400, S: 100}\n    masses: {L: 1.0, S: 1.0}\n"
        "    potential:\n      pairs:\n        LL: {epsilon: 1.0, sigma: 1.0}\n"
        "        LS: {epsilon: 1.5, sigma: 0.8}\n        SS: {epsilon: 0.5, sigma: 0.88}\n"
        "indicators: {coarse_graining_radii: [1, 2]}\n"
    )
    files = [ROOT / "config.yaml", user]
    config = merge(default_config, load_yaml(user))
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA, configfiles=files)
    message = str(err.value)
    assert "systems.ka3d.composition: entries ['A', 'B'] come from" in message and str(ROOT / "config.yaml") in message
    assert str(user) in message and "A: null, B: null" in message
    assert "systems.ka3d.potential.pairs: entries ['AA', 'AB', 'BB']" in message
    # the documented replacement: the default entries set to null are dropped
    text = user.read_text().replace("{L: 400, S: 100}", "{L: 400, S: 100, A: null, B: null}")
    text = text.replace("{L: 1.0, S: 1.0}", "{L: 1.0, S: 1.0, A: null, B: null}")
    text = text.replace("      pairs:\n", "      pairs:\n        AA: null\n        AB: null\n        BB: null\n")
    user.write_text(text)
    config = merge(default_config, load_yaml(user))
    validate_config(config, SCHEMA, configfiles=files)
    assert list(config["systems"]["ka3d"]["composition"]) == ["L", "S"]
    assert sorted(config["systems"]["ka3d"]["potential"]["pairs"]) == ["LL", "LS", "SS"]


def test_partial_override_of_a_mapping_is_not_a_rename(default_config, tmp_path):
    user = tmp_path / "heavier.yaml"
    user.write_text("systems:\n  ka3d:\n    masses: {B: 2.0}\n")
    validate_config(merge(default_config, load_yaml(user)), SCHEMA, configfiles=[ROOT / "config.yaml", user])


@pytest.mark.skipif(not FIELD.exists(), reason="field cases not present")
def test_field_case_16_sparse_aging_frames_rejected(default_config):
    files = [ROOT / "config.yaml", FIELD / "10-ternary-system" / "ternary_tiny.yaml",
             FIELD / "16-late-glass-age-failure" / "sparse_aging_frames.yaml"]
    config = copy.deepcopy(default_config)
    for path in files[1:]:
        config = merge(config, load_yaml(path))
    with pytest.raises(ConfigError, match=r"dataset\.glass_ages: t_w = 3 τ has no frame .*frames_per_decade 1"):
        validate_config(config, SCHEMA, configfiles=files)


@pytest.mark.skipif(not FIELD.exists(), reason="field cases not present")
def test_field_case_08_large_dt_rejected(default_config):
    config = merge(default_config, load_yaml(FIELD / "08-dt-blowup" / "config_dt_too_large.yaml"))
    with pytest.raises(ConfigError, match=r"systems\.ka3d\.dt = 0\.05 τ is far outside the stable range"):
        validate_config(config, SCHEMA)
