"""Attributions beyond the last-block Grad-CAM, on cases with a known answer."""

import numpy as np
import pytest
import torch
from torch import nn

from glasscam.core.state import State
from glasscam.learn.attribution import (
    block_cams,
    check_attribution_cfg,
    state_attributions,
)
from glasscam.learn.gradcam import gradcam_maps
from glasscam.learn.model import GlassCNN
from glasscam.learn.voxelize import particle_blobs, voxelize_gaussian

L, N_GRID, WIDTH = 8.0, 16, 0.4


def configuration(seed: int, n: int = 24, d: int = 2):
    generator = np.random.default_rng(seed)
    positions = generator.uniform(-L / 2, L / 2, (n, d))
    typeid = generator.integers(0, 2, n)
    pos3 = np.zeros((n, 3))
    pos3[:, :d] = positions
    state = State(pos3, np.zeros((n, 3), int), np.zeros((n, 3)), typeid, ["A", "B"], np.ones(n), L, d)
    image = voxelize_gaussian(positions, typeid, 2, L, d, L / N_GRID, WIDTH)
    blobs = particle_blobs(positions, typeid, L, d, N_GRID, WIDTH)
    return state, image, blobs


class LinearLogits(nn.Module):
    """y = W · x (flattened) + b: two classes; every attribution is exact for it."""

    def __init__(self, shape, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn((2,) + tuple(shape), generator=generator))
        self.bias = nn.Parameter(torch.tensor([0.3, -0.2]))
        self.blocks = []

    def forward(self, x):
        return torch.einsum("b...,c...->bc", x, self.weight) + self.bias


def test_blobs_sum_to_the_image():
    state, image, (index, weights) = configuration(1)
    rebuilt = np.bincount(index.ravel(), weights=weights.ravel(), minlength=image.size).reshape(image.shape)
    np.testing.assert_allclose(rebuilt, image, rtol=1e-5, atol=1e-6)


def test_integrated_gradients_are_complete():
    """Σ_i IG_i = y(x) − y(0) on a nonlinear CNN (the Gauss–Legendre quadrature converges)."""
    torch.manual_seed(0)
    state, image, blobs = configuration(2)
    model = GlassCNN(2, 2, channels=(4, 8)).eval()
    arrays, info = state_attributions(model, image, state, blobs, ["liquid", "glass"],
                                      {"methods": ["integrated_gradients"], "ig_steps": 64},
                                      np.random.default_rng(0))
    x = torch.from_numpy(image[None])
    with torch.no_grad():
        gain = (model(x) - model(torch.zeros_like(x)))[0].numpy()
    for c, name in enumerate(["liquid", "glass"]):
        assert arrays[f"ig_{name}"].sum() == pytest.approx(gain[c], abs=2e-3 * max(1.0, abs(gain[c])))
    assert info["ig_completeness_gap"] < 2e-3 * max(1.0, np.abs(gain).max())


def test_particle_ig_equals_occlusion_on_a_linear_model():
    """For y = W·x + b: IG_i = occlusion_i = first-order occlusion_i = W·b_i, exactly."""
    state, image, (index, weights) = configuration(3)
    model = LinearLogits(image.shape).eval()
    cfg = {"methods": ["integrated_gradients", "occlusion"], "ig_steps": 8, "occlusion_particles": 10}
    arrays, info = state_attributions(model, image, state, (index, weights), ["a", "b"], cfg, np.random.default_rng(1))
    w = model.weight.detach().double().numpy().reshape(2, -1)
    for c, name in enumerate(["a", "b"]):
        truth = (w[c][index] * weights).sum(axis=1)
        np.testing.assert_allclose(arrays[f"ig_{name}"], truth, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(arrays[f"occlusion_linear_{name}"], truth, rtol=1e-4, atol=1e-4)
        exact = arrays[f"occlusion_{name}"]
        assert np.isfinite(exact).sum() == 10 == info["occlusion_particles"]
        np.testing.assert_allclose(exact[np.isfinite(exact)], truth[np.isfinite(exact)], rtol=1e-3, atol=1e-3)


def test_first_order_occlusion_approximates_exact_removal_on_a_cnn():
    """On a nonlinear CNN the gradient · blob tracks the exact logit drop (rank correlation)."""
    torch.manual_seed(4)
    state, image, blobs = configuration(4, n=40)
    model = GlassCNN(2, 2, channels=(4, 8)).eval()
    arrays, _ = state_attributions(model, image, state, blobs, ["a", "b"],
                                   {"methods": ["occlusion"], "occlusion_particles": 40}, np.random.default_rng(0))
    exact, linear = arrays["occlusion_b"], arrays["occlusion_linear_b"]
    assert np.corrcoef(exact, linear)[0, 1] > 0.8  # 0.90 here: second-order terms of a whole blob


def test_hirescam_equals_gradcam_at_the_last_block_and_differs_before():
    """Global average pooling right after the last block: ∂y/∂A_k(g) = w_k/m^d is uniform, so
    HiResCAM = signed Grad-CAM there (Draelos & Carin 2020); before it, the gradient varies."""
    torch.manual_seed(5)
    _, image, _ = configuration(5)
    model = GlassCNN(2, 2, channels=(4, 6, 8)).eval()
    x = torch.from_numpy(image[None])
    cams = block_cams(model, x, 2)
    last = cams[-1]
    torch.testing.assert_close(last["hirescam"], last["gradcam"], rtol=1e-5, atol=1e-6)
    # the last block's signed Grad-CAM is Captum's LayerGradCam (glasscam.learn.gradcam)
    _, signed, _ = gradcam_maps(model, model.gradcam_layer("last"), x, 2, 1)
    torch.testing.assert_close(last["gradcam"], signed, rtol=1e-5, atol=1e-6)
    first = cams[0]
    assert not torch.allclose(first["hirescam"], first["gradcam"], rtol=1e-2, atol=1e-4)
    # HiResCAM sums to the logit change along the channel-scaling path only for linear heads;
    # at the last block Σ_g HiResCAM = Σ_k w_k mean_g A_k = y − bias
    with torch.no_grad():
        logits = model(x)[0]
    total = last["hirescam"].sum(dim=(2, 3))[0]
    torch.testing.assert_close(total, logits - model.head.bias, rtol=1e-4, atol=1e-5)


def test_attribution_config_is_checked():
    with pytest.raises(ValueError, match="attribution.methods"):
        check_attribution_cfg({"methods": ["lime"]})
    with pytest.raises(ValueError, match="ig_steps"):
        check_attribution_cfg({"ig_steps": 1})
    with pytest.raises(ValueError, match="unknown keys"):
        check_attribution_cfg({"steps": 3})
