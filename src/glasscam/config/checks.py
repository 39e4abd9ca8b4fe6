"""Cross-key physical checks of a configuration (time step, cutoffs, frames for glass ages, windows, voxel
grid, Grad-CAM keys, learning settings); each error names the dotted key."""

import math
import warnings

import numpy as np

from glasscam.config.load import protocol_for
from glasscam.core.grid import grid_points
from glasscam.core.schedule import (
    GLASS_AGE_TOLERANCE,
    frames_in_window,
    log_frame_times,
    select_glass_frames,
)
from glasscam.core.systems import System, system_from_config
from glasscam.core.tasks import class_names, tasks_of


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
        if not (float(age) / GLASS_AGE_TOLERANCE <= nearest <= GLASS_AGE_TOLERANCE * float(age)):
            errors.append(f"dataset.glass_ages: t_w = {age:g} τ has no frame within a factor {GLASS_AGE_TOLERANCE:g} in {where} "
                          f"(nearest {nearest:g} τ)")
    replicas = int(dataset.get("glass_replicas", 1))
    if replicas > int(aging["replicas"]):
        errors.append(f"dataset.glass_replicas = {replicas} exceeds the {aging['replicas']} aging replicas of systems.{name}")
    propensity = protocol.get("propensity", {})
    for age in propensity.get("ages", []):
        if not any(abs(float(age) - float(t)) < 1e-9 for t in dataset["glass_ages"]):
            errors.append(f"protocol.propensity.ages: t_w = {age:g} τ is not one of dataset.glass_ages {dataset['glass_ages']} "
                          "(replicas start from the analysis samples); list ages among them, or set protocol.propensity.ages: [] "
                          "to launch none")
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
            # not fatal: the age task uses the aging runs liquid_vs_glass needs anyway, and
            # build_dataset measures t_K on them and refuses an early young window there

            warnings.warn(f"{key}: systems.{name}.state_points.kinetic_relaxation_time is not set; the young window "
                          f"{task['young']} is checked only when build_dataset measures the kinetic-temperature "
                          "relaxation on the aging runs (record the measured value to check it before any job)",
                          stacklevel=2)
        elif float(task["young"][0]) < float(relaxation):
            errors.append(f"{key}.young = {task['young']}: starts at {task['young'][0]:g} τ, before the kinetic temperature "
                          f"of systems.{name} has relaxed after the quench (kinetic_relaxation_time = {relaxation:g} τ); "
                          "young samples would be hot")
        for part in ("young", "aged"):
            if float(task[part][1]) > float(aging["duration"]) * (1 + 1e-9) and float(task[part][0]) > float(aging["duration"]):
                errors.append(f"{key}.{part} = {task[part]} lies beyond the aging duration {aging['duration']:g} τ of "
                              f"systems.{name}; set dataset.tasks to windows inside the run (a list replaces the default one)")
            elif len(frames_in_window(times, task[part])) == 0:
                errors.append(f"{key}.{part} = {task[part]}: no frame of {where} lies in it")
    return errors


#: time steps per period of the stiffest pair's harmonic oscillation below which dt is refused
MIN_STEPS_PER_PERIOD = 30.0


#: voxel spacing h at most this many Gaussian widths w (Fourier amplitude exp(−(πw/h)²/2) ≤ 0.11
#: at the grid's Nyquist wave number π/h)
MAX_SPACING_PER_WIDTH = 1.5


#: cells per axis of the last conv block's feature map, at least
MIN_FEATURE_CELLS = 2


def stiffest_oscillation(system: System) -> tuple[str, float, float, float]:
    """(pair, r0, curvature V''(r0) in ε/σ², angular frequency ω = √(V''/μ) in 1/τ) of the
    pair with the highest ω, with μ = m_a m_b / (m_a + m_b) the reduced mass and r0 the minimum
    σ (n/m)^{1/(n−m)} of the Mie potential (2^{1/6} σ for Lennard-Jones), or r0 = σ for an inverse
    power (no minimum; V(σ) = ε above its asymptote). Harmonic estimate; velocity Verlet is
    unstable for ω dt > 2 and inaccurate long before."""
    best = None
    for (a, b), p in system.pairs.items():
        r0 = p.sigma * (p.n / p.m) ** (1.0 / (p.n - p.m)) if p.m > 0 else p.sigma
        s = p.sigma / r0
        curvature = p.prefactor * p.epsilon * (p.n * (p.n + 1) * s**p.n - p.m * (p.m + 1) * s**p.m) / r0**2
        mu = system.masses[a] * system.masses[b] / (system.masses[a] + system.masses[b])
        omega = math.sqrt(curvature / mu)
        if best is None or omega > best[3]:
            best = (a + b, r0, curvature, omega)
    return best


