"""Stages of the correlation rules: Grad-CAM and descriptors against mobility, and the Grad-CAM
correlation length."""

import numpy as np

from glasscam.analysis.correlations import (
    CORRELATION_COLUMNS,
    CorrelationOptions,
    _check_aligned,
    _length_records,
    _particle_arrays,
    _per_frame,
    _rows_for_field,
    _targets,
    gradcam_fields,
)
from glasscam.analysis.sanity import sanity_columns, sanity_table
from glasscam.core.keys import ALL_AGES, RUN_KEY
from glasscam.io.gsd import read_logs, read_provenance, read_states
from glasscam.io.provenance import config_hash
from glasscam.io.tables import read_table, write_json, write_table


def _class_names(path) -> list[str] | None:
    return read_provenance(path).get("class_names")


def _correlation_setup(paths: dict, correlation_cfg: dict):
    options = CorrelationOptions.from_config(correlation_cfg)  # refuse a bad setting before reading any file
    n_bootstrap, n_null = int(options.n_bootstrap), int(options.n_null)
    logs = {str(p): read_logs(p) for p in paths.values()}
    states = {str(p): read_states(p) for p in paths.values()}
    _check_aligned(logs, states)
    reference = states[str(next(iter(paths.values())))]
    ages = np.array([s.time for s in reference])
    groups = [(ALL_AGES, np.arange(len(reference)))] + [(float(t), np.flatnonzero(ages == t)) for t in np.unique(ages)]
    types = reference[0].types
    species_masks = {"all": [np.ones(len(s.typeid), bool) for s in reference]}
    species_masks.update({t: [s.typeid == i for s in reference] for i, t in enumerate(types)})
    return logs, groups, species_masks, n_bootstrap, n_null


def _write_rows(out_csv, rows: list[dict]) -> None:
    write_table(out_csv, rows, CORRELATION_COLUMNS)


def frame_runs(logs: list[dict]) -> np.ndarray | None:
    """The run (lineage) of every frame from its ``glasscam/run`` log; None if a frame lacks it
    (then no run-level intervals)."""
    if not logs or any(RUN_KEY not in log for log in logs):
        return None
    return np.array([int(np.ravel(log[RUN_KEY])[0]) for log in logs])


def correlate(*, gradcam_gsd, indicators_gsd, mobility_gsd, out_csv, correlation_cfg: dict, seed: int,
              settings: dict | None = None) -> None:
    """Within-frame correlations of the per-particle Grad-CAM field(s) (:func:`gradcam_fields`:
    ReLU and signed map of the positive class by default) with every indicator (raw and
    coarse-grained) and every mobility measure, per species (all and each type) and per aging
    time → tidy CSV (:data:`CORRELATION_COLUMNS`; ``field`` names the Grad-CAM array).

    Column ``t_w``: ``all`` for the n-weighted mean over every frame, else the aging time
    (``glasscam/time`` of the Grad-CAM frames, τ) whose frames were pooled; every coefficient is
    a particle-level (within-frame) one, see the module docstring. Frames where fewer than 3
    particles have finite values, or either field is constant — e.g. an identically zero ReLU
    map — are left out: ``n_samples`` counts the frames used, ``n_zero_maps`` the frames of the
    group whose field is identically zero.

    ``correlation_cfg``: the config ``correlations`` mapping (keys, defaults and units:
    :class:`~glasscam.analysis.correlations.CorrelationOptions`; ``length`` is not read).
    ``seed``: root seed for resampling.
    The three files must hold the same frames (equal ``glasscam/sample`` sequences).
    Frames carrying ``glasscam/run`` get run-level intervals (runs resampled); ``settings`` (the
    config keys that made the model) is recorded as its hash in column ``settings_hash``.
    """
    paths = {"gradcam": gradcam_gsd, "indicator": indicators_gsd, "mobility": mobility_gsd}
    logs, groups, species_masks, n_bootstrap, n_null = _correlation_setup(paths, correlation_cfg)
    gradcam_logs = logs[str(gradcam_gsd)]
    fields = gradcam_fields(correlation_cfg, _particle_arrays(gradcam_logs[0]), _class_names(gradcam_gsd))
    targets = _targets(logs, paths, ("indicator", "mobility"))
    runs = frame_runs(gradcam_logs)
    extra = {"settings_hash": config_hash(settings)} if settings is not None else {}
    rows = []
    for i, field in enumerate(fields):
        rows += _rows_for_field(field, _per_frame(gradcam_logs, field, gradcam_gsd), targets, species_masks, groups,
                                n_null, n_bootstrap, seed, stream=(field,) if i else (), runs=runs, extra=extra)
    _write_rows(out_csv, rows)


