"""Plot a benchmark results JSON: ``python benchmarks/plot.py results.json [out.png]``.

Needs only json + matplotlib, so any interpreter with matplotlib can draw it."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def plot(results: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    fig.suptitle(f"glasscam benchmarks — {results['machine']['cpu_model']}, "
                 f"{results['machine']['usable_cores']} cores ({results['mode']})", fontsize=11)

    ax = axes[0, 0]
    md = results["figures"].get("md", {})
    groups = {}
    for r in md.get("rows", []):
        groups.setdefault((r["engine"], r["threads"]), []).append(r)
    for (engine, threads), rows in groups.items():
        n = [r["N"] for r in rows]
        ax.plot(n, [r["bare_particle_steps_per_s"]["median"] for r in rows], "o--", label=f"{engine} ×{threads} bare")
        ax.plot(n, [r["pipeline_particle_steps_per_s"]["median"] for r in rows], "s-", label=f"{engine} ×{threads} pipeline")
    ax.set(xscale="log", xlabel="N", ylabel="particle-steps / s", title="MD (KA 3D)")
    ax.legend(fontsize=7)

    ax = axes[0, 1]
    vox = results["figures"].get("voxelization", {})
    labels = [f"{r['N']},{r['grid']}^{r['dimensions']}" for r in vox.get("rows", [])]
    x = range(len(labels))
    for key, name in (("voxelize_gaussian_ms", "voxelize_gaussian"), ("freud_1thread_ms", "freud (1 thread)"),
                      ("freud_default_threads_ms", "freud (all threads)")):
        ax.plot(list(x), [r[key]["median"] for r in vox.get("rows", [])], "o-", label=name)
    ax.set_xticks(list(x), labels, rotation=45, fontsize=7)
    ax.set(yscale="log", ylabel="ms / configuration", title="voxelization (w = 0.3)")
    ax.legend(fontsize=7)

    ax = axes[0, 2]
    learn = results["figures"].get("training", {})
    rows = learn.get("rows", [])
    labels = [f"{r['scale']} {r['dimensions']}D {r['grid']}" for r in rows]
    ax.bar(range(len(rows)), [r["train_samples_per_s"]["median"] for r in rows])
    ax.set_xticks(range(len(rows)), labels, rotation=30, fontsize=7)
    ax.set(yscale="log", ylabel="samples / s (fwd+bwd)", title="CNN training")
    twin = ax.twinx()
    twin.plot(range(len(rows)), [r["gradcam_over_forward_per_class_map"] for r in rows], "r^", label="Grad-CAM/forward per class")
    twin.axhline(3, color="r", lw=0.5)
    twin.set_ylabel("Grad-CAM ÷ forward", color="r")

    ax = axes[1, 0]
    ana = results["figures"].get("analysis", {})
    for key, fig_ in ana.get("figures", {}).items():
        n = fig_["N"]
        ax.plot(n, [fig_["seconds_per_frame"][str(k)]["median"] for k in n], "o-",
                label=f"{key} (slope {fig_['loglog_slope']:.2f})")
    ax.set(xscale="log", yscale="log", xlabel="N", ylabel="s / frame", title="analysis")
    ax.legend(fontsize=7)

    ax = axes[1, 1]
    demo = results["figures"].get("demo", {})
    per_rule = demo.get("existing", {}).get("per_rule_s", {})
    names = list(per_rule)[:20]
    ax.barh(range(len(names)), [per_rule[k]["sum_s"] for k in names])
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel="s (sum over jobs)", title=f"demo DAG per rule (span {demo.get('wall_s_judged') or float('nan'):.0f} s)")

    ax = axes[1, 2]
    ax.axis("off")
    lines = [f"{k}: {'PASS' if v['pass'] else 'FAIL' if v['pass'] is False else 'n/a'} — {v['target']}"
             for k, v in results["targets"].items()]
    ax.text(0, 1, "\n\n".join(lines), va="top", fontsize=8, wrap=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    path = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else path.with_suffix(".png")
    plot(json.loads(path.read_text()), out)
    print(out)
