"""Grad-CAM maps of the trained classifier, per voxel and per particle.

Grad-CAM (Selvaraju et al. 2017) for class c at the feature maps A_k (shape m^d) of a conv block:

    α_k = (1/m^d) Σ_g ∂y_c/∂A_k(g),      M_c(g) = ReLU(Σ_k α_k A_k(g)),

computed with Captum's ``LayerGradCam`` (y_c = logit of class c). M_c lives on the block's grid of
m = n/s cells (s = pooling stride up to that block); feature cell j covers input cells
[js, (j+1)s), centred at −L/2 + (j+½)L/m. It is upsampled to the input grid by periodic linear
interpolation between those centres (circular pad, linear interpolation, crop) and read at each
particle by periodic (bi/tri)linear interpolation (:func:`glasscam.voxelize.read_at_particles`).
Values are in logit units per feature-map cell; compare them within a map, not across models.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam

from .model import load_checkpoint
from .provenance import decode_json
from .provenance import provenance as make_provenance
from .trajectory import (
    PROVENANCE_KEY,
    TIME_KEY,
    TrajectoryError,
    atomic_output,
    open_trajectory,
    per_particle_key,
    state_from_frame,
    write_states,
)
from .training import resolve_device
from .voxelize import read_at_particles

GRADCAM_DEFAULTS = {"layer": "last", "batch_size": 16, "include_liquid": True}
SAMPLE_KEY = "glasscam/sample"


def upsample_periodic(maps: torch.Tensor, factor: int) -> torch.Tensor:
    """Periodic (bi/tri)linear upsampling of (B, C, m, …) by an integer ``factor`` s → (B, C, sm, …).

    Coarse cell j is centred at fine-cell coordinate (j+½)s − ½; fine cells between the last and
    first coarse centres interpolate across the boundary.
    """
    if factor == 1:
        return maps
    d = maps.ndim - 2
    padded = F.pad(maps, (1, 1) * d, mode="circular")
    mode = "bilinear" if d == 2 else "trilinear"
    fine = F.interpolate(padded, scale_factor=factor, mode=mode, align_corners=False)
    crop = (slice(None), slice(None)) + (slice(factor, -factor),) * d
    return fine[crop]


def gradcam_maps(model: torch.nn.Module, layer: torch.nn.Module, images: torch.Tensor, n_classes: int,
                 stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Grad-CAM of every class, upsampled to the input grid: (B, n_classes, *grid), and class
    probabilities (B, n_classes)."""
    cam = LayerGradCam(model, layer)
    per_class = [cam.attribute(images, target=c, relu_attributions=True).detach() for c in range(n_classes)]
    maps = upsample_periodic(torch.cat(per_class, dim=1), stride)
    with torch.no_grad():
        probability = torch.softmax(model(images), dim=1)
    return maps, probability


def _check_cfg(gradcam_cfg: dict) -> dict:
    unknown = set(gradcam_cfg) - set(GRADCAM_DEFAULTS)
    if unknown:
        raise ValueError(f"gradcam: unknown keys {sorted(unknown)}; expected a subset of {list(GRADCAM_DEFAULTS)}")
    cfg = {**GRADCAM_DEFAULTS, **gradcam_cfg}
    if int(cfg["batch_size"]) < 1:
        raise ValueError(f"gradcam.batch_size = {cfg['batch_size']!r}; must be ≥ 1")
    return cfg


def _read_glass_frames(glass_gsd, labels: np.ndarray):
    """States and per-frame logs of the glass trajectory, checked against the dataset labels."""
    with open_trajectory(glass_gsd) as traj:
        chunk = f"log/{SAMPLE_KEY}"
        missing = [i for i in range(traj.file.nframes) if not traj.file.chunk_exists(i, chunk)]
        if missing:
            raise TrajectoryError(f"{glass_gsd}: frames {missing[:5]} lack {chunk}")
        frames = list(traj)
        upstream = decode_json(frames[0].log[PROVENANCE_KEY])
    states, logs, samples = [], [], []
    for i, frame in enumerate(frames):
        k = int(frame.log[SAMPLE_KEY][0])
        if not 0 <= k < len(labels) or labels[k] != 1:
            raise TrajectoryError(f"{glass_gsd}: frame {i} names sample {k}, which is not a glass sample of the dataset")
        states.append(state_from_frame(frame))
        logs.append({key: np.asarray(v) for key, v in frame.log.items() if key not in (PROVENANCE_KEY, TIME_KEY)})
        samples.append(k)
    return states, logs, samples, upstream


