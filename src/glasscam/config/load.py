"""Loading and merging YAML configuration files; schema errors as dotted keys."""

import copy
import re
from pathlib import Path

import jsonschema
import yaml

from glasscam.errors import ConfigError


def _dotted(path) -> str:
    return ".".join(str(p) for p in path) or "<root>"


# YAML 1.2 (and JSON, Python) read 5e-3 and 1.0e3 as numbers; PyYAML implements YAML 1.1, whose
# float needs a dot and a signed exponent, so `dt: 5e-3` would be the text '5e-3'
SCIENTIFIC = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core-schema float: numbers in scientific notation
    without a dot or without an exponent sign (``5e-3``, ``1e3``, ``1.0e3``) are floats."""


ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:float", SCIENTIFIC, list("-+0123456789."))


def restore_numbers(config: dict, files: list) -> dict:
    """``config`` (in place) with the scalars that YAML 1.2 reads as numbers but PyYAML left as
    text — Snakemake parses ``--configfile`` with PyYAML — turned back into floats: where the
    ``files`` merged in order with :func:`load_yaml` give a float and ``config`` holds the text
    of it. Quoted text ('5e-3') stays text, since YAML 1.2 reads it as text too."""
    merged: dict = {}
    for path in files:
        _merge(merged, load_yaml(path))

    def walk(target, reference):
        for key, value in reference.items():
            if key not in target:
                continue
            if isinstance(value, dict) and isinstance(target[key], dict):
                walk(target[key], value)
            elif isinstance(value, float) and isinstance(target[key], str) and SCIENTIFIC.match(target[key]):
                target[key] = value

    walk(config, merged)
    return config


def load_yaml(path: str | Path) -> dict:
    """The mapping in YAML file ``path`` (numbers as YAML 1.2 reads them, :class:`ConfigLoader`);
    a syntax error names the file, line and column."""
    try:
        with open(path) as fh:
            data = yaml.load(fh, Loader=ConfigLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        what = "; ".join(str(m) for m in (err.context, err.problem) if m)
        raise ConfigError(f"{where}: YAML syntax error: {what}") from err
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


FREE_TEXT_KEYS = ("description", "source")


def physics_keys(spec):
    """``spec`` without free text (``description`` and every ``source``, at any depth): what a
    job's params may depend on, so that editing a citation or a description reruns nothing."""
    if isinstance(spec, dict):
        return {k: physics_keys(v) for k, v in spec.items() if k not in FREE_TEXT_KEYS}
    if isinstance(spec, list):
        return [physics_keys(v) for v in spec]
    return spec


#: per-system mappings whose keys name species or pairs: a later config file that renames them
#: leaves the earlier file's entries in place (Snakemake merges mappings key by key)
SPECIES_MAPPINGS = (("composition",), ("masses",), ("potential", "pairs"))


def _get(mapping, path):
    for key in path:
        if not isinstance(mapping, dict) or key not in mapping:
            return None
        mapping = mapping[key]
    return mapping


def drop_null_entries(config: dict) -> None:
    """Remove entries set to ``null`` from the species mappings of every system, in place:
    the documented way to drop an entry of an earlier config file (``A: null``)."""
    for spec in (config.get("systems") or {}).values():
        for path in SPECIES_MAPPINGS:
            mapping = _get(spec, path)
            if isinstance(mapping, dict):
                for key in [k for k, v in mapping.items() if v is None]:
                    del mapping[key]


def merge_errors(files: list[tuple[str, dict]]) -> list[str]:
    """Species mappings that a later config file renames while the earlier file's entries
    survive the merge. ``files``: (name, content) in merge order (the workflow's config.yaml
    first, then each ``--configfile``)."""
    errors = []
    names = sorted({name for _, content in files for name in (content.get("systems") or {})})
    for system in names:
        for path in SPECIES_MAPPINGS:
            origin: dict[str, str] = {}  # entry → file it last came from
            for filename, content in files:
                mapping = _get(content, ("systems", system, *path))
                if not isinstance(mapping, dict):
                    continue
                given = set(mapping)
                new = [k for k in mapping if k not in origin and mapping[k] is not None]
                surviving = [k for k in origin if k not in given]
                if new and surviving:
                    sources = sorted({origin[k] for k in surviving})
                    key = _dotted(("systems", system, *path))
                    errors.append(
                        f"{key}: entries {surviving} come from {', '.join(sources)} and survive beside "
                        f"{new} from {filename}, because Snakemake merges a --configfile into the earlier "
                        f"files mapping by mapping. To replace the mapping, set the entries to drop to null in "
                        f"{filename} ({', '.join(f'{k}: null' for k in surviving)}), or pass a complete "
                        f"configuration with --replace-workflow-config"
                    )
                for k, v in mapping.items():
                    if v is None:
                        origin.pop(k, None)
                    else:
                        origin[k] = filename
    return errors


def _merge(base: dict, override: dict) -> None:
    """Recursive update, as Snakemake merges configuration files."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
