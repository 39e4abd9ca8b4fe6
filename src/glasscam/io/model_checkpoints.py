"""Model checkpoints on disk: a torch file holding a plain record (weights as a state dict, the
model's settings, class names, voxel grid, provenance), read with ``weights_only=True``; building
a model from a record is :func:`glasscam.learn.model.model_from_record`. (Apart from the MD
checkpoints of :mod:`glasscam.io.checkpoints`, so MD jobs do not import torch.)"""

import torch

from glasscam.io.atomic import atomic_output, damaged


def write_checkpoint(path, record: dict) -> None:
    """``record`` (see :func:`glasscam.learn.model.checkpoint_record`) written atomically."""
    with atomic_output(path) as tmp:
        torch.save(record, tmp)


def read_checkpoint(path, device: str | torch.device = "cpu") -> dict:
    """The checkpoint record, tensors on ``device``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    DamagedFile
        A truncated or foreign file (the message names it and says how to remake it)."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such model checkpoint") from None
    except Exception as err:  # a truncated or foreign file: torch raises RuntimeError/pickle errors
        raise damaged(path, "not a readable glasscam model checkpoint", err) from err
