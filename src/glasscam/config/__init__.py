"""Configuration: schema validation, physical consistency checks, per-system protocol merging.

``validate_config`` is called by the Snakefile before any job is scheduled; every error names
the offending key as a dotted path (``systems.ka3d.composition``). Everything that can be known
from the configuration is checked here, including quantities derived from two keys (aging frames
for the glass ages, mobility windows inside the aging run, a voxel grid that resolves the
Gaussian, a Grad-CAM layer the model has, a per-particle key the pipeline writes, a time step in
the stable range of the pair potential).
"""

from __future__ import annotations

import sys
from pathlib import Path

from glasscam.config.checks import physics_errors
from glasscam.config.load import (
    _merge,
    drop_null_entries,
    load_yaml,
    merge_errors,
    physics_keys,
    protocol_for,
    restore_numbers,
    schema_errors,
)
from glasscam.errors import ConfigError

__all__ = ["ConfigError", "load_yaml", "merged_config", "physics_keys", "protocol_for", "validate_config", "main"]


def validate_config(config: dict, schema_path: str | Path, configfiles: list | None = None) -> dict:
    """Validate ``config`` against the JSON schema and the physics checks; raise
    :class:`ConfigError` listing every offending key. Returns ``config``.

    ``configfiles``: the files merged into ``config``, in merge order (the workflow's
    config.yaml, then each ``--configfile``); with them, numbers PyYAML left as text (``5e-3``)
    are restored in place (:func:`restore_numbers`), and species mappings renamed by a later file
    while the earlier entries survive the merge are reported with both file names. Species-mapping
    entries set to ``null`` are removed from ``config`` in place (how a later file drops an
    entry of an earlier one).
    """
    errors = []
    if configfiles:
        restore_numbers(config, configfiles)
        errors += merge_errors([(str(path), load_yaml(path)) for path in configfiles])
    drop_null_entries(config)
    schema = load_yaml(schema_path)
    errors += schema_errors(config, schema)
    if not errors:
        errors = physics_errors(config)
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    return config


def main(argv: list[str] | None = None) -> int:
    """``python -m glasscam.config [FILE …]``: merge FILEs over the workflow's config.yaml as
    Snakemake does and validate, naming file and line of a YAML syntax error (Snakemake's own
    message for one names neither)."""

    try:
        _, files = merged_config(sys.argv[1:] if argv is None else argv)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"configuration {' + '.join(map(str, files))} is valid")
    return 0




def merged_config(paths) -> tuple[dict, list[Path]]:
    """The configuration the DAG would see for ``--configfile paths…``: each file merged in order
    over the workflow's own config.yaml (as Snakemake merges them), validated. Returns (config,
    the files in merge order); raises :class:`ConfigError` naming key, file or line."""
    root = Path(__file__).resolve().parents[3]
    default = root / "config.yaml"
    files = [default, *(Path(p) for p in paths if Path(p).resolve() != default.resolve())]
    config: dict = {}
    for path in files:
        _merge(config, load_yaml(path))
    validate_config(config, root / "workflow" / "schemas" / "config.schema.yaml", files)
    return config, files
