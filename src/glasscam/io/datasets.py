"""HDF5 layouts: the voxelized dataset and the Grad-CAM maps, written atomically and read back."""

import contextlib
import json

import h5py
import numpy as np
import torch

from glasscam.core.tasks import SPLITS
from glasscam.io.atomic import atomic_output
from glasscam.io.tables import open_h5


@contextlib.contextmanager
def dataset_writer(path, image_shape: tuple[int, ...]):
    """Write a voxelized dataset atomically: yields ``(images, finish)``.

    ``images``: the HDF5 dataset ``images`` of shape ``image_shape`` = (S, n_types, n, …, n),
    float32, gzip, one chunk per sample — fill it row by row (the stage voxelizes one trajectory
    at a time, so memory stays at one image). ``finish(columns, attrs)``: per-sample columns
    ``{name: array or list of str}`` and file attributes, written in the order given (the HDF5
    layout then does not depend on dict order elsewhere). Nothing appears at ``path`` unless the
    block completes. Read back with :func:`load_dataset`."""
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            images = h5.create_dataset(
                "images", shape=tuple(image_shape), dtype=np.float32,
                chunks=(1,) + tuple(image_shape[1:]), compression="gzip", compression_opts=4, shuffle=True,
            )

            def finish(columns: dict, attrs: dict) -> None:
                for name, values in columns.items():
                    if isinstance(values, list) and all(isinstance(v, str) for v in values):
                        h5.create_dataset(name, data=values, dtype=h5py.string_dtype())
                    else:
                        h5.create_dataset(name, data=values)
                for name, value in attrs.items():
                    h5.attrs[name] = value

            yield images, finish


def write_gradcam_maps(path, relu: np.ndarray, signed: np.ndarray, columns: dict, attrs: dict) -> None:
    """Grad-CAM maps of S samples: ``maps`` (ReLU) and ``signed_maps``, ``(S, n_classes, *grid)``
    float32, gzip, one chunk per sample map; then per-sample ``columns`` and file ``attrs`` in the
    order given; written atomically."""
    grid_shape = relu.shape[1:]
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as out:
        for key, data in (("maps", relu), ("signed_maps", signed)):
            out.create_dataset(key, data=data.astype(np.float32), chunks=(1,) + grid_shape,
                               compression="gzip", compression_opts=4, shuffle=True)
        for name, values in columns.items():
            out.create_dataset(name, data=values)
        for name, value in attrs.items():
            out.attrs[name] = value


def load_dataset(dataset_h5) -> dict:
    """Images, labels and split of a dataset file as tensors, plus its attributes."""
    with open_h5(dataset_h5) as h5:
        for key in ("images", "labels", "split", "run", "temperature", "time", "potential_energy"):
            if key not in h5:
                raise KeyError(f"{dataset_h5}: no '{key}' dataset")
        for key in ("dimensions", "class_names"):
            if key not in h5.attrs:
                raise KeyError(f"{dataset_h5}: no '{key}' attribute")
        data = {
            "images": torch.from_numpy(h5["images"][:].astype(np.float32)),
            "labels": torch.from_numpy(h5["labels"][:].astype(np.int64)),
            "split": h5["split"][:].astype(np.int64),
            "run": h5["run"][:].astype(np.int64),
            "temperature": h5["temperature"][:].astype(np.float64),
            "time": h5["time"][:].astype(np.float64),
            "potential_energy": h5["potential_energy"][:].astype(np.float64),
            "kinetic_temperature": (h5["kinetic_temperature"][:].astype(np.float64) if "kinetic_temperature" in h5
                                    else np.full(len(h5["labels"]), np.nan)),
            "dimensions": int(h5.attrs["dimensions"]),
            "grid": ({"spacing": float(h5.attrs["spacing"]), "width": float(h5.attrs["width"]),
                      "truncation": float(h5.attrs["truncation"]), "box_length": float(h5.attrs["box_length"]),
                      "grid_multiple": int(h5.attrs.get("grid_multiple", 1)), "n": int(h5["images"].shape[-1])}
                     if all(k in h5.attrs for k in ("spacing", "width", "truncation", "box_length")) else None),
            "class_names": [str(c) for c in h5.attrs["class_names"]],
            "provenance": json.loads(h5.attrs.get("provenance", "{}")),
            "path": str(dataset_h5),
        }
    data["in_channels"] = int(data["images"].shape[1])
    for name, k in SPLITS.items():
        if not np.any(data["split"] == k):
            raise ValueError(f"{dataset_h5}: the {name} split is empty")
    return data
