"""CNN training throughput (samples/s of forward + loss + backward + Adam step, train mode, the
training loop's batch size) for the demo- and paper-size models on their configured grids, 2D and
3D; Grad-CAM (glasscam.learn.gradcam.gradcam_maps, every class + the probability pass) per sample
against one eval-mode forward pass per sample."""

from __future__ import annotations

import time

import numpy as np
import torch
from bench_common import summary
from torch import nn

from glasscam.core.grid import grid_points
from glasscam.core.systems import system_from_config
from glasscam.learn.gradcam import gradcam_maps
from glasscam.learn.model import build_model

SYSTEMS = {2: "abm2d", 3: "ka3d"}


def _grid(config: dict, system_name: str) -> int:
    system = system_from_config(system_name, config["systems"][system_name])
    v = config["voxel"]
    return grid_points(system.box_length, float(v["spacing"]), int(v.get("grid_multiple", 1)))


def _time(fn, repeats: int, warmup: int = 1, min_seconds: float = 0.3) -> list[float]:
    """Seconds per call, ``repeats`` times; each repeat loops over calls for ≥ ``min_seconds``
    (cheap calls are averaged over many so timer and scheduling noise stays small)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        calls, t0 = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= min_seconds:
                break
        out.append(elapsed / calls)
    return out


def run(configs: dict, quick: bool, repeats: int, threads: int, log) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rows = []
    for scale, config in configs.items():
        for d, system_name in SYSTEMS.items():
            grid = _grid(config, system_name)
            model = build_model(config["model"], d, 2, 2)
            batch = int(config["training"]["batch_size"])
            if quick:
                batch = min(batch, 8)  # --quick: smaller batches of the paper-size 3D model
            x = torch.rand((batch, 2) + (grid,) * d)
            y = torch.randint(0, 2, (batch,))
            loss_fn = nn.CrossEntropyLoss()
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

            def train_step():
                model.train()
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()

            train = _time(train_step, repeats)
            model.eval()
            gb = min(batch, int(config.get("gradcam", {}).get("batch_size", 16)))
            xg = x[:gb]

            def forward():
                with torch.no_grad():
                    model(xg)

            layer = model.gradcam_layer(config.get("gradcam", {}).get("layer", "last"))
            stride = model.layer_stride(config.get("gradcam", {}).get("layer", "last"))
            fwd = _time(forward, repeats)
            cam = _time(lambda: gradcam_maps(model, layer, xg, 2, stride), repeats)
            fwd_ps = np.array(fwd) / gb
            cam_ps = np.array(cam) / gb
            row = {
                "scale": scale, "dimensions": d, "system": system_name, "grid": grid, "channels": config["model"]["channels"],
                "batch_size": batch, "torch_threads": threads,
                "n_parameters": int(sum(p.numel() for p in model.parameters())),
                "train_samples_per_s": summary(batch / np.array(train)),
                "forward_ms_per_sample": summary(1e3 * fwd_ps),
                "gradcam_ms_per_sample_all_classes": summary(1e3 * cam_ps),
                "gradcam_over_forward_all_classes": float(np.median(cam_ps) / np.median(fwd_ps)),
                "gradcam_over_forward_per_class_map": float(np.median(cam_ps) / 2 / np.median(fwd_ps)),
                "gradcam_batch": gb,
            }
            rows.append(row)
            log(f"learn {scale} {d}D {grid}^{d}: {row['train_samples_per_s']['median']:.3g} samples/s train, "
                f"Grad-CAM/forward {row['gradcam_over_forward_all_classes']:.2f} (all classes), "
                f"{row['gradcam_over_forward_per_class_map']:.2f} per class")
    worst_per_class = max(r["gradcam_over_forward_per_class_map"] for r in rows)
    worst_all = max(r["gradcam_over_forward_all_classes"] for r in rows)
    return {
        "description": "train step = forward + cross-entropy + backward + Adam step on random images of the "
                       "configured grid (demo: config/demo.yaml, paper: config.yaml; 2D abm2d, 3D ka3d); "
                       "Grad-CAM = gradcam_maps (LayerGradCam for each of 2 classes + one softmax forward)",
        "rows": rows,
        "target": "Grad-CAM <= 3x a forward pass (per sample); judged per class map (one forward + one backward "
                  "each); the all-classes figure (what the explain rule runs) is reported alongside",
        "worst_gradcam_over_forward_per_class_map": worst_per_class,
        "worst_gradcam_over_forward_all_classes": worst_all,
        "pass": bool(worst_per_class <= 3.0),
        "pass_all_classes": bool(worst_all <= 3.0),
    }
