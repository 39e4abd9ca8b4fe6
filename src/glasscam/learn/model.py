"""Periodic CNN classifier for voxelized configurations (liquid = 0, glass = 1).

Architecture (d = 2 or 3 from the system): ``len(channels)`` blocks (the depth) of

    [Conv(k, circular padding k//2) → BatchNorm | GroupNorm → ReLU] × convs_per_block
    [+ residual: the block input (1×1 conv when the width changes) added before the last ReLU]
    [→ downsampling by 2: MaxPool | AvgPool | strided Conv(2, stride 2)]

(downsampling after every block but the last), global average pooling over space, dropout,
linear head → logits. Every hyperparameter is a ``model`` config key (:data:`MODEL_KEYS`), so
:mod:`glasscam.learn.search` can choose them.
Circular padding keeps every layer equivariant to periodic translations, so rolling the input by
a multiple of the total stride 2^(blocks−1) rolls every feature map and leaves the logits unchanged.
The grid must be divisible by that stride (choose ``voxel.grid_multiple`` accordingly).

Prefer BatchNorm for Grad-CAM: in eval mode it is a per-channel affine map, so every feature
stays local. GroupNorm normalizes over all positions of a sample, so a motif in one place changes
the features everywhere; a GroupNorm network can then detect a motif through its effect on the
rest of the image, and Grad-CAM highlights the wrong particles (seen on the planted-motif test).
"""

from __future__ import annotations

import torch
from torch import nn

NORMS = ("batch", "group")
POOLS = ("max", "avg", "strided")


class ConvBlock(nn.Module):
    """``convs`` × (conv → norm → ReLU), optionally residual, then optional downsampling.

    ``activation`` is the last ReLU (its output is the block's rectified feature map A_k, the
    layer Grad-CAM explains); ``pool`` (absent in the last block) halves every side."""

    def __init__(self, conv, norm_layer, width_in: int, width: int, kernel_size: int, convs: int,
                 residual: bool, pool_layer):
        super().__init__()
        layers = []
        for j in range(convs):
            layers += [conv(width_in if j == 0 else width, width, kernel_size, padding=kernel_size // 2,
                            padding_mode="circular", bias=False), norm_layer(width)]
            if j < convs - 1:
                layers.append(nn.ReLU())
        self.body = nn.Sequential(*layers)
        self.shortcut = None
        if residual:
            self.shortcut = (nn.Identity() if width_in == width
                             else nn.Sequential(conv(width_in, width, 1, bias=False), norm_layer(width)))
        self.activation = nn.ReLU()
        self.pool = pool_layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        if self.shortcut is not None:
            y = y + self.shortcut(x)
        y = self.activation(y)
        return self.pool(y) if self.pool is not None else y


