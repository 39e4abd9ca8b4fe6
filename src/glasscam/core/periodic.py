"""Periodic geometry: folding into [−L/2, L/2) with images, minimum-image distances (σ)."""

import numpy as np


def wrap(positions: np.ndarray, box_length: float, dimensions: int) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into wrapped coordinates in [−L/2, L/2) and integer images."""
    images = np.zeros(positions.shape, dtype=np.int32)
    images[:, :dimensions] = np.floor(positions[:, :dimensions] / box_length + 0.5).astype(np.int32)
    wrapped = positions - images * box_length
    return wrapped, images


def wrap_into_box(positions: np.ndarray, images: np.ndarray, box_length: float, dimensions: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions folded into [−L/2, L/2) with the images adjusted so that positions + images · L
    is unchanged (foreign writers do not always wrap)."""
    shift = np.zeros_like(images)
    shift[:, :dimensions] = np.floor(positions[:, :dimensions] / box_length + 0.5).astype(images.dtype)
    return positions - shift * box_length, images + shift


def _min_image_distance(a: np.ndarray, b: np.ndarray, box_length: float, dimensions: int) -> float:
    delta = (a - b)[:, :dimensions]
    delta -= box_length * np.round(delta / box_length)
    return float(np.abs(delta).max()) if len(delta) else 0.0