def correlate_descriptors(*, indicators_gsd, mobility_gsd, out_csv, correlation_cfg: dict, seed: int) -> None:
    """The classical side of the comparison: within-frame correlations of every structural
    indicator (raw and coarse-grained; ``field`` column) with every mobility measure
    (mobility, cage-relative displacement, propensity per Δt), per species and t_w, with the
    same bootstrap intervals and shuffled null as :func:`correlate`."""
    paths = {"indicator": indicators_gsd, "mobility": mobility_gsd}
    logs, groups, species_masks, n_bootstrap, n_null = _correlation_setup(paths, correlation_cfg)
    targets = _targets(logs, paths, ("mobility",))
    runs = frame_runs(logs[str(indicators_gsd)])
    rows = []
    for kind, name, _quantity, _cg, _window, values in _targets(logs, paths, ("indicator",)):
        rows += _rows_for_field(name, values, targets, species_masks, groups, n_null, n_bootstrap, seed, stream=(name,),
                                runs=runs)
    _write_rows(out_csv, rows)


def gradcam_correlation_length(*, gradcam_gsd, out_json, cfg: dict, seed: int = 0) -> None:
    """C(r) of each standardised per-particle attribution field and ξ from C(r) = A exp(−r/ξ)
    fitted from the peak of C(r) (fit range, R², reduced χ² and a ``reliable``/``flag`` verdict per
    fit, :func:`glasscam.analysis.correlations.fit_correlation_length`), for all frames and per
    group of frames sharing the values of the ``cfg['group_by']`` logs — the ReLU map at the top
    level of the JSON, the signed map under ``signed``, every further attribution field
    (:func:`gradcam_fields`) under ``attributions`` {field: record}.

    ``cfg``: the ``correlations.length`` keys beside ``gradcam_key`` and ``attributions``
    (:meth:`~glasscam.analysis.correlations.CorrelationOptions.from_length_cfg`; defaults and units:
    :class:`~glasscam.analysis.correlations.CorrelationLengthOptions`), recorded as given under
    ``config``. Frames whose field is constant are skipped (counted in the JSON); if every frame
    is, the record says so instead of a C(r).
    """
    options = CorrelationOptions.from_length_cfg(cfg)  # refuse a bad setting before reading any file
    states = read_states(gradcam_gsd)
    logs = read_logs(gradcam_gsd)
    fields = gradcam_fields(options, _particle_arrays(logs[0]), _class_names(gradcam_gsd))
    records = _length_records(gradcam_gsd, states, logs, fields, options.length, seed, recorded=cfg)
    record = records[fields[0]]
    if len(fields) > 1 and fields[1].startswith("gradcam_signed_"):
        record["signed"] = records[fields[1]]
    extra = [f for f in fields[1:] if f != fields[1] or not fields[1].startswith("gradcam_signed_")]
    if extra:
        record["attributions"] = {f: records[f] for f in extra}
    write_json(out_json, record, indent=2)


def sanity_nulls(model_csv, control_csvs: dict[str, list], out_csv) -> list[dict]:
    """The sanity-null table (:func:`glasscam.analysis.sanity.sanity_table`) of one task: the
    model's correlation table ``model_csv`` against each control's tables ``control_csvs``
    ({control: [CSV of seed 0, seed 1, …]}, made by :func:`correlate` from the control models of
    :func:`glasscam.stages.train.train_control`) → ``out_csv``. A control table made under other
    settings than the model's (``settings_hash``) is refused, naming both files."""
    model_rows = read_table(model_csv)
    controls = {name: [read_table(p) for p in paths] for name, paths in control_csvs.items()}
    reference = {r.get("settings_hash") for r in model_rows}
    for name, paths in control_csvs.items():
        for path, rows in zip(paths, controls[name], strict=True):
            recorded = {r.get("settings_hash") for r in rows}
            if recorded != reference:
                raise ValueError(f"{path}: settings_hash {sorted(map(str, recorded))} differs from the model's "
                                 f"{sorted(map(str, reference))} in {model_csv}; rerun both under the same config")
    rows = sanity_table(model_rows, controls)
    write_table(out_csv, rows, sanity_columns(list(controls)))
    return rows
