"""Defaults are defined once: config.yaml's values equal the option objects' defaults."""

import re
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from glasscam.analysis.correlations import CorrelationLengthOptions, CorrelationOptions
from glasscam.analysis.heterogeneity import S4Options
from glasscam.config import load_yaml
from glasscam.core.schedule import WINDOW_TOLERANCE
from glasscam.learn.attribution import AttributionOptions
from glasscam.learn.ceiling import CeilingOptions
from glasscam.learn.gradcam import GradcamOptions
from glasscam.learn.search import SearchOptions
from glasscam.learn.training import LearningCurveOptions, TrainingOptions

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


# --- the learning settings: one option object per config section (issue #23) -------------------

SECTIONS = {"training": TrainingOptions, "learning_curve": LearningCurveOptions, "attribution": AttributionOptions,
            "search": SearchOptions, "ceiling": CeilingOptions, "gradcam": GradcamOptions}


def _field_values(options) -> dict:
    """Field → value as declared (sequences as lists, as YAML reads them), in declared order."""
    return {f.name: list(v) if isinstance(v := getattr(options, f.name), tuple) else v for f in fields(options)}


@pytest.mark.parametrize("section", [s for s in SECTIONS if s != "search"])
def test_config_yaml_learning_sections_are_the_option_defaults(section):
    defaults = _field_values(SECTIONS[section]())
    assert CONFIG[section] == defaults
    assert list(CONFIG[section]) == list(defaults)  # same keys, same order as the records write them


def test_config_yaml_search_budget_is_the_option_default():
    # space: the code default is empty (nothing drawn, the model/training settings as they are);
    # config.yaml's space is the documented production search, deliberately not a code default
    defaults = _field_values(SearchOptions())
    assert defaults.pop("space") == {}
    assert {k: v for k, v in CONFIG["search"].items() if k != "space"} == defaults


@pytest.mark.parametrize(("section", "bad"), [
    ("training", {"patience": 0}), ("training", {"epochs": 0}), ("training", {"learning_rate": 0.0}),
    ("training", {"weight_decay": -1e-4}), ("training", {"schedule": "step"}), ("training", {"augment": "yes"}),
    ("training", {"augment": {"rotate": True}}), ("training", {"balance_classes": "no"}),
    ("learning_curve", {"fractions": [0.0, 1.0]}), ("learning_curve", {"repeats": 0}),
    ("attribution", {"ig_steps": 1}), ("attribution", {"occlusion_particles": -1}), ("attribution", {"batch_size": 0}),
    ("attribution", {"methods": ["lime"]}),
    ("search", {"n_trials": -1}), ("search", {"cpu_minutes": 0}), ("search", {"pruner": {"n_warmup_epochs": -1}}),
    ("search", {"pruner": {"patience": 3}}), ("search", {"space": {"dept": [1]}}),
    ("ceiling", {"epochs": 0}), ("ceiling", {"patience": 0}), ("ceiling", {"batch_size": 0}),
    ("ceiling", {"learning_rate": -1.0}), ("ceiling", {"weight_decay": -1.0}),
    ("gradcam", {"batch_size": 0}), ("gradcam", {"layer": "first"}),
])
def test_learning_options_refuse_values_outside_their_range_naming_the_key(section, bad):
    (key,) = bad
    with pytest.raises(ValueError, match=rf"^{section}\.{key}"):
        SECTIONS[section].from_config(bad)


def test_training_option_message_names_key_and_value():
    with pytest.raises(ValueError, match=r"^training\.patience = 0; must be ≥ 1$"):
        TrainingOptions.from_config({"patience": 0})


@pytest.mark.parametrize("section", SECTIONS)
def test_learning_options_name_an_unknown_key(section):
    with pytest.raises(ValueError, match=rf"^{section}: unknown keys \['patiense'\]"):
        SECTIONS[section].from_config({"patiense": 3})
    assert SECTIONS[section].from_config(None) == SECTIONS[section]()


def test_as_dict_is_the_resolved_mapping_the_records_hold():
    assert TrainingOptions.from_config({"augment": False}).as_dict()["augment"] == {"translate": False,
                                                                                     "point_group": False}
    assert TrainingOptions.from_config({"augment": {"translate": False}}).as_dict()["augment"] == {
        "translate": False, "point_group": True}
    assert AttributionOptions.from_config({"methods": ["occlusion"]}).as_dict() == {
        "methods": ["occlusion"], "ig_steps": 64, "occlusion_particles": 128, "batch_size": 16}
    assert LearningCurveOptions.from_config({"fractions": [1.0, 0.5, 0.5]}).resolved() == ([0.5, 1.0], 3)
    assert SearchOptions.from_config({"n_trials": 0, "cpu_minutes": None}).as_dict() == {
        "n_trials": 0, "cpu_minutes": None, "space": {}, "pruner": {"n_startup_trials": 3, "n_warmup_epochs": 5}}


