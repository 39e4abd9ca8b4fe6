"""Configuration: schema validation, physical consistency checks, per-system protocol merging.

``validate_config`` is called by the Snakefile before any job is scheduled; every error names
the offending key as a dotted path (``systems.ka3d.composition``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import numpy as np
import yaml

from .systems import system_from_config
from .tasks import frames_in_window, log_frame_times, tasks_of


class ConfigError(ValueError):
    """Invalid configuration; the message names the offending key."""


def _dotted(path) -> str:
    return ".".join(str(p) for p in path) or "<root>"


def load_yaml(path: str | Path) -> dict:
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read configuration ({err})") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: configuration must be a mapping")
    return data


def schema_errors(config: dict, schema: dict) -> list[str]:
    """All schema violations, each as '<dotted key>: <message>'."""
    validator = jsonschema.Draft202012Validator(schema)
    messages = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        key = _dotted(error.absolute_path)
        if error.validator == "additionalProperties":
            messages.append(f"{key}: {error.message}")
        elif error.validator == "required":
            missing = error.message.split("'")[1]
            messages.append(f"{_dotted([*error.absolute_path, missing])}: required key is missing")
        else:
            messages.append(f"{key}: {error.message}")
    return messages


def protocol_for(config: dict, system_name: str) -> dict:
    """Global protocol with the system's own ``protocol`` overrides merged in (one level deep)."""
    merged = copy.deepcopy(config["protocol"])
    for key, value in config["systems"][system_name].get("protocol", {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def task_errors(config: dict, name: str, system) -> list[str]:
    """Checks of the classification tasks, glass ages and propensity ages against one system's
    aging schedule (frames that must exist) and its measured kinetic-temperature relaxation."""
    errors = []
    dataset = config["dataset"]
    protocol = protocol_for(config, name)
    aging = protocol["aging"]
    times = log_frame_times(float(aging["duration"]), system.dt, int(aging["frames_per_decade"]))
    where = f"systems.{name} aging (duration {aging['duration']:g} τ, frames_per_decade {aging['frames_per_decade']})"
    for age in dataset["glass_ages"]:
        nearest = float(times[np.argmin(np.abs(times - float(age)))])
        if not (float(age) / 2 <= nearest <= 2 * float(age)):
            errors.append(f"dataset.glass_ages: t_w = {age:g} τ has no frame within a factor 2 in {where} (nearest {nearest:g} τ)")
    replicas = int(dataset.get("glass_replicas", 1))
    if replicas > int(aging["replicas"]):
        errors.append(f"dataset.glass_replicas = {replicas} exceeds the {aging['replicas']} aging replicas of systems.{name}")
    propensity = protocol.get("propensity", {})
    for age in propensity.get("ages", []):
        if not any(abs(float(age) - float(t)) < 1e-9 for t in dataset["glass_ages"]):
            errors.append(f"protocol.propensity.ages: t_w = {age:g} τ is not one of dataset.glass_ages {dataset['glass_ages']} "
                          "(replicas start from the analysis samples)")
    if propensity.get("ages") and not {"replicas", "duration", "frames_per_decade"} <= set(propensity):
        errors.append("protocol.propensity: ages given, so replicas, duration and frames_per_decade are required")
    try:
        tasks = tasks_of(dataset)
    except ValueError as err:
        return errors + [str(err)]
    relaxation = config["systems"][name]["state_points"].get("kinetic_relaxation_time")
    for i, task in enumerate(tasks):
        if task["kind"] != "age":
            continue
        key = f"dataset.tasks[{i}] ({task['name']})"
        if relaxation is None:
            errors.append(f"{key}: systems.{name}.state_points.kinetic_relaxation_time is required for an age task "
                          "(measure it: glasscam.tasks.kinetic_relaxation_time on aging runs)")
        elif float(task["young"][0]) < float(relaxation):
            errors.append(f"{key}.young = {task['young']}: starts at {task['young'][0]:g} τ, before the kinetic temperature "
                          f"of systems.{name} has relaxed after the quench (kinetic_relaxation_time = {relaxation:g} τ); "
                          "young samples would be hot")
        for part in ("young", "aged"):
            if float(task[part][1]) > float(aging["duration"]) * (1 + 1e-9) and float(task[part][0]) > float(aging["duration"]):
                errors.append(f"{key}.{part} = {task[part]} lies beyond the aging duration {aging['duration']:g} τ of systems.{name}")
            elif len(frames_in_window(times, task[part])) == 0:
                errors.append(f"{key}.{part} = {task[part]}: no frame of {where} lies in it")
    return errors


def physics_errors(config: dict) -> list[str]:
    """Consistency checks the schema cannot express."""
    errors = []
    dataset = config["dataset"]
    if not any(t >= dataset.get("classifier_min_age", 0) for t in dataset["glass_ages"]):
        errors.append(f"dataset.classifier_min_age = {dataset['classifier_min_age']} leaves no glass_ages "
                      f"{dataset['glass_ages']} for the classifier")
    for name in config["run_systems"]:
        if name not in config["systems"]:
            errors.append(f"run_systems: {name!r} is not defined under systems ({sorted(config['systems'])})")
    for name, spec in config["systems"].items():
        try:
            system = system_from_config(name, spec)
        except ValueError as err:
            errors.append(str(err))
            continue
        points = spec["state_points"]
        key = f"systems.{name}.state_points"
        if points["quench_from"] not in points["liquid_temperatures"]:
            errors.append(f"{key}.quench_from = {points['quench_from']} is not one of liquid_temperatures {points['liquid_temperatures']}")
        if points["glass_temperature"] >= min(points["liquid_temperatures"]):
            errors.append(f"{key}.glass_temperature = {points['glass_temperature']} must lie below every liquid temperature")
        if len({f"{t:g}" for t in points["liquid_temperatures"]}) != len(points["liquid_temperatures"]):
            errors.append(f"{key}.liquid_temperatures has duplicates")
        if spec["potential"]["form"] == "lennard_jones" and "exponent" in spec["potential"]:
            errors.append(f"systems.{name}.potential.exponent applies to inverse_power only")
        protocol = protocol_for(config, name)
        if max(config["dataset"]["glass_ages"]) > protocol["aging"]["duration"]:
            errors.append(
                f"dataset.glass_ages: {max(config['dataset']['glass_ages'])} exceeds "
                f"systems.{name} aging duration {protocol['aging']['duration']}"
            )
        if name in config["run_systems"]:
            half_box = system.box_length / 2
            indicators = config["indicators"]
            for radius in [*indicators.get("coarse_graining_radii", []), indicators.get("local_density_radius", 0)]:
                if radius >= half_box:
                    errors.append(
                        f"indicators: radius {radius} must be below half the box of systems.{name} (L/2 = {half_box:.3f})"
                    )
        if name in config["run_systems"]:
            errors += task_errors(config, name, system)
        if protocol["sample_interval"] < system.dt:
            errors.append(f"protocol.sample_interval = {protocol['sample_interval']} is shorter than systems.{name}.dt")
    return errors


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Validate ``config`` against the JSON schema and the physics checks; raise
    :class:`ConfigError` listing every offending key. Returns ``config`` unchanged."""
    schema = load_yaml(schema_path)
    errors = schema_errors(config, schema)
    if not errors:
        errors = physics_errors(config)
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    return config
