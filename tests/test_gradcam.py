import h5py
import numpy as np
import pytest
import torch
from scipy.stats import rankdata

from glasscam.core.grid import cell_centres
from glasscam.core.state import State
from glasscam.io.gsd import open_trajectory, write_states
from glasscam.learn.gradcam import gradcam_maps, upsample_periodic
from glasscam.learn.model import GlassCNN
from glasscam.learn.voxelize import read_at_particles
from glasscam.plots.learning import (
    plot_gradcam_histogram,
    plot_gradcam_maps,
    plot_training_curves,
)
from glasscam.stages.dataset import build_dataset, write_glass_samples
from glasscam.stages.explain import explain
from glasscam.stages.train import train_classifier

L, D = 8.0, 2
N_A, N_B, N_MOTIF = 40, 8, 4  # the glass class gathers the last N_MOTIF B particles into a tight cluster
TYPES = ["A", "B"]


@pytest.mark.parametrize("d, m, factor", [(2, 5, 4), (3, 4, 2)])
def test_upsampling_is_periodic_linear_interpolation(d, m, factor):
    rng = np.random.default_rng(0)
    coarse = rng.random((2, 3) + (m,) * d)
    fine = upsample_periodic(torch.from_numpy(coarse), factor).numpy()
    n = m * factor
    assert fine.shape == (2, 3) + (n,) * d
    # fine cell centres read from the coarse grid by the independent periodic interpolation
    centres = cell_centres(L, n)
    points = np.stack(np.meshgrid(*[centres] * d, indexing="ij"), axis=-1).reshape(-1, d)
    expected = read_at_particles(coarse, points, L, d).reshape(fine.shape)
    np.testing.assert_allclose(fine, expected, rtol=1e-12, atol=1e-12)
    rolled = upsample_periodic(torch.from_numpy(np.roll(coarse, 1, axis=2)), factor).numpy()
    np.testing.assert_allclose(rolled, np.roll(fine, factor, axis=2), atol=1e-12)