# --- the correlations settings (issue #23) -----------------------------------------------------

#: length options config.yaml leaves to their defaults (named in its comment): r_max from the box, fit_r_min 0
LENGTH_UNSET = {"r_max": None, "fit_r_min": 0.0}


def test_config_yaml_correlations_are_the_option_defaults():
    defaults = CorrelationOptions().as_dict()
    length = defaults.pop("length")
    assert {k: length.pop(k) for k in LENGTH_UNSET} == LENGTH_UNSET
    length["group_by"] = list(length["group_by"])  # a tuple in the code, a list in YAML
    section = dict(CONFIG["correlations"])
    assert section.pop("length") == length
    assert list(CONFIG["correlations"]["length"]) == list(length)  # same keys, same order
    assert section == defaults
    assert list(CONFIG["correlations"]) == [*defaults, "length"]
    assert CorrelationOptions.from_config(CONFIG["correlations"]) == CorrelationOptions()


@pytest.mark.parametrize(("key", "bad", "rule"), [
    ("n_bootstrap", {"n_bootstrap": -1}, "must be ≥ 0"), ("n_null", {"n_null": -5}, "must be ≥ 0"),
    ("gradcam_key", {"gradcam_key": 1}, "expected"), ("attributions", {"attributions": "ig"}, "expected"),
    ("attributions", {"attributions": ["ig", 3]}, "expected"),
])
def test_correlation_options_refuse_values_outside_their_range_naming_the_key(key, bad, rule):
    with pytest.raises(ValueError, match=rf"^correlations\.{key} = .*; {rule}"):
        CorrelationOptions.from_config(bad)


@pytest.mark.parametrize(("key", "bad", "rule"), [
    ("min_r_squared", 1.5, r"must be in \[0, 1\]"), ("min_r_squared", -0.1, r"must be in \[0, 1\]"),
    ("bin_width", 0.0, "must be positive"), ("min_length", -1.0, "must be ≥ 0"), ("fit_r_min", -0.5, "must be ≥ 0"),
    ("n_bootstrap", -1, "must be ≥ 0"), ("r_max", 0.0, "must be positive"), ("fit_r_max", 0.5, "must exceed fit_r_min"),
    ("group_by", "glasscam/time", "expected a list"),
])
def test_correlation_length_options_refuse_values_outside_their_range_naming_the_key(key, bad, rule):
    length = {key: bad, "fit_r_min": 1.0} if key == "fit_r_max" else {key: bad}
    with pytest.raises(ValueError, match=rf"^correlations\.length\.{key} = {re.escape(repr(bad))}; {rule}"):
        CorrelationOptions.from_config({"length": length})
    with pytest.raises(ValueError, match=rf"^correlations\.length\.{key} = "):  # the flat mapping of the length stage
        CorrelationOptions.from_length_cfg({**length, "gradcam_key": "positive"})


def test_correlation_options_name_an_unknown_key():
    with pytest.raises(ValueError, match=r"^correlations: unknown keys \['n_nul'\]"):
        CorrelationOptions.from_config({"n_nul": 3})
    with pytest.raises(ValueError, match=r"^correlations\.length: unknown keys \['fit_rmax'\]"):
        CorrelationOptions.from_config({"length": {"fit_rmax": 3.0}})
    with pytest.raises(ValueError, match=r"^correlations\.length: unknown keys \['n_null'\]"):
        CorrelationOptions.from_length_cfg({"n_null": 3, "gradcam_key": "positive"})


def test_correlation_length_r_max_from_the_box():
    """r_max unset: min(0.98 L/2, 6 σ) — the box's half edge (less 2 %) for small boxes, 6 σ beyond
    L = 12.24 σ; a given r_max must lie in (0, L/2)."""
    length = CorrelationLengthOptions()
    assert length.box_r_max(6.0) == pytest.approx(0.98 * 3.0)
    assert length.box_r_max(12.0) == pytest.approx(5.88)
    assert length.box_r_max(20.0) == 6.0
    assert CorrelationLengthOptions(r_max=2.5).box_r_max(6.0) == 2.5
    with pytest.raises(ValueError, match=r"^correlations\.length\.r_max = 3\.5 must lie in \(0, L/2 = 3\.000\)"):
        CorrelationLengthOptions(r_max=3.5).box_r_max(6.0)
    options = CorrelationOptions.from_length_cfg({"fit_r_max": 3.0, "gradcam_key": "gradcam_glass"})
    assert (options.gradcam_key, options.length.fit_r_max, options.length.bin_width) == ("gradcam_glass", 3.0, 0.2)
