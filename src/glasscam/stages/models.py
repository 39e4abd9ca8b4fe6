"""Models on disk for the stages: a checkpoint file (:mod:`glasscam.io.model_checkpoints`) joined with the
model it describes (:mod:`glasscam.learn.model`)."""

import torch

from glasscam.io.model_checkpoints import read_checkpoint, write_checkpoint
from glasscam.learn.model import GlassCNN, checkpoint_record, model_from_record


def save_checkpoint(path, model: GlassCNN, model_cfg: dict, in_channels: int, n_classes: int,
                    class_names: list[str], provenance: dict, grid: dict | None = None) -> None:
    """:func:`glasscam.learn.model.checkpoint_record` of ``model`` written atomically to ``path``."""
    write_checkpoint(path, checkpoint_record(model, model_cfg, in_channels, n_classes, class_names, provenance, grid))


def load_checkpoint(path, device: str | torch.device = "cpu") -> tuple[GlassCNN, dict]:
    """The model (eval mode, on ``device``) and the checkpoint record of ``path``; a missing file
    raises ``FileNotFoundError``, a damaged one :class:`glasscam.errors.DamagedFile`."""
    record = read_checkpoint(path, device)
    return model_from_record(record, device), record
