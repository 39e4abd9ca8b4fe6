"""Where the names of glasscam's flat modules (≤ 0.1, before the layered package) went.

``import glasscam.dynamics`` or ``from glasscam.readers import read_trajectory`` in a user's
script keeps working: the old module is built on first import, each name resolves to its new home
when it is first read and a :class:`DeprecationWarning` names that home (``glasscam.dynamics.
compute_aging_dynamics`` → ``glasscam.stages.dynamics.compute_aging_dynamics``). Stage functions
(one per Snakemake rule) are now keyword-only; through an old path they still accept their
arguments positionally, in the order they always had, with the same warning. Nothing in the
package imports these paths, and they will be removed in a later release — docs/howto/migrate.md
lists the moves.

Output keys that were renamed because the old name was wrong are not aliased: the aging route's
``tau_alpha`` (a 1/e time measured from the quench, not an equilibrium τα) is now
``tau_fs_1e_from_quench``; the old key stays in the JSON as null beside a note saying so.

:data:`MOVED` maps an old module (relative to ``glasscam``) to ``{new module: "name name …"}``.
The names are resolved lazily, by string, so this module imports nothing of the package.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import inspect
import sys
import types
import warnings

MOVED: dict[str, dict[str, str]] = {
    "baselines": {
        "analysis.statistics": (
            "C_GRID Z95 accuracy_record fit_logistic paired_accuracy_difference wilson_interval"
        ),
        "stages.baselines": (
            "STATISTICS classifier_baselines descriptor_arrays sample_features vibration_amplitudes"
        ),
    },
    "cluster": {
        "support.cluster": "RUN_ID cancel_slurm_run",
    },
    "correlations": {
        "analysis.correlations": (
            "CORRELATION_COLUMNS FrameCorrelations LENGTH_R_MAX MIN_PARTICLES_PER_FRAME PARTICLE_PREFIX "
            "fit_correlation_length gradcam_fields pair_correlation_sums"
        ),
        "core.keys": "ALL_AGES SAMPLE_KEY",
        "io.tables": "read_table",
        "stages.correlate": "correlate correlate_descriptors gradcam_correlation_length",
    },
    "dataset": {
        "core.keys": "POTENTIAL_ENERGY_KEY",
        "core.schedule": "GLASS_AGE_TOLERANCE select_glass_frames select_liquid_frames",
        "stages.dataset": (
            "ANALYSIS_ONLY CLASS_NAMES KINETIC_TEMPERATURE_KEY LIQUID_VS_GLASS REQUIRED_PROVENANCE "
            "SPLIT_NAMES Sample build_dataset check_kinetic_relaxation split_runs write_glass_samples"
        ),
    },
    "dynamics": {
        "analysis.displacement": (
            "REARRANGEMENT_THRESHOLD cage_relative_displacement displacements mean_squared_displacement "
            "propensity rearranged_fraction window_displacement"
        ),
        "analysis.heterogeneity": (
            "chi4 fit_ornstein_zernike four_point_structure_factor overlap s4_wavevectors"
        ),
        "analysis.mobility": "MOBILITY_MEASURES mobility_names",
        "analysis.relaxation": (
            "DYNAMICS_COLUMNS LIQUID_COLUMNS aging_dynamics diffusion_coefficient liquid_relaxation "
            "relaxation_time time_origin_pairs"
        ),
        "analysis.scattering": (
            "capped_selection first_peak first_peak_q overlap_fourier_amplitudes reciprocal_lattice_vectors "
            "self_intermediate_scattering structure_factor"
        ),
        "core.schedule": "WINDOW_TOLERANCE",
        "stages.dynamics": (
            "POSITION_MATCH_TOLERANCE compute_aging_dynamics compute_liquid_relaxation compute_mobility"
        ),
    },
    "engines": {
        "md.engines": "ENGINES create_engine hoomd_available resolve_engine_name",
    },
    "engines.base": {
        "errors": "SimulationBlowUp",
        "md.engines.base": "Engine THERMOSTATS Thermostat",
    },
    "engines.hoomd_engine": {
        "md.engines.hoomd_engine": "HoomdEngine NEIGHBOR_BUFFER TABLE_POINTS TABLE_R_MIN",
    },
    "engines.lammps_engine": {
        "md.engines.lammps_engine": "LammpsEngine lammps_available",
    },
    "external": {
        "plots.external": "plot_external",
        "stages.external": (
            "EXTERNAL_KEYS NUMPY_ENERGY_MAX_N PROPENSITY analyse_external check_entry "
            "correlate_with_propensity load_configurations potential_energies resolve_paths system_for_state"
        ),
    },
    "findings": {
        "analysis.statistics": "Z95 wilson_interval",
        "core.keys": "ALL_AGES",
        "report.findings": (
            "DEFAULT_SPECIES READERS SECTION_TITLES STAGE_DIRECTORIES accuracy_table aging_findings "
            "baselines_findings classification_finding correlation_finding findings findings_rst fmt "
            "labels_of learning_curve_finding length_findings load_results png_data_uri "
            "register_report_directives relaxation_findings rst_to_html strongest_correlations "
            "write_findings"
        ),
    },
    "gradcam": {
        "core.keys": "SAMPLE_KEY",
        "learn.gradcam": (
            "gradcam_maps model_grid particle_gradcam upsample_periodic voxelize_for_model"
        ),
        "stages.explain": "explain",
    },
    "hamiltonian": {
        "core.hamiltonian": "PairEvaluation evaluate_pairs minimum_image pressure shifted_pair",
    },
    "indicators": {
        "analysis.structure": (
            "ICOSAHEDRAL_INDEX INDICATORS_2D INDICATORS_3D NEIGHBOR_MODES VORONOI_TOLERANCE coarse_grain "
            "icosahedral_centres indicator_names indicators_for_states raw_indicators rdf_first_minimum "
            "voronoi_face_edges voronoi_index"
        ),
        "core.keys": "POTENTIAL_ENERGY_KEY",
        "core.neighbors": "freud_system",
        "io.gsd": "per_frame_scalars",
        "stages.indicators": "compute_indicators",
    },
    "model": {
        "learn.model": "GlassCNN MODEL_KEYS NORMS POOLS build_model",
        "stages.models": "load_checkpoint save_checkpoint",
    },
    "outputs": {
        "io.tables": "open_h5 read_json write_table",
    },
    "protocols": {
        "core.schedule": "log_spaced_steps",
        "io.checkpoints": "Checkpoint",
        "io.checks": "check_state",
        "md.protocols": (
            "MAX_ENERGY_PER_PARTICLE Recorder equilibrate_and_sample inherent_structure kinetic_temperature "
            "lattice_state log_spaced_run maxwell_boltzmann melt quench remove_overlaps thermo_log"
        ),
    },
    "provenance": {
        "io.provenance": "TRACKED_PACKAGES config_hash decode_json encode_json package_versions provenance",
    },
    "readers": {
        "analysis.displacement": "replica_propensity",
        "core.periodic": "wrap_into_box",
        "errors": "ReaderError",
        "io.checks": (
            "BOX_RTOL MAX_UNWRAP_FRACTION MIN_SEPARATION ReplicaSet Trajectory UNWRAP_MODES box_length_of "
            "check_consistent check_state map_types unwrap_by_minimum_image"
        ),
        "io.foreign": "FORMATS NPZ_KEYS SUFFIXES detect_format read_ase read_npz read_trajectory",
        "io.gsd": "read_gsd read_gsd_frame",
    },
    "resources": {
        "support.resources": "MD_GRES_SHARED MD_RULES gpu_units md_gres",
    },
    "runlog": {
        "support.runlog": "redirect_to_log",
    },
    "seeds": {
        "core.seeds": "derive_seed rng",
    },
    "simulate": {
        "stages.simulate": (
            "age equilibrate_liquid inherent_structures initialize liquid_dynamics propensity_replicas "
            "quench"
        ),
    },
    "study": {
        "report.study": (
            "DYNAMICS best_descriptor dynamics_correlations markdown_tables realised_ages "
            "rearrangement_table summarize_study"
        ),
    },
    "systems": {
        "core.systems": "CUTOFF_MODES FORMS PairParameters System system_from_config",
    },
    "tasks": {
        "core.schedule": "frames_in_window log_frame_times",
        "core.tasks": (
            "DEFAULT_TASKS TASK_KINDS class_names equilibrium_kinetic_temperature_sd kinetic_relaxation_time "
            "task_by_name tasks_of"
        ),
    },
    "training": {
        "core.tasks": "SPLITS",
        "io.datasets": "load_dataset",
        "learn.device": "resolve_device",
        "learn.training": (
            "accuracy_by_group augment_batch energy_threshold_baseline evaluate "
            "fit_classifier point_group recalibrate_batchnorm"
        ),
        "stages.train": "learning_curve train_classifier",
    },
    "trajectory": {
        "core.keys": "PROVENANCE_KEY TIME_KEY per_particle_key",
        "core.periodic": "wrap",
        "core.state": "State",
        "errors": "DamagedFile TrajectoryError",
        "io.atomic": "atomic_output damaged",
        "io.gsd": (
            "frame_from_state open_trajectory read_logs read_provenance read_state read_states "
            "state_from_frame write_states"
        ),
    },
    "voxelize": {
        "core.grid": "cell_centres grid_points",
        "learn.voxelize": "DEFAULT_TRUNCATION read_at_particles voxelize_gaussian",
    },
}

# old modules that were packages (their submodules have entries of their own)
PACKAGES = {"engines"}


def new_home(old_module: str, name: str) -> str | None:
    """The module (``glasscam.…``) that now holds ``name`` of ``glasscam.<old_module>``, or None."""
    for target, names in MOVED.get(old_module, {}).items():
        if name in names.split():
            return f"glasscam.{target}"
    return None


def _positional_as_keywords(func, where: str):
    """``func`` (keyword-only parameters) accepting its arguments positionally, in declaration order."""
    names = [p.name for p in inspect.signature(func).parameters.values() if p.kind is p.KEYWORD_ONLY]

    @functools.wraps(func)
    def call(*args, **kwargs):
        if args:
            if len(args) > len(names):
                raise TypeError(f"{where}() takes at most {len(names)} arguments ({len(args)} given)")
            clash = [n for n in names[: len(args)] if n in kwargs]
            if clash:
                raise TypeError(f"{where}() got multiple values for {clash}")
            warnings.warn(f"{where}() is keyword-only now: call it as {where}({', '.join(f'{n}=…' for n in names[:len(args)])}"
                          f"{', …' if kwargs else ''})", DeprecationWarning, stacklevel=2)
            kwargs.update(zip(names, args, strict=False))
        return func(**kwargs)

    return call


class _MovedModule(types.ModuleType):
    """An old flat module whose names live elsewhere now (see :data:`MOVED`)."""

    def __getattr__(self, name: str):
        old = self.__name__.removeprefix("glasscam.")
        home = new_home(old, name)
        if home is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}: glasscam's flat modules were "
                                 "split into core/analysis/md/learn/io/stages (docs/howto/migrate.md)")
        warnings.warn(f"{self.__name__}.{name} moved to {home}.{name}; the old path will be removed",
                      DeprecationWarning, stacklevel=2)
        value = getattr(importlib.import_module(home), name)
        kinds = {p.kind for p in inspect.signature(value).parameters.values()} if inspect.isfunction(value) else set()
        if inspect.Parameter.KEYWORD_ONLY in kinds and not kinds & {inspect.Parameter.POSITIONAL_ONLY,
                                                                      inspect.Parameter.POSITIONAL_OR_KEYWORD}:
            value = _positional_as_keywords(value, f"{home}.{name}")
        setattr(self, name, value)  # warn once per name and module
        return value

    def __dir__(self):
        old = self.__name__.removeprefix("glasscam.")
        return sorted({n for names in MOVED.get(old, {}).values() for n in names.split()})


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``glasscam.<old module>`` for the modules of :data:`MOVED` that no longer exist."""

    def find_spec(self, fullname, path=None, target=None):
        old = fullname.removeprefix("glasscam.")
        if not fullname.startswith("glasscam.") or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=old in PACKAGES)

    def create_module(self, spec):
        return _MovedModule(spec.name, f"moved: see glasscam._moved.MOVED[{spec.name.removeprefix('glasscam.')!r}]")

    def exec_module(self, module):
        if module.__spec__.submodule_search_locations is not None:
            module.__path__ = []


def install() -> None:
    """Put the finder on ``sys.meta_path`` (after the regular finders: real modules win)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
