"""Supervised ceiling: the classifier's fully convolutional body trained to regress a per-particle
target (propensity) from the same density images.

Model: the conv blocks of :class:`glasscam.learn.model.GlassCNN` (same ``model`` config: widths,
kernel, norm, pooling), then a 1×1 convolution to one channel instead of global pooling and the
linear head. The output map p(g) lives on the last block's grid (m = n / 2^(blocks−1) cells,
centred at −L/2 + (j+½) L/m — the convention of :func:`glasscam.learn.voxelize.read_at_particles`)
and is read at each particle by periodic (bi/tri)linear interpolation, differentiably
(:func:`glasscam.learn.voxelize.interpolation_stencil`). Loss: mean squared error between the
prediction and the target standardised within each frame (the correlations it is compared with are
within-frame ones) over the particles selected by the mask (finite target, analysed species).
After every epoch the BatchNorm statistics are recomputed over the training frames ("precise
BatchNorm", :func:`glasscam.learn.training.recalibrate_batchnorm`): with a few dozen frames and
batches of 4 the exponential running averages lag the weights, and eval-mode predictions of the
validation runs drift (measured on the ka3d study: validation loss 1.0 → 6.3 within three epochs
and the kept model at epoch 0, test ρ ≈ 0). The output map has the resolution of the last block's
grid; ``ceiling.model`` overrides keys of the ``model`` config for this network (the study uses
two blocks: a 12³ map of 0.8 σ cells, where the classifier's three blocks give 6³ cells of 1.6 σ,
coarser than the particles whose propensity it must tell apart).
No files are read or written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from glasscam.core.options import Options
from glasscam.learn.model import build_model
from glasscam.learn.training import recalibrate_batchnorm


@dataclass(frozen=True)
class CeilingOptions(Options):
    """Training settings of the supervised ceiling (config ``ceiling``; :func:`fit_propensity_cnn`).

    epochs: most passes over the training frames (≥ 1); learning_rate: Adam's step size (> 0);
    weight_decay: Adam's L2 penalty (≥ 0); patience: epochs without a lower validation loss
    (mean squared error of the within-frame standardised target, dimensionless) before stopping
    (≥ 1); batch_size: frames per optimizer step (≥ 1); model: keys of the ``model`` config
    (channels, kernel_size, …) that this network uses instead of the classifier's (default two
    blocks, {channels: [16, 32]}: output cells of 2 voxel spacings; None: the classifier's
    architecture). Values are kept as given (they are recorded in the JSON). Raises ``ValueError`` naming the key (``ceiling.epochs = 0; must be ≥ 1``).
    """

    SECTION = "ceiling"

    epochs: int = 30
    learning_rate: float = 3.0e-3
    weight_decay: float = 0.0
    patience: int = 8
    batch_size: int = 4
    model: Mapping | None = field(default_factory=lambda: {"channels": [16, 32]})

    def __post_init__(self):
        if self.model is not None and not isinstance(self.model, Mapping):
            self.refuse("model", "must be a mapping of model keys (e.g. {channels: [16, 32]}) or null")
        self.require_at_least(1, "epochs", "patience", "batch_size")
        self.require_positive("learning_rate")
        self.require_nonnegative("weight_decay")


class PropensityCNN(nn.Module):
    """GlassCNN body + 1×1 conv: image (B, C, n…) → map (B, m…) on the last block's grid."""

    def __init__(self, model_cfg: dict, dimensions: int, in_channels: int):
        super().__init__()
        body = build_model(model_cfg, dimensions, in_channels, 1)
        self.blocks = body.blocks
        self.total_stride = body.total_stride
        conv = nn.Conv2d if dimensions == 2 else nn.Conv3d
        self.head = conv(body.head.in_features, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.head(x)[:, 0]


def _read(maps: torch.Tensor, stencils: list[tuple[np.ndarray, np.ndarray]]) -> list[torch.Tensor]:
    flat = maps.reshape(len(maps), -1)
    return [(flat[k][torch.from_numpy(index)] * torch.from_numpy(weights).to(flat)).sum(dim=1)
            for k, (index, weights) in enumerate(stencils)]


def standardise_within_frame(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(v − mean)/std over the masked particles (NaN elsewhere; all NaN if constant)."""
    out = np.full(len(values), np.nan)
    v = values[mask]
    if len(v) > 1 and v.std() > 0:
        out[mask] = (v - v.mean()) / v.std()
    return out


def fit_propensity_cnn(images: list[np.ndarray], stencils: list[tuple[np.ndarray, np.ndarray]], targets: list[np.ndarray],
                       train: list[int], validation: list[int], model_cfg: dict, dimensions: int, cfg: dict,
                       seed: int) -> tuple[PropensityCNN, dict]:
    """Train :class:`PropensityCNN` on the frames ``train`` (indices into the lists), early-stopped
    on the validation loss of the frames ``validation``.

    ``images[k]`` (C, n…) float32; ``stencils[k]`` the interpolation stencil of frame k's particles
    on the output grid (:func:`interpolation_stencil` with m cells); ``targets[k]`` (N,) the
    standardised target, NaN where a particle is not used. ``cfg``: :class:`CeilingOptions` keys.
    Returns (model at the best validation epoch, in eval mode; history {train_loss,
    validation_loss, best_epoch})."""
    cfg = CeilingOptions.from_config(cfg).as_dict()
    if not train:
        raise ValueError("ceiling: no training frames with a finite target")
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    model = PropensityCNN(model_cfg, dimensions, images[0].shape[0])
    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg["learning_rate"]), weight_decay=float(cfg["weight_decay"]))
    masks = [np.isfinite(t) for t in targets]
    tensors = [torch.from_numpy(np.nan_to_num(t)).float() for t in targets]
    train_images = torch.from_numpy(np.stack([images[k] for k in train]).astype(np.float32))

    def loss_of(frames: list[int], train_mode: bool) -> torch.Tensor:
        x = torch.from_numpy(np.stack([images[k] for k in frames]).astype(np.float32))
        predictions = _read(model(x), [stencils[k] for k in frames])
        errors = [((p - tensors[k]) ** 2)[torch.from_numpy(masks[k])] for p, k in zip(predictions, frames, strict=True)]
        return torch.cat(errors).mean()

    history = {"train_loss": [], "validation_loss": [], "best_epoch": 0}
    best, best_loss, stale = None, np.inf, 0
    batch = int(cfg["batch_size"])
    for epoch in range(int(cfg["epochs"])):
        model.train()
        order = generator.permutation(train)
        losses = []
        for start in range(0, len(order), batch):
            optimizer.zero_grad()
            loss = loss_of(list(order[start : start + batch]), True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        recalibrate_batchnorm(model, train_images, batch, torch.device("cpu"))
        model.eval()
        history["train_loss"].append(float(np.mean(losses)))
        if validation:
            with torch.no_grad():
                val = float(np.mean([float(loss_of([k], False)) for k in validation]))
        else:
            val = history["train_loss"][-1]
        history["validation_loss"].append(val)
        if val < best_loss:
            best, best_loss, stale, history["best_epoch"] = {k: v.clone() for k, v in model.state_dict().items()}, val, 0, epoch
        else:
            stale += 1
            if stale >= int(cfg["patience"]):
                break
    model.load_state_dict(best)
    return model.eval(), history


def predict_propensity(model: PropensityCNN, images: list[np.ndarray], stencils: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """The model's per-particle prediction for every frame (list of (N,) float64)."""
    out = []
    with torch.no_grad():
        for image, stencil in zip(images, stencils, strict=True):
            out.append(_read(model(torch.from_numpy(image[None].astype(np.float32))), [stencil])[0].double().numpy())
    return out
