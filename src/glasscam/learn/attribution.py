"""Per-particle attributions of the classifier beyond the last-block Grad-CAM.

For a configuration voxelized into the image x = Σ_i b_i (b_i: particle i's Gaussian blob in
its species channel, :func:`glasscam.learn.voxelize.particle_blobs`) and the logit y_c of class c:

* ``gradcam_b<k>`` / ``gradcam_signed_b<k>`` — Grad-CAM (Selvaraju et al. 2017) at conv block k
  (1-based) other than the last: α_k = mean_g ∂y_c/∂A_k(g), ReLU(Σ_k α_k A_k) and the signed map.
  The last block stays ``gradcam_<class>`` (:mod:`glasscam.learn.gradcam`).
* ``hirescam_b<k>`` — HiResCAM (Draelos & Carin 2020): Σ_k ∂y_c/∂A_k(g) · A_k(g), the element-wise
  product summed over channels, with no spatial averaging of the gradient. With global average
  pooling directly after the last block (GlassCNN), ∂y_c/∂A_k(g) = w_ck / m^d is uniform, so
  HiResCAM at the last block *equals* the signed Grad-CAM there (the identity is tested) and is
  not written again; at earlier blocks the gradient varies in space and the two differ.
  Maps are upsampled to the input grid (periodic linear) and read at the particles, as Grad-CAM.
* ``ig`` — Integrated Gradients (Sundararajan et al. 2017, Captum ``IntegratedGradients``) from
  the empty box x' = 0: IG_g = x_g ∫₀¹ ∂y_c/∂x_g(αx) dα, integrated over each particle's blob,
  IG_i = Σ_g IG_g · b_i(g)/x_g = Σ_g b_i(g) ∫₀¹ ∂y_c/∂x_g(αx) dα — the IG of the particle
  amplitudes (exact: the image is linear in them), so Σ_i IG_i = y_c(x) − y_c(0) up to the
  quadrature (completeness; the largest |gap| is returned).
* ``occlusion`` — y_c(x) − y_c(x − b_i): the logit lost when particle i's density is removed,
  exact for a random subset of particles per sample (NaN elsewhere).
* ``occlusion_linear`` — its first order for every particle, ∇y_c(x) · b_i (= the IG integrand at
  α = 1; equal to ``occlusion`` and ``ig`` for a linear model).

Units: logits (occlusion, ig, occlusion_linear); logits per feature-map cell (CAMs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from glasscam.core.options import Options
from glasscam.core.seeds import rng
from glasscam.core.state import State
from glasscam.learn.gradcam import model_grid, upsample_periodic, voxelize_for_model
from glasscam.learn.voxelize import particle_blobs, read_at_particles

ATTRIBUTION_METHODS = ("gradcam_blocks", "hirescam", "integrated_gradients", "occlusion")


@dataclass(frozen=True)
class AttributionOptions(Options):
    """Settings of the attributions beside Grad-CAM (config ``attribution``; :func:`particle_attributions`).

    methods: a subset of :data:`ATTRIBUTION_METHODS` (empty: none computed); ig_steps: quadrature
    points of the Integrated Gradients path integral (≥ 2; the completeness gap on the demo
    models is 2.2 logits at 8 steps, 0.25 at 32 and 0.05 at 64); occlusion_particles: particles
    per sample occluded exactly (≥ 0; the first-order occlusion covers all); batch_size: images
    per forward pass of IG and occlusion (≥ 1). Values are kept as given (they are recorded in
    the JSON; :meth:`as_dict` gives ``methods`` as a list). Raises ``ValueError`` naming the key.
    """

    SECTION = "attribution"

    methods: tuple[str, ...] = ATTRIBUTION_METHODS
    ig_steps: int = 64
    occlusion_particles: int = 128
    batch_size: int = 16

    def __post_init__(self):
        object.__setattr__(self, "methods", tuple(self.methods))
        bad = [m for m in self.methods if m not in ATTRIBUTION_METHODS]
        if bad:
            raise ValueError(f"attribution.methods: unknown {bad}; expected a subset of {list(ATTRIBUTION_METHODS)}")
        self.require_at_least(2, "ig_steps")
        self.require_at_least(0, "occlusion_particles")
        self.require_at_least(1, "batch_size")

    def as_dict(self) -> dict:
        """The resolved ``attribution`` section, ``methods`` as a list."""
        return {**super().as_dict(), "methods": list(self.methods)}


def check_attribution_cfg(cfg: dict | None) -> dict:
    """The ``attribution`` config resolved by :class:`AttributionOptions`; unknown keys or methods,
    ig_steps < 2, occlusion_particles < 0 or batch_size < 1 raise ValueError naming the key."""
    return AttributionOptions.from_config(cfg).as_dict()


def block_cams(model: torch.nn.Module, images: torch.Tensor, n_classes: int) -> list[dict[str, torch.Tensor]]:
    """Signed Grad-CAM and HiResCAM of every class at every conv block of a GlassCNN, on the
    block's own grid: per block {``gradcam``: (B, n_classes, m…), ``hirescam``: same}, with
    m = n / 2^block. One forward pass, one backward pass per class."""
    activations = []
    hooks = [block.activation.register_forward_hook(lambda _m, _i, out: activations.append(out)) for block in model.blocks]
    try:
        logits = model(images)
    finally:
        for hook in hooks:
            hook.remove()
    cams = [{"gradcam": [], "hirescam": []} for _ in activations]
    for c in range(n_classes):
        grads = torch.autograd.grad(logits[:, c].sum(), activations, retain_graph=c < n_classes - 1)
        for k, (a, g) in enumerate(zip(activations, grads, strict=True)):
            alpha = g.mean(dim=tuple(range(2, g.ndim)), keepdim=True)
            cams[k]["gradcam"].append((alpha * a).sum(dim=1).detach())
            cams[k]["hirescam"].append((g * a).sum(dim=1).detach())
    return [{name: torch.stack(maps, dim=1) for name, maps in cam.items()} for cam in cams]


def blob_sums(field: np.ndarray, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ_g field(g) b_i(g) per particle: ``field`` (n_types, n, …) on the image grid, blobs from
    :func:`particle_blobs` → (N,)."""
    return (np.asarray(field, dtype=np.float64).ravel()[index] * weights).sum(axis=1)


