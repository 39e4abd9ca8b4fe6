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
    wrapped, shift = wrap(positions, box_length, dimensions)
    return wrapped, images + shift.astype(images.dtype)


def max_minimum_image_difference(a: np.ndarray, b: np.ndarray, box_length: float, dimensions: int) -> float:
    """max_i,k |minimum image of (a_i − b_i)_k| [σ] of two position arrays (N, ≥d); 0 for N = 0."""
    delta = (a - b)[:, :dimensions]
    delta -= box_length * np.round(delta / box_length)
    return float(np.abs(delta).max()) if len(delta) else 0.0