def test_gradcam_maps_follow_periodic_rolls():
    torch.manual_seed(1)
    model = GlassCNN(2, 2, channels=[4, 8, 8]).eval()
    x = torch.rand(2, 2, 16, 16)
    maps, signed, probability = gradcam_maps(model, model.gradcam_layer("last"), x, 2, model.layer_stride("last"))
    assert maps.shape == signed.shape == (2, 2, 16, 16) and torch.allclose(probability.sum(dim=1), torch.ones(2))
    assert maps.min() >= 0 and maps.max() > 0 and signed.min() < 0
    assert torch.all(maps >= signed - 1e-6)
    rolled, rolled_signed, _ = gradcam_maps(model, model.gradcam_layer("last"), torch.roll(x, (4, -8), (2, 3)), 2, 4)
    torch.testing.assert_close(rolled, torch.roll(maps, (4, -8), (2, 3)), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(rolled_signed, torch.roll(signed, (4, -8), (2, 3)), rtol=1e-4, atol=1e-6)


def planted_configuration(rng, glass: bool, across_boundary: bool):
    """Random A and B particles; a glass hides the last N_MOTIF B particles in a cluster of radius 0.2,
    centred on a box corner when ``across_boundary``."""
    positions = np.zeros((N_A + N_B, 3))
    positions[:, :D] = rng.uniform(-L / 2, L / 2, (N_A + N_B, D))
    if glass:
        centre = np.full(D, L / 2) if across_boundary else rng.uniform(-L / 2, L / 2, D)
        angle = rng.uniform(0, 2 * np.pi) + np.arange(N_MOTIF) * 2 * np.pi / N_MOTIF
        cluster = centre + 0.2 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        positions[-N_MOTIF:, :D] = (cluster + L / 2) % L - L / 2
    return State(positions, np.zeros((N_A + N_B, 3), dtype=int), np.zeros((N_A + N_B, 3)),
                 np.repeat([0, 1], [N_A, N_B]), TYPES, np.ones(N_A + N_B), L, D)


def write_run(path, run, stage, frames, rng):
    states = []
    for f in range(frames):
        state = planted_configuration(rng, glass=stage == "aging", across_boundary=f % 3 == 0)
        state.time = float(2**f - 1) if stage == "aging" else 10.0 * f
        states.append(state)
    logs = [{"particles/glasscam/potential_energy": np.zeros(N_A + N_B, dtype=np.float32)} for _ in states]
    write_states(path, states, {"system": "planted", "run": run, "replica": 0, "stage": stage, "seed": run,
                                "temperature": 1.0 if stage == "liquid" else 0.1}, logs)
    return path


def roc_auc(scores, positive):
    """Probability that a random positive scores above a random negative (ties count ½)."""
    ranks = rankdata(scores)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def test_gradcam_finds_a_planted_motif(tmp_path):
    rng = np.random.default_rng(5)
    frames = 9
    liquid = [write_run(tmp_path / f"liquid{r}.gsd", r, "liquid", frames, rng) for r in range(12)]
    aging = [write_run(tmp_path / f"aging{r}.gsd", r, "aging", frames, rng) for r in range(12)]
    ages = [2.0**f - 1 for f in range(frames)]
    build_dataset(output_h5=tmp_path / "data.h5", liquid_paths=liquid, glass_paths=aging, system_types=TYPES,
                  voxel_cfg={"spacing": 0.25, "width": 0.3, "grid_multiple": 4},
                  dataset_cfg={"glass_ages": ages, "split": {"train": 0.5, "validation": 0.25, "test": 0.25}}, seed=9,
                  provenance={})
    write_glass_samples(aging_paths=aging, glass_ages=ages, out_gsd=tmp_path / "glass.gsd", provenance={})
    metrics = train_classifier(dataset_h5=tmp_path / "data.h5", model_out=tmp_path / "model.pt", metrics_out=tmp_path / "metrics.json",
                               model_cfg={"channels": [8, 16]},
                               train_cfg={"epochs": 8, "batch_size": 16, "learning_rate": 0.005, "patience": 4}, seed=2,
                               device="cpu", threads=1)
    assert metrics["test_accuracy"] >= 0.9
    summary = explain(model_path=tmp_path / "model.pt", glass_gsd=tmp_path / "glass.gsd", out_h5=tmp_path / "cam.h5",
                      out_gsd=tmp_path / "cam.gsd", gradcam_cfg={"layer": "last"}, device="cpu",
                      attribution_cfg={"ig_steps": 8, "occlusion_particles": 8}, seed=3)
    assert summary["samples"] == 12 * frames
    assert summary["attribution"]["ig_completeness_gap_max"] < 0.05 * summary["attribution"]["logit_spread"]
    other = {name: [] for name in ("ig_glass", "occlusion_linear_glass", "gradcam_b1_glass", "hirescam_b1_glass")}

    motif = np.zeros(N_A + N_B, dtype=bool)
    motif[-N_MOTIF:] = True
    auc, auc_boundary = [], []
    with open_trajectory(tmp_path / "cam.gsd") as traj, h5py.File(tmp_path / "cam.h5") as cam:
        assert cam["maps"].shape == cam["signed_maps"].shape == (12 * frames, 2, 32, 32)
        # the ReLU map is the ReLU of the signed one before upsampling; where the signed map is
        # non-negative everywhere around a cell they coincide, and ReLU maps are never negative
        assert cam["maps"][:].min() >= 0
        for frame in traj:
            k = int(frame.log["glasscam/sample"][0])
            values = frame.log["particles/glasscam/gradcam_glass"]
            # the per-particle values are the stored map read at the particles
            row = int(np.flatnonzero(cam["sample"][:] == k)[0])
            expected = read_at_particles(cam["maps"][row, 1], frame.particles.position, L, D)
            np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-7)
            assert "particles/glasscam/gradcam_liquid" in frame.log
            signed = frame.log["particles/glasscam/gradcam_signed_glass"]
            assert np.all(values >= signed - 1e-5)  # ReLU(x) ≥ x survives positive-weight interpolation
            assert "particles/glasscam/potential_energy" in frame.log
            score = roc_auc(values, motif)
            auc.append(score)
            for name, scores in other.items():
                scores.append(roc_auc(frame.log[f"particles/glasscam/{name}"], motif))
            exact = frame.log["particles/glasscam/occlusion_glass"]
            assert np.isfinite(exact).sum() == 8
            if frame.log["glasscam/source_frame"][0] % 3 == 0:
                auc_boundary.append(score)
    print(f"mean per-sample ROC-AUC {np.mean(auc):.3f}, across the boundary {np.mean(auc_boundary):.3f}")
    assert np.mean(auc) >= 0.9
    assert np.mean(auc_boundary) >= 0.9
    print({name: round(float(np.mean(scores)), 3) for name, scores in other.items()})
    # the input-gradient attributions find the motif too (a particle of the motif carries the logit)
    assert np.mean(other["ig_glass"]) >= 0.8 and np.mean(other["occlusion_linear_glass"]) >= 0.8

    plot_training_curves(tmp_path / "metrics.json", tmp_path / "curves.png")
    plot_gradcam_maps(tmp_path / "cam.h5", tmp_path / "glass.gsd", tmp_path / "maps.png")
    plot_gradcam_histogram(tmp_path / "cam.gsd", tmp_path / "histogram.png")
    for name in ("curves", "maps", "histogram"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
