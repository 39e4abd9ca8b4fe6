"""Shared helpers of the benchmark suite: machine description, timing, statistics, config."""

from __future__ import annotations

import copy
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from glasscam.config.load import load_yaml

REPO = Path(__file__).resolve().parents[1]


def machine() -> dict:
    """CPU model, logical/usable cores, memory and load (a shared machine shows in the load)."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024**2, 2)
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_model": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": memory_gb,
        "platform": platform.platform(),
        "hostname": platform.node(),
        "loadavg_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def versions() -> dict:
    from glasscam.io.provenance import package_versions

    return package_versions()


def summary(values) -> dict:
    """Median, min, max and the raw repeats."""
    values = [float(v) for v in values]
    return {
        "median": statistics.median(values) if values else float("nan"),
        "min": min(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
        "raw": values,
    }


def timed(fn, repeats: int, warmup: int = 0) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def loglog_slope(n, t) -> float:
    """Least-squares slope of log t against log N."""
    n, t = np.asarray(n, float), np.asarray(t, float)
    ok = np.isfinite(t) & (t > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(n[ok]), np.log(t[ok]), 1)[0])


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_configs() -> tuple[dict, dict]:
    """(paper-scale config.yaml, demo = config/demo.yaml merged over it)."""
    paper = load_yaml(REPO / "config.yaml")  # YAML 1.2 numbers (5e-3 a float), as the pipeline reads them
    demo = deep_merge(paper, load_yaml(REPO / "config" / "demo.yaml"))
    return paper, demo


def system_spec(config: dict, name: str, n: int | None = None) -> dict:
    """``systems.<name>`` of ``config``, with N changed to ``n`` keeping the composition ratio."""
    spec = copy.deepcopy(config["systems"][name])
    if n is not None:
        comp = spec["composition"]
        total = sum(comp.values())
        keys = list(comp)
        new = {k: int(round(n * comp[k] / total)) for k in keys[:-1]}
        new[keys[-1]] = n - sum(new.values())
        spec["composition"] = new
        spec["N"] = n
    return spec