def time_step_errors(name: str, system: System) -> list[str]:
    pair, r0, curvature, omega = stiffest_oscillation(system)
    period = 2 * math.pi / omega
    if period / system.dt < MIN_STEPS_PER_PERIOD:
        return [
            f"systems.{name}.dt = {system.dt:g} τ is far outside the stable range of this potential: pair {pair} "
            f"has curvature V'' = {curvature:.4g} ε/σ² at r = {r0:.4g} σ, an oscillation period of {period:.4g} τ, "
            f"i.e. {period / system.dt:.3g} steps per period (at least {MIN_STEPS_PER_PERIOD:g} needed; the melt "
            f"and FIRE then lose particles); use dt ≤ {period / MIN_STEPS_PER_PERIOD:.3g} τ"
        ]
    return []


def cutoff_errors(name: str, spec: dict) -> list[str]:
    """A cutoff that cuts into the repulsive core: below the minimum 2^{1/6} σ of Lennard-Jones
    (2^{1/6} is WCA), below σ for an inverse power (V(r_c) ≥ ε)."""
    pot = spec["potential"]
    minimum = 2.0 ** (1.0 / 6.0) if pot["form"] == "lennard_jones" else 1.0
    where = "the Lennard-Jones minimum 2^(1/6) σ (WCA)" if pot["form"] == "lennard_jones" else "σ (inverse power)"
    errors = []
    entries = [(f"systems.{name}.potential.cutoff", pot["cutoff"])] + [
        (f"systems.{name}.potential.pairs.{k}.cutoff", p["cutoff"]) for k, p in pot["pairs"].items() if "cutoff" in p
    ]
    for key, value in entries:
        if float(value) < minimum - 1e-12:
            errors.append(f"{key} = {value} σ_ab cuts into the repulsive core: it must be at least {where}")
    return errors


def aging_frame_errors(name: str, system: System, protocol: dict, glass_ages: list[float]) -> list[str]:
    """Every ``dataset.glass_ages`` entry must select its own frame of the log-spaced aging run
    (the rule of :func:`glasscam.core.schedule.select_glass_frames`): two ages picking the same frame
    are reported here; an age with no frame at all by :func:`task_errors`."""


    aging = protocol["aging"]
    total = int(round(float(aging["duration"]) / system.dt))
    if total < 1:
        return [f"protocol.aging.duration = {aging['duration']} is shorter than systems.{name}.dt"]
    times = log_frame_times(float(aging["duration"]), system.dt, int(aging["frames_per_decade"]))
    try:
        select_glass_frames(np.asarray(times), [float(t) for t in glass_ages], f"the aging runs of {name}")
    except ValueError as err:
        if "twice" not in str(err):
            return []
        return [
            f"{err} — with protocol.aging.frames_per_decade = {aging['frames_per_decade']} and duration "
            f"{aging['duration']} τ (systems.{name}) the frames lie at t = {[float(f'{t:.4g}') for t in times]} τ; "
            f"raise protocol.aging.frames_per_decade or change dataset.glass_ages"
        ]
    return []


def window_errors(name: str, protocol: dict, config: dict) -> list[str]:
    """Every mobility window must fit in the aging run after the earliest glass age (t_w,min +
    Δt ≤ duration); windows that end beyond the run only for later ages give NaN there, which
    the correlations skip by design."""
    duration = float(protocol["aging"]["duration"])
    t_w = min(float(t) for t in config["dataset"]["glass_ages"])
    too_long = [dt for dt in config["dynamics"]["windows"] if t_w + float(dt) > duration * (1 + 1e-9)]
    if too_long:
        return [
            f"dynamics.windows {too_long}: longer than the aging run of systems.{name} (duration {duration:g} τ, "
            f"earliest dataset.glass_ages t_w = {t_w:g} τ): the mobility would be NaN for every glass sample; "
            f"shorten the windows or lengthen protocol.aging.duration"
        ]
    return []


