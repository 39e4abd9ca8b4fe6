"""Voxelization: ms per configuration of glasscam.learn.voxelize.voxelize_gaussian (all channels in one
call) against freud.density.GaussianDensity called once per species (r_max = 4w, same grid and
width), at 1 freud thread (as many threads as voxelize_gaussian uses) and at freud's default."""

from __future__ import annotations

import freud
import numpy as np
from bench_common import summary, timed

from glasscam.learn.voxelize import voxelize_gaussian

DENSITY = 1.2  # ka3d / abm2d


def _points(n: int, d: int, generator) -> tuple[np.ndarray, np.ndarray, float]:
    L = (n / DENSITY) ** (1.0 / d)
    pos = np.zeros((n, 3))
    pos[:, :d] = generator.uniform(-L / 2, L / 2, size=(n, d))
    typeid = (np.arange(n) >= int(0.8 * n)).astype(np.int64)  # 80:20
    return pos, typeid, L


def _freud_all_channels(pos, typeid, L, d, grid, width, truncation, threads):
    box = freud.box.Box.from_box([L, L, L if d == 3 else 0, 0, 0, 0], dimensions=d)
    freud.parallel.set_num_threads(threads if threads else None)
    gd = freud.density.GaussianDensity(grid if d == 3 else (grid, grid), truncation * width, width)
    out = []
    for t in range(2):
        out.append(np.asarray(gd.compute((box, pos[typeid == t])).density))
    return out


def run(quick: bool, repeats: int, log) -> dict:
    generator = np.random.default_rng(7)
    width, truncation = 0.3, 4.0
    cases = [(4096, 3, 32), (4096, 3, 48), (4096, 3, 64), (1000, 3, 64), (512, 3, 64), (4096, 2, 128)]
    if not quick:
        cases += [(16000, 3, 64), (32000, 3, 64), (4096, 3, 96), (16384, 2, 256)]
    rows = []
    for n, d, grid in cases:
        pos, typeid, L = _points(n, d, generator)
        spacing = L / grid
        ours = timed(lambda: voxelize_gaussian(pos, typeid, 2, L, d, spacing, width, truncation), repeats, warmup=1)
        f1 = timed(lambda: _freud_all_channels(pos, typeid, L, d, grid, width, truncation, 1), repeats, warmup=1)
        fall = timed(lambda: _freud_all_channels(pos, typeid, L, d, grid, width, truncation, 0), repeats, warmup=1)
        freud.parallel.set_num_threads(None)
        # same field up to freud's normalisation: compare shapes via correlation of the A channel
        a = voxelize_gaussian(pos, typeid, 2, L, d, spacing, width, truncation)[0].ravel()
        b = _freud_all_channels(pos, typeid, L, d, grid, width, truncation, 0)[0].ravel()
        agreement = float(np.corrcoef(a, b)[0, 1])
        row = {
            "N": n, "dimensions": d, "grid": grid, "width": width, "spacing": spacing, "r_max": truncation * width,
            "voxelize_gaussian_ms": summary(1e3 * np.array(ours)),
            "freud_1thread_ms": summary(1e3 * np.array(f1)),
            "freud_default_threads_ms": summary(1e3 * np.array(fall)),
            "speedup_vs_freud_1thread": float(np.median(f1) / np.median(ours)),
            "speedup_vs_freud_default_threads": float(np.median(fall) / np.median(ours)),
            "field_correlation_with_freud": agreement,
        }
        rows.append(row)
        log(f"voxel N={n} d={d} {grid}^{d}: ours {row['voxelize_gaussian_ms']['median']:.1f} ms, freud(1t) "
            f"{row['freud_1thread_ms']['median']:.1f} ms, freud(all) {row['freud_default_threads_ms']['median']:.1f} ms")
    key = next(r for r in rows if r["N"] == 4096 and r["dimensions"] == 3 and r["grid"] == 64)
    return {
        "description": "ms per configuration (both species channels); freud: one GaussianDensity.compute per species",
        "freud_threads_default": freud.parallel.get_num_threads(),
        "rows": rows,
        "target": "voxelize_gaussian >= 1x freud (per channel, same thread count) at N = 4096, 64^3, w = 0.3",
        "speedup_at_target_case_1thread": key["speedup_vs_freud_1thread"],
        "speedup_at_target_case_default_threads": key["speedup_vs_freud_default_threads"],
        "pass": bool(key["speedup_vs_freud_1thread"] >= 1.0),
    }