class GlassCNN(nn.Module):
    """Conv blocks with circular padding, global average pooling and a linear head.

    ``blocks[i].activation`` is the rectified feature map A_k of block i (before pooling), the
    layer Grad-CAM explains (:meth:`gradcam_layer`).
    """

    def __init__(
        self,
        dimensions: int,
        in_channels: int,
        n_classes: int = 2,
        channels: tuple[int, ...] | list[int] = (16, 32, 64),
        kernel_size: int = 3,
        norm: str = "batch",
        groups: int = 4,
        pool: str = "max",
        dropout: float = 0.0,
        convs_per_block: int = 1,
        residual: bool = False,
    ):
        super().__init__()
        if dimensions not in (2, 3):
            raise ValueError(f"model: dimensions must be 2 or 3, got {dimensions}")
        if kernel_size % 2 != 1:
            raise ValueError(f"model.kernel_size must be odd (symmetric circular padding), got {kernel_size}")
        if norm not in NORMS:
            raise ValueError(f"model.norm = {norm!r}; expected one of {NORMS}")
        if pool not in POOLS:
            raise ValueError(f"model.pool = {pool!r}; expected one of {POOLS}")
        if not channels:
            raise ValueError("model.channels must list at least one conv block width")
        if int(convs_per_block) < 1:
            raise ValueError(f"model.convs_per_block = {convs_per_block!r}; must be ≥ 1")
        conv = nn.Conv2d if dimensions == 2 else nn.Conv3d
        batch_norm = nn.BatchNorm2d if dimensions == 2 else nn.BatchNorm3d

        def pool_layer(width: int) -> nn.Module:
            if pool == "strided":
                return nn.Sequential(conv(width, width, 2, stride=2, bias=False), norm_layer(width), nn.ReLU())
            return {("max", 2): nn.MaxPool2d, ("max", 3): nn.MaxPool3d,
                    ("avg", 2): nn.AvgPool2d, ("avg", 3): nn.AvgPool3d}[(pool, dimensions)](2)

        def norm_layer(width: int) -> nn.Module:
            return batch_norm(width) if norm == "batch" else nn.GroupNorm(groups, width)

        self.dimensions = dimensions
        blocks = []
        width_in = in_channels
        for i, width in enumerate(channels):
            if norm == "group" and width % groups:
                raise ValueError(f"model.channels[{i}] = {width} is not divisible by model.groups = {groups}")
            blocks.append(ConvBlock(conv, norm_layer, width_in, width, kernel_size, int(convs_per_block),
                                    bool(residual), pool_layer(width) if i < len(channels) - 1 else None))
            width_in = width
        self.blocks = nn.ModuleList(blocks)
        self.total_stride = 2 ** (len(channels) - 1)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width_in, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = x.shape[2:]
        if len(spatial) != self.dimensions or any(s % self.total_stride for s in spatial):
            raise ValueError(
                f"input grid {tuple(spatial)} must be {self.dimensions}-d with sides divisible by the "
                f"total pooling stride {self.total_stride} (set voxel.grid_multiple)"
            )
        for block in self.blocks:
            x = block(x)
        x = x.mean(dim=tuple(range(2, x.ndim)))
        return self.head(self.dropout(x))

    def block_index(self, layer: str | int = "last") -> int:
        """Index of conv block ``layer`` ("last" or an index, negative allowed)."""
        if layer == "last":
            return len(self.blocks) - 1
        try:
            index = int(layer)
        except (TypeError, ValueError):
            raise ValueError(f"gradcam.layer = {layer!r}; expected 'last' or a block index") from None
        if not -len(self.blocks) <= index < len(self.blocks):
            raise ValueError(f"gradcam.layer = {layer!r}; the model has {len(self.blocks)} conv blocks")
        return index % len(self.blocks)

    def gradcam_layer(self, layer: str | int = "last") -> nn.Module:
        """The rectified feature map (ReLU output, before pooling) of conv block ``layer``."""
        return self.blocks[self.block_index(layer)].activation

    def layer_stride(self, layer: str | int = "last") -> int:
        """Input cells per feature-map cell at the output of block ``layer`` (before its pooling)."""
        return 2 ** self.block_index(layer)


MODEL_KEYS = ("channels", "kernel_size", "norm", "groups", "pool", "dropout", "convs_per_block", "residual")


def build_model(model_cfg: dict, dimensions: int, in_channels: int, n_classes: int = 2) -> GlassCNN:
    """A :class:`GlassCNN` from the config's ``model`` section (keys :data:`MODEL_KEYS`)."""
    unknown = set(model_cfg) - set(MODEL_KEYS)
    if unknown:
        raise ValueError(f"model: unknown keys {sorted(unknown)}; expected a subset of {list(MODEL_KEYS)}")
    kwargs = dict(model_cfg)
    if "channels" in kwargs:
        kwargs["channels"] = [int(c) for c in kwargs["channels"]]
    return GlassCNN(dimensions, in_channels, n_classes, **kwargs)




def checkpoint_record(model: GlassCNN, model_cfg: dict, in_channels: int, n_classes: int,
                      class_names: list[str], provenance: dict, grid: dict | None = None) -> dict:
    """Weights + everything needed to rebuild the model (written by
    :func:`glasscam.io.model_checkpoints.write_checkpoint`).

    ``grid``: the voxelization the model was trained on — ``spacing`` h = L/n actually used (not
    the requested voxel.spacing), ``width`` w, ``truncation``, ``grid_multiple``, ``box_length``
    and ``n`` of the training images — so new configurations are voxelized the same way."""
    return {
        "state_dict": model.state_dict(),
        "model_cfg": dict(model_cfg),
        "dimensions": model.dimensions,
        "in_channels": in_channels,
        "n_classes": n_classes,
        "class_names": list(class_names),
        "provenance": provenance,
        "grid": dict(grid) if grid is not None else None,
    }


def model_from_record(record: dict, device: str | torch.device = "cpu") -> GlassCNN:
    """The model of a checkpoint record, weights loaded, in eval mode on ``device``."""
    model = build_model(record["model_cfg"], record["dimensions"], record["in_channels"], record["n_classes"])
    model.load_state_dict(record["state_dict"])
    return model.to(device).eval()