def voxel_errors(name: str, system: System, config: dict) -> list[str]:
    """The grid must resolve the Gaussian, fit the box and survive the network's pooling."""

    voxel, channels = config["voxel"], config["model"].get("channels", [16, 32, 64])
    h, w = float(voxel["spacing"]), float(voxel["width"])
    multiple = int(voxel.get("grid_multiple", 1))
    errors = []
    if h > MAX_SPACING_PER_WIDTH * w:
        errors.append(
            f"voxel.spacing = {h:g} does not resolve the Gaussian of voxel.width = {w:g}: it must be at most "
            f"{MAX_SPACING_PER_WIDTH:g} × width = {MAX_SPACING_PER_WIDTH * w:g} (at the grid's Nyquist wave number "
            f"the Gaussian still has amplitude {math.exp(-((math.pi * w / h) ** 2) / 2):.2f})"
        )
    n = grid_points(system.box_length, h, multiple)
    stride = 2 ** (len(channels) - 1)
    if h >= system.box_length / 2:
        errors.append(f"voxel.spacing = {h:g} is not below half the box of systems.{name} (L = {system.box_length:.3f})")
    elif n % stride:
        errors.append(
            f"voxel.grid_multiple = {multiple}: the grid of systems.{name} has {n} cells per axis, not divisible by the "
            f"total pooling stride {stride} of model.channels ({len(channels)} blocks); use a multiple of {stride}"
        )
    elif n // stride < MIN_FEATURE_CELLS:
        errors.append(
            f"voxel.spacing = {h:g}: the grid of systems.{name} has {n} cells per axis (L = {system.box_length:.3f}), "
            f"{n // stride} after the {stride}-fold pooling of model.channels; at least {MIN_FEATURE_CELLS * stride} "
            f"cells are needed"
        )
    return errors


def _class_names(config: dict) -> set[str]:
    """Class names the classifiers can have: those of every ``dataset.tasks`` entry
    (:func:`glasscam.core.tasks.class_names`), and the default liquid/glass pair."""
    names = {"liquid", "glass"}
    try:
        for task in tasks_of(config.get("dataset", {})):
            names |= set(class_names(task))
    except (ValueError, KeyError, TypeError, AttributeError):
        pass  # task errors are reported by task_errors
    return names


def gradcam_key_errors(config: dict) -> list[str]:
    """``correlations.gradcam_key`` must name per-particle Grad-CAM values the gradcam rule
    writes: ``positive`` (the map of each task's class 1), or ``gradcam_<class>`` /
    ``gradcam_signed_<class>`` for a class of a configured task (one function, so that the key's
    semantics can change in one place). An absent key is the option default
    (:class:`glasscam.analysis.correlations.CorrelationOptions`, ``positive``), always written; the
    option object itself, with its ranges, is checked when the workflow is parsed (common.smk)."""
    if "gradcam_key" not in config.get("correlations", {}):
        return []
    key = config["correlations"]["gradcam_key"]
    classes = sorted(_class_names(config))
    accepted = ["positive"] + [f"gradcam_{c}" for c in classes] + [f"gradcam_signed_{c}" for c in classes]
    if key not in accepted:
        return [f"correlations.gradcam_key = {key!r} is not written by the gradcam rule; expected one of {accepted}"]
    return []


def learning_errors(config: dict) -> list[str]:
    errors = []
    split = config["dataset"]["split"]
    total = sum(float(v) for v in split.values())
    if abs(total - 1.0) > 1e-6:
        errors.append(f"dataset.split fractions {dict(split)} sum to {total:g}; they must sum to 1")
    layer = config.get("gradcam", {}).get("layer", "last")
    blocks = len(config["model"].get("channels", [16, 32, 64]))
    if layer != "last" and not -blocks <= int(layer) < blocks:
        errors.append(
            f"gradcam.layer = {layer}: model.channels defines {blocks} conv blocks (indices 0–{blocks - 1}, or 'last')"
        )
    return errors + gradcam_key_errors(config)