def explain(dataset_h5, model_path, glass_gsd, out_h5, out_gsd, gradcam_cfg: dict, device: str = "auto") -> dict:
    """Grad-CAM of every class for every glass sample (and liquid samples when
    ``gradcam_cfg["include_liquid"]``): maps to ``out_h5``; the frames of ``glass_gsd`` with
    per-particle ``gradcam_glass`` / ``gradcam_liquid`` log arrays to ``out_gsd``.

    ``gradcam_cfg`` keys (defaults :data:`GRADCAM_DEFAULTS`): layer ("last" or a conv-block
    index), batch_size, include_liquid. Returns a summary (samples, layer, stride, device).
    """
    cfg = _check_cfg(gradcam_cfg)
    dev = resolve_device(device)
    model, checkpoint = load_checkpoint(model_path, dev)
    layer = model.gradcam_layer(cfg["layer"])
    stride = model.layer_stride(cfg["layer"])
    try:
        dataset = h5py.File(dataset_h5, "r")
    except OSError as err:
        raise FileNotFoundError(f"{dataset_h5}: not a readable HDF5 dataset ({err})") from err
    with dataset as h5:
        labels, split = h5["labels"][:], h5["split"][:]
        attrs = {key: h5.attrs[key] for key in ("box_length", "dimensions", "class_names", "spacing")}
        class_names = [str(c) for c in attrs["class_names"]]
        if class_names != checkpoint["class_names"]:
            raise ValueError(f"{dataset_h5}: classes {class_names} differ from the model's {checkpoint['class_names']}")
        states, logs, gsd_samples, upstream = _read_glass_frames(glass_gsd, labels)
        selected = np.arange(len(labels)) if cfg["include_liquid"] else np.flatnonzero(labels == 1)
        grid = h5["images"].shape[2:]
        box_length, dimensions = float(attrs["box_length"]), int(attrs["dimensions"])
        if states[0].dimensions != dimensions or not np.isclose(states[0].box_length, box_length, rtol=1e-6):
            raise TrajectoryError(f"{glass_gsd}: box L = {states[0].box_length:g} (d = {states[0].dimensions}) differs "
                                  f"from the dataset's L = {box_length:g} (d = {dimensions})")
        frames_of_sample: dict[int, list[int]] = {}
        for i, k in enumerate(gsd_samples):
            frames_of_sample.setdefault(k, []).append(i)
        record = make_provenance(
            {"gradcam": cfg}, stage="gradcam", device=str(dev), dataset=str(dataset_h5), model=str(model_path),
            glass_trajectory=str(glass_gsd), model_provenance=checkpoint["provenance"], glass_provenance=upstream,
        )
        n_classes = len(class_names)
        per_particle = [None] * len(states)
        with atomic_output(out_h5) as tmp, h5py.File(tmp, "w") as out:
            maps_out = out.create_dataset(
                "maps", shape=(len(selected), n_classes) + tuple(grid), dtype=np.float32,
                chunks=(1, n_classes) + tuple(grid), compression="gzip", compression_opts=4, shuffle=True,
            )
            probability_out = out.create_dataset("probability", shape=(len(selected), n_classes), dtype=np.float32)
            batch_size = int(cfg["batch_size"])
            for start in range(0, len(selected), batch_size):
                rows = selected[start : start + batch_size]
                images = torch.from_numpy(h5["images"][rows].astype(np.float32)).to(dev)
                maps, probability = gradcam_maps(model, layer, images, n_classes, stride)
                maps, probability = maps.cpu().numpy(), probability.cpu().numpy()
                maps_out[start : start + len(rows)] = maps
                probability_out[start : start + len(rows)] = probability
                for j, k in enumerate(rows):
                    for i in frames_of_sample.get(int(k), []):
                        per_particle[i] = read_at_particles(maps[j], states[i].positions, box_length, dimensions)
            out.create_dataset("sample", data=selected.astype(np.int64))
            out.create_dataset("labels", data=labels[selected])
            out.create_dataset("split", data=split[selected])
            out.attrs["class_names"] = class_names
            out.attrs["layer"] = str(cfg["layer"])
            out.attrs["layer_stride"] = stride
            out.attrs["box_length"] = box_length
            out.attrs["dimensions"] = dimensions
            out.attrs["spacing"] = float(attrs["spacing"])
            out.attrs["provenance"] = json.dumps(record, sort_keys=True, default=str)
    for i, values in enumerate(per_particle):
        for c, name in enumerate(class_names):
            logs[i][per_particle_key(f"gradcam_{name}")] = values[c].astype(np.float32)
    write_states(out_gsd, states, record, logs)
    return {"samples": int(len(selected)), "glass_frames": len(states), "layer": str(cfg["layer"]),
            "layer_stride": stride, "device": str(dev)}
