"""Configuration validation: every error names the offending key, before any job runs."""

import copy

import pytest

from glasscam.config import ConfigError, protocol_for, validate_config

from conftest import ROOT, SCHEMA
from glasscam.config import load_yaml


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