def integrated_gradients(model: torch.nn.Module, image: torch.Tensor, target: int, n_steps: int,
                         internal_batch_size: int) -> tuple[np.ndarray, float]:
    """Captum IG of logit ``target`` for one image ``(1, C, *grid)`` from the zero baseline →
    (attribution ``(C, *grid)`` float64, completeness gap Σ IG − (y(x) − y(0)))."""
    from captum.attr import IntegratedGradients

    ig = IntegratedGradients(model)
    attribution, delta = ig.attribute(image, baselines=torch.zeros_like(image), target=target, n_steps=n_steps,
                                      internal_batch_size=internal_batch_size, return_convergence_delta=True)
    return attribution[0].detach().double().cpu().numpy(), float(delta.abs().max())


def occlusion_exact(model: torch.nn.Module, image: torch.Tensor, index: np.ndarray, weights: np.ndarray,
                    particles: np.ndarray, batch_size: int) -> np.ndarray:
    """y(x) − y(x − b_i) of every class for the particles ``particles`` → (len(particles), n_classes)."""
    flat = image[0].reshape(-1)
    with torch.no_grad():
        reference = model(image)[0]
        out = []
        for start in range(0, len(particles), batch_size):
            chunk = particles[start : start + batch_size]
            occluded = flat.repeat(len(chunk), 1)
            for row, i in enumerate(chunk):
                occluded[row].index_add_(0, torch.from_numpy(index[i]).to(flat.device),
                                         -torch.from_numpy(weights[i]).to(flat))
            out.append(reference - model(occluded.reshape((len(chunk),) + tuple(image.shape[1:]))))
    return torch.cat(out).double().cpu().numpy() if out else np.zeros((0, reference.numel()))


