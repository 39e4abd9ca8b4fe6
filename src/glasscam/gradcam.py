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

from tqdm import tqdm

from .model import load_checkpoint
from .provenance import decode_json
from .provenance import provenance as make_provenance
from .trajectory import (
    PROVENANCE_KEY,
    TIME_KEY,
    State,
    TrajectoryError,
    atomic_output,
    open_trajectory,
    per_particle_key,
    state_from_frame,
    write_states,
)
from .training import resolve_device
from .voxelize import grid_points, read_at_particles, voxelize_gaussian

GRADCAM_DEFAULTS = {"layer": "last", "batch_size": 16}
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
                 stride: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Grad-CAM of every class, upsampled to the input grid: the ReLU maps M_c (B, n_classes,
    *grid), the signed maps Σ_k α_k A_k before the ReLU (same shape; an all-negative signed map
    — a class the network does not see anywhere — still ranks particles), and the class
    probabilities (B, n_classes)."""
    cam = LayerGradCam(model, layer)
    signed = torch.cat([cam.attribute(images, target=c, relu_attributions=False).detach() for c in range(n_classes)],
                       dim=1)
    relu_maps = upsample_periodic(torch.relu(signed), stride)
    signed_maps = upsample_periodic(signed, stride)
    with torch.no_grad():
        probability = torch.softmax(model(images), dim=1)
    return relu_maps, signed_maps, probability


def _check_cfg(gradcam_cfg: dict) -> dict:
    unknown = set(gradcam_cfg) - set(GRADCAM_DEFAULTS)
    if unknown:
        raise ValueError(f"gradcam: unknown keys {sorted(unknown)}; expected a subset of {list(GRADCAM_DEFAULTS)}")
    cfg = {**GRADCAM_DEFAULTS, **gradcam_cfg}
    if int(cfg["batch_size"]) < 1:
        raise ValueError(f"gradcam.batch_size = {cfg['batch_size']!r}; must be ≥ 1")
    return cfg


def model_grid(checkpoint: dict, path) -> dict:
    """The voxelization a checkpoint was trained on (:func:`glasscam.model.save_checkpoint`)."""
    grid = checkpoint.get("grid")
    if not grid:
        raise ValueError(f"{path}: the checkpoint records no voxel grid (trained before grids were saved); retrain it")
    return grid


def voxelize_for_model(state: State, grid: dict, n_types: int) -> np.ndarray:
    """Image of ``state`` on the model's grid: the effective spacing h = L_train/n_train and the
    width w of the training images; n = round(L/h) rounded to ``grid_multiple`` for this box, so
    another box length keeps the physical resolution (the network is fully convolutional)."""
    n = grid_points(state.box_length, float(grid["spacing"]), int(grid["grid_multiple"]))
    return voxelize_gaussian(state.positions, state.typeid, n_types, state.box_length, state.dimensions,
                             state.box_length / n, float(grid["width"]), float(grid["truncation"]), 1)


def particle_gradcam(model_path, states: list[State], gradcam_cfg: dict | None = None, device: str = "auto",
                     return_maps: bool = False):
    """Per-particle Grad-CAM of configurations from anywhere.

    Each state is voxelized on the checkpoint's own grid (:func:`voxelize_for_model`) and
    explained for every class; the maps are read at the particles by periodic linear
    interpolation. Returns (per state a dict {``gradcam_<class>``: (N,), ``gradcam_signed_<class>``:
    (N,)} float64, probabilities (S, n_classes)); with ``return_maps`` also the list of
    (relu (n_classes, *grid), signed (n_classes, *grid)) float32 maps."""
    cfg = _check_cfg(gradcam_cfg or {})
    dev = resolve_device(device)
    model, checkpoint = load_checkpoint(model_path, dev)
    grid = model_grid(checkpoint, model_path)
    class_names = list(checkpoint["class_names"])
    layer = model.gradcam_layer(cfg["layer"])
    stride = model.layer_stride(cfg["layer"])
    n_types = int(checkpoint["in_channels"])
    for k, state in enumerate(states):
        if state.dimensions != checkpoint["dimensions"]:
            raise ValueError(f"state {k}: d = {state.dimensions}, but {model_path} is a {checkpoint['dimensions']}D model")
        if int(state.typeid.max()) >= n_types:
            raise ValueError(f"state {k}: type id {int(state.typeid.max())} but {model_path} has {n_types} species channels")
    per_particle, probabilities, maps = [], [], []
    batch_size = int(cfg["batch_size"])
    for start in tqdm(range(0, len(states), batch_size), desc="grad-cam", unit="batch"):
        batch = states[start : start + batch_size]
        # one box length per batch is the common case; voxelize per state and stack equal grids
        images = [voxelize_for_model(s, grid, n_types) for s in batch]
        shapes = {im.shape for im in images}
        groups = [list(range(len(batch)))] if len(shapes) == 1 else [[j] for j in range(len(batch))]
        for group in groups:
            x = torch.from_numpy(np.stack([images[j] for j in group]).astype(np.float32)).to(dev)
            relu_maps, signed_maps, probability = gradcam_maps(model, layer, x, len(class_names), stride)
            relu_maps, signed_maps = relu_maps.cpu().numpy(), signed_maps.cpu().numpy()
            for i, j in enumerate(group):
                state = batch[j]
                relu_values = read_at_particles(relu_maps[i], state.positions, state.box_length, state.dimensions)
                signed_values = read_at_particles(signed_maps[i], state.positions, state.box_length, state.dimensions)
                arrays = {}
                for c, name in enumerate(class_names):
                    arrays[f"gradcam_{name}"] = relu_values[c]
                    arrays[f"gradcam_signed_{name}"] = signed_values[c]
                per_particle.append(arrays)
                probabilities.append(probability[i].cpu().numpy())
                if return_maps:
                    maps.append((relu_maps[i], signed_maps[i]))
    probabilities = np.array(probabilities).reshape(len(states), len(class_names))
    if return_maps:
        return per_particle, probabilities, maps
    return per_particle, probabilities


def explain(model_path, glass_gsd, out_h5, out_gsd, gradcam_cfg: dict, device: str = "auto") -> dict:
    """Grad-CAM of every class for every frame of ``glass_gsd`` (the analysis glass samples):
    maps to ``out_h5`` (``maps`` ReLU and ``signed_maps``, (S, n_classes, *grid), the
    probabilities, and which maps are identically zero), and the same frames with per-particle
    ``gradcam_<class>`` / ``gradcam_signed_<class>`` log arrays to ``out_gsd``.

    The frames are voxelized on the model's own grid (:func:`voxelize_for_model`).
    ``gradcam_cfg`` keys (defaults :data:`GRADCAM_DEFAULTS`): layer ("last" or a conv-block
    index), batch_size. Returns a summary (samples, layer, stride, device, zero maps per class)."""
    cfg = _check_cfg(gradcam_cfg)
    dev = resolve_device(device)
    model, checkpoint = load_checkpoint(model_path, "cpu")  # class names, grid, stride; particle_gradcam loads it on dev
    class_names = list(checkpoint["class_names"])
    stride = model.layer_stride(cfg["layer"])
    with open_trajectory(glass_gsd) as traj:
        frames = list(traj)
    if not frames:
        raise TrajectoryError(f"{glass_gsd}: no frames")
    upstream = decode_json(frames[0].log[PROVENANCE_KEY]) if PROVENANCE_KEY in frames[0].log else {}
    states = [state_from_frame(f) for f in frames]
    logs = [{key: np.asarray(v) for key, v in f.log.items() if key not in (PROVENANCE_KEY, TIME_KEY)} for f in frames]
    per_particle, probability, maps = particle_gradcam(model_path, states, cfg, str(dev), return_maps=True)
    zero = np.array([[not np.any(relu[c] > 0) for c in range(len(class_names))] for relu, _ in maps])
    record = make_provenance(
        {"gradcam": cfg}, stage="gradcam", device=str(dev), model=str(model_path), glass_trajectory=str(glass_gsd),
        model_provenance=checkpoint["provenance"], glass_provenance=upstream, grid=checkpoint.get("grid"),
        class_names=class_names,
        zero_maps={name: int(zero[:, c].sum()) for c, name in enumerate(class_names)},
    )
    with atomic_output(out_h5) as tmp, h5py.File(tmp, "w") as out:
        grid_shape = maps[0][0].shape
        for key, which in (("maps", 0), ("signed_maps", 1)):
            out.create_dataset(key, data=np.stack([m[which] for m in maps]).astype(np.float32),
                               chunks=(1,) + grid_shape, compression="gzip", compression_opts=4, shuffle=True)
        out.create_dataset("probability", data=probability.astype(np.float32))
        out.create_dataset("zero_map", data=zero)
        out.create_dataset("sample", data=np.array([int(np.ravel(log.get(SAMPLE_KEY, [k]))[0])
                                                    for k, log in enumerate(logs)], dtype=np.int64))
        out.create_dataset("time", data=np.array([s.time for s in states]))
        out.attrs["class_names"] = class_names
        out.attrs["layer"] = str(cfg["layer"])
        out.attrs["layer_stride"] = stride
        out.attrs["box_length"] = states[0].box_length
        out.attrs["dimensions"] = states[0].dimensions
        out.attrs["spacing"] = states[0].box_length / grid_shape[-1]
        out.attrs["provenance"] = json.dumps(record, sort_keys=True, default=str)
    for k, arrays in enumerate(per_particle):
        for name, values in arrays.items():
            logs[k][per_particle_key(name)] = values.astype(np.float32)
        for c, name in enumerate(class_names):
            logs[k][f"glasscam/p_{name}"] = np.array([probability[k, c]], dtype=np.float64)
    write_states(out_gsd, states, record, logs)
    return {"samples": len(states), "layer": str(cfg["layer"]), "layer_stride": stride, "device": str(dev),
            "zero_maps": record["zero_maps"]}
