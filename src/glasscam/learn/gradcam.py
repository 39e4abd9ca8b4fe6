"""Grad-CAM maps of the trained classifier, per voxel and per particle.

Grad-CAM (Selvaraju et al. 2017) for class c at the feature maps A_k (shape m^d) of a conv block:

    α_k = (1/m^d) Σ_g ∂y_c/∂A_k(g),      M_c(g) = ReLU(Σ_k α_k A_k(g)),

computed with Captum's ``LayerGradCam`` (y_c = logit of class c). M_c lives on the block's grid of
m = n/s cells (s = pooling stride up to that block); feature cell j covers input cells
[js, (j+1)s), centred at −L/2 + (j+½)L/m. It is upsampled to the input grid by periodic linear
interpolation between those centres (circular pad, linear interpolation, crop) and read at each
particle by periodic (bi/tri)linear interpolation (:func:`glasscam.learn.voxelize.read_at_particles`).
Values are in logit units per feature-map cell; compare them within a map, not across models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam
from tqdm import tqdm

from glasscam.core.grid import grid_points
from glasscam.core.options import Options
from glasscam.core.state import State
from glasscam.learn.device import resolve_device
from glasscam.learn.voxelize import read_at_particles, voxelize_gaussian


@dataclass(frozen=True)
class GradcamOptions(Options):
    """Settings of Grad-CAM (config ``gradcam``; :func:`particle_gradcam`).

    layer: the conv block whose rectified activations Grad-CAM weighs — ``"last"`` or a block
    index (0-based, negative from the end; checked against the model by
    :meth:`glasscam.learn.model.GlassCNN.block_index`); batch_size: images per forward/backward
    pass (≥ 1). Values are kept as given (they are recorded in the provenance). Raises
    ``ValueError`` naming the key (``gradcam.batch_size = 0; must be ≥ 1``).
    """

    SECTION = "gradcam"

    layer: str | int = "last"
    batch_size: int = 16

    def __post_init__(self):
        if self.layer != "last" and (isinstance(self.layer, bool) or not isinstance(self.layer, int)):
            self.refuse("layer", "expected 'last' or a conv-block index")
        self.require_at_least(1, "batch_size")


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
    """Grad-CAM of every class, upsampled to the input grid: the ReLU maps M_c ``(B, n_classes,
    *grid)``, the signed maps Σ_k α_k A_k before the ReLU (same shape; an all-negative signed map
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


def model_grid(checkpoint: dict, path) -> dict:
    """The voxelization a checkpoint was trained on (:func:`glasscam.stages.models.save_checkpoint`)."""
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


def particle_gradcam(model: torch.nn.Module, checkpoint: dict, states: list[State], gradcam_cfg: dict | None = None, device: str = "auto",
                     return_maps: bool = False, source: str = "the model"):
    """Per-particle Grad-CAM of configurations from anywhere.

    Each state is voxelized on the checkpoint's own grid (:func:`voxelize_for_model`) and
    explained for every class; the maps are read at the particles by periodic linear
    interpolation. Returns (per state a dict {``gradcam_<class>``: (N,), ``gradcam_signed_<class>``:
    (N,)} float64, probabilities (S, n_classes)); with ``return_maps`` also the list of
    (relu ``(n_classes, *grid)``, signed ``(n_classes, *grid)``) float32 maps. ``model``, ``checkpoint``:
    from :func:`glasscam.stages.models.load_checkpoint`; ``source`` names the model in errors."""
    cfg = GradcamOptions.from_config(gradcam_cfg).as_dict()
    dev = resolve_device(device)
    model = model.to(dev).eval()
    model_path = source
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


