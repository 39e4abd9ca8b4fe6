"""Defaults are defined once: config.yaml's values equal the option objects' defaults."""

from dataclasses import asdict, fields
from pathlib import Path

import pytest

from glasscam.analysis.heterogeneity import S4Options
from glasscam.config import load_yaml
from glasscam.core.schedule import WINDOW_TOLERANCE

CONFIG = load_yaml(Path(__file__).resolve().parents[1] / "config.yaml")


def test_config_yaml_s4_defaults_are_the_option_defaults():
    assert CONFIG["dynamics"]["s4"] == asdict(S4Options())
    assert [f.name for f in fields(S4Options)] == list(CONFIG["dynamics"]["s4"])


def test_config_yaml_window_tolerance_is_the_schedule_default():
    assert CONFIG["dynamics"]["window_tolerance"] == WINDOW_TOLERANCE


@pytest.mark.parametrize("bad", [{"q_max": 0.0}, {"max_shells": 1}, {"fit_qxi_max": -1.0}, {"min_shells": 1}])
def test_s4_options_refuse_values_outside_their_range(bad):
    with pytest.raises(ValueError, match="dynamics.s4"):
        S4Options.from_config(bad)


def test_s4_options_name_an_unknown_key():
    with pytest.raises(ValueError, match="q_mx"):
        S4Options.from_config({"q_mx": 3.0})
    assert S4Options.from_config(None) == S4Options()