def state_attributions(model: torch.nn.Module, image: np.ndarray, state: State, blobs: tuple[np.ndarray, np.ndarray],
                       class_names: list[str], cfg: dict, generator: np.random.Generator,
                       device: torch.device | str = "cpu") -> tuple[dict[str, np.ndarray], dict]:
    """Attributions of one configuration: ``image`` (n_types, n, …) from its particles, ``blobs``
    their :func:`particle_blobs`. Returns ({``<method>_<class>``: (N,) float64}, diagnostics
    {``ig_completeness_gap``: max |gap| over classes, ``occlusion_particles``: count})."""
    cfg = check_attribution_cfg(cfg)
    methods = set(cfg["methods"])
    x = torch.from_numpy(np.asarray(image, dtype=np.float32)[None]).to(device)
    L, d = state.box_length, state.dimensions
    out, info = {}, {}
    n_blocks = len(model.blocks)
    if methods & {"gradcam_blocks", "hirescam"} and n_blocks > 1:
        cams = block_cams(model, x, len(class_names))
        for k, cam in enumerate(cams[:-1]):
            stride = model.layer_stride(k)
            maps = {}
            if "gradcam_blocks" in methods:
                maps[f"gradcam_b{k + 1}"] = torch.relu(cam["gradcam"])
                maps[f"gradcam_signed_b{k + 1}"] = cam["gradcam"]
            if "hirescam" in methods:
                maps[f"hirescam_b{k + 1}"] = cam["hirescam"]
            for name, m in maps.items():
                values = read_at_particles(upsample_periodic(m, stride)[0].cpu().numpy(), state.positions, L, d)
                for c, cls in enumerate(class_names):
                    out[f"{name}_{cls}"] = values[c]
    index, weights = blobs
    if "integrated_gradients" in methods:
        density = x[0].double().cpu().numpy().ravel()
        share = np.where(density[index] > 0, weights / np.where(density[index] > 0, density[index], 1.0), 0.0)
        gaps = []
        for c, cls in enumerate(class_names):
            attribution, gap = integrated_gradients(model, x, c, int(cfg["ig_steps"]), int(cfg["batch_size"]))
            out[f"ig_{cls}"] = (attribution.ravel()[index] * share).sum(axis=1)
            gaps.append(gap)
        info["ig_completeness_gap"] = float(max(gaps))
    if "occlusion" in methods:
        x.requires_grad_(True)
        logits = model(x)
        for c, cls in enumerate(class_names):
            (grad,) = torch.autograd.grad(logits[0, c], x, retain_graph=c < len(class_names) - 1)
            out[f"occlusion_linear_{cls}"] = blob_sums(grad[0].double().cpu().numpy(), index, weights)
        x = x.detach()
        n_subset = min(int(cfg["occlusion_particles"]), len(index))
        particles = np.sort(generator.choice(len(index), n_subset, replace=False))
        exact = occlusion_exact(model, x, index, weights, particles, int(cfg["batch_size"]))
        for c, cls in enumerate(class_names):
            values = np.full(len(index), np.nan)
            values[particles] = exact[:, c]
            out[f"occlusion_{cls}"] = values
        info["occlusion_particles"] = n_subset
    return out, info


def particle_attributions(model: torch.nn.Module, checkpoint: dict, states: list[State], cfg: dict | None, seed: int,
                          device: str | torch.device = "cpu", source: str = "the model") -> tuple[list[dict], dict]:
    """:func:`state_attributions` of every state, each voxelized on the checkpoint's own grid
    (:func:`voxelize_for_model`). The occlusion subset of state k is drawn from
    rng(seed, "occlusion", k). Returns (per state {``<method>_<class>``: (N,)}, summary with the
    largest IG completeness gap |Σ_i IG_i − (y(x) − y(0))|, the largest |y(x) − y(0)| it is
    relative to, and the logit range)."""
    cfg = check_attribution_cfg(cfg)
    model = model.to(device).eval()
    grid = model_grid(checkpoint, source)
    class_names = list(checkpoint["class_names"])
    n_types = int(checkpoint["in_channels"])
    per_particle, gaps, logits, gains = [], [], [], []
    for k, state in enumerate(states):
        image = voxelize_for_model(state, grid, n_types)
        blobs = particle_blobs(state.positions, state.typeid, state.box_length, state.dimensions, image.shape[-1],
                               float(grid["width"]), float(grid["truncation"]))
        arrays, info = state_attributions(model, image, state, blobs, class_names, cfg, rng(seed, "occlusion", k), device)
        per_particle.append(arrays)
        if "ig_completeness_gap" in info:
            gaps.append(info["ig_completeness_gap"])
        with torch.no_grad():
            x = torch.from_numpy(image[None]).to(device)
            logits.append(model(x)[0].cpu().numpy())
            gains.append(float((model(x) - model(torch.zeros_like(x))).abs().max()))
    logits = np.array(logits)
    summary = {"config": cfg, "fields": sorted(per_particle[0]) if per_particle else [],
               "ig_completeness_gap_max": float(max(gaps)) if gaps else None,
               "ig_gain_max": float(max(gains)) if gains else None,
               "logit_spread": float(np.ptp(logits)) if len(logits) else None}
    return per_particle, summary