def search_errors(config: dict) -> list[str]:
    """``search.space`` ranges must be ordered (log ranges positive), kernel sizes odd, and with a
    search at least one depth must fit every run system's voxel grid."""
    search = config.get("search", {})
    space = search.get("space", {}) or {}
    errors = []
    for key, spec in space.items():
        if isinstance(spec, dict):
            if float(spec["low"]) > float(spec["high"]):
                errors.append(f"search.space.{key}: low {spec['low']} > high {spec['high']}")
            elif spec.get("log") and float(spec["low"]) <= 0:
                errors.append(f"search.space.{key}: a log range needs low > 0, got {spec['low']}")
    kernels = space.get("kernel_size", [])
    for k in kernels if isinstance(kernels, list) else [kernels]:
        if isinstance(k, (int, float)) and int(k) % 2 != 1:
            errors.append(f"search.space.kernel_size: {k} is even; kernels must be odd (symmetric circular padding)")
    depth = space.get("depth")
    if int(search.get("n_trials", 0)) > 0 and depth is not None:
        depths = (list(range(int(depth["low"]), int(depth["high"]) + 1)) if isinstance(depth, dict)
                  else depth if isinstance(depth, list) else [depth])
        voxel = config["voxel"]
        for name in config["run_systems"]:
            try:
                system = system_from_config(name, config["systems"][name])
            except (KeyError, ValueError):
                continue
            n = grid_points(system.box_length, float(voxel["spacing"]), int(voxel.get("grid_multiple", 1)))
            fitting = [d for d in depths if n % 2 ** (int(d) - 1) == 0 and n // 2 ** (int(d) - 1) >= 2]
            if not fitting:
                errors.append(f"search.space.depth = {depth}: none fits the {n}-cell grid of systems.{name} "
                              f"(depth d needs n divisible by 2^(d−1)); raise voxel.grid_multiple or lower the depths")
    return errors


def physics_errors(config: dict) -> list[str]:
    """Consistency checks the schema cannot express."""
    errors = []
    results = str(config["results"]).strip()
    if results in ("", "/", "."):
        errors.append(
            f"results = {config['results']!r}: outputs would be planned at "
            f"{'the filesystem root' if results != '.' else 'the top of the working directory'}; name a directory"
        )
    dataset = config["dataset"]
    if not any(t >= dataset.get("classifier_min_age", 0) for t in dataset["glass_ages"]):
        errors.append(f"dataset.classifier_min_age = {dataset['classifier_min_age']} leaves no glass_ages "
                      f"{dataset['glass_ages']} for the classifier")
    errors += learning_errors(config)
    errors += search_errors(config)
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
        if points["melt_temperature"] < max(points["liquid_temperatures"]):
            errors.append(f"{key}.melt_temperature = {points['melt_temperature']} must not lie below a liquid temperature "
                          f"{points['liquid_temperatures']}")
        if len({f"{t:g}" for t in points["liquid_temperatures"]}) != len(points["liquid_temperatures"]):
            errors.append(f"{key}.liquid_temperatures has duplicates")
        if spec["potential"]["form"] == "lennard_jones" and "exponent" in spec["potential"]:
            errors.append(f"systems.{name}.potential.exponent applies to inverse_power only")
        errors += cutoff_errors(name, spec)
        errors += time_step_errors(name, system)
        protocol = protocol_for(config, name)
        if max(config["dataset"]["glass_ages"]) > protocol["aging"]["duration"]:
            errors.append(
                f"dataset.glass_ages: {max(config['dataset']['glass_ages'])} exceeds "
                f"systems.{name} aging duration {protocol['aging']['duration']}"
            )
        elif name in config["run_systems"]:
            errors += aging_frame_errors(name, system, protocol, config["dataset"]["glass_ages"])
            errors += window_errors(name, protocol, config)
        if name in config["run_systems"]:
            half_box = system.box_length / 2
            indicators = config["indicators"]
            for radius in [*indicators.get("coarse_graining_radii", []), indicators.get("local_density_radius", 0)]:
                if radius >= half_box:
                    errors.append(
                        f"indicators: radius {radius} must be below half the box of systems.{name} (L/2 = {half_box:.3f})"
                    )
            errors += voxel_errors(name, system, config)
            errors += task_errors(config, name, system)
        if protocol["sample_interval"] < system.dt:
            errors.append(f"protocol.sample_interval = {protocol['sample_interval']} is shorter than systems.{name}.dt")
    return errors
