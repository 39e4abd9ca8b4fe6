"""Figures of the learning stage: training curves, Grad-CAM maps with particles, per-particle
Grad-CAM distributions."""

from __future__ import annotations

import json

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..trajectory import atomic_output, open_trajectory, per_particle_key, state_from_frame  # noqa: E402


def _save(fig, out_png) -> None:
    with atomic_output(out_png) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)


def plot_training_curves(metrics_json, out_png) -> None:
    """Cross-entropy loss and accuracy per epoch (train, validation); the kept (best) epoch marked."""
    with open(metrics_json) as f:
        metrics = json.load(f)
    curves = metrics["curves"]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
    for split in ("train", "validation"):
        ax_loss.plot(curves["epoch"], curves[f"{split}_loss"], marker="o", ms=3, label=split)
        ax_acc.plot(curves["epoch"], curves[f"{split}_accuracy"], marker="o", ms=3, label=split)
    for ax in (ax_loss, ax_acc):
        ax.axvline(metrics["best_epoch"], color="0.6", ls="--", lw=1, label="kept epoch")
        ax.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.legend(loc="lower right")
    counts = metrics["class_counts"]["train"]
    fig.suptitle(
        f"test accuracy {metrics['test_accuracy']:.3f} — train samples "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + f" — {metrics['n_parameters']} parameters, {metrics['device']}"
    )
    _save(fig, out_png)


def plot_gradcam_maps(gradcam_h5, glass_gsd, out_png, frame: int = 0) -> None:
    """Grad-CAM of the glass and liquid class for glass sample ``frame`` of ``glass_gsd``, with the
    particles overlaid (2D), or in the mid-plane slice z ≈ 0 with the particles within half a
    cell of it (3D)."""
    with open_trajectory(glass_gsd) as traj:
        gsd_frame = traj[frame]
        state = state_from_frame(gsd_frame)
        sample = int(gsd_frame.log["glasscam/sample"][0])
    with h5py.File(gradcam_h5, "r") as h5:
        rows = np.flatnonzero(h5["sample"][:] == sample)
        if len(rows) == 0:
            raise KeyError(f"{gradcam_h5}: no Grad-CAM map of sample {sample} ({glass_gsd} frame {frame})")
        maps = h5["maps"][int(rows[0])]
        class_names = [str(c) for c in h5.attrs["class_names"]]
        L, d = float(h5.attrs["box_length"]), int(h5.attrs["dimensions"])
    n = maps.shape[-1]
    positions = state.positions
    if d == 3:
        k = n // 2  # cells k−1 and k straddle z = 0; show their mean (the field at z = 0)
        maps = 0.5 * (maps[..., k - 1] + maps[..., k])
        keep = np.abs(positions[:, 2]) < 0.5 * L / n
        positions, typeid = positions[keep], state.typeid[keep]
    else:
        typeid = state.typeid
    fig, axes = plt.subplots(1, len(class_names), figsize=(4.6 * len(class_names), 4.2), constrained_layout=True)
    markers = ["o", "s", "^", "D"]
    for ax, name, cam in zip(np.atleast_1d(axes), class_names, maps):
        image = ax.imshow(cam.T, origin="lower", extent=(-L / 2, L / 2, -L / 2, L / 2), cmap="magma")
        for t, species in enumerate(state.types):
            sel = typeid == t
            ax.scatter(positions[sel, 0], positions[sel, 1], s=6 if t == 0 else 10, marker=markers[t % 4],
                       facecolors="none", edgecolors="cyan" if t == 0 else "lime", linewidths=0.5, label=species)
        ax.set_title(f"Grad-CAM, class '{name}'" + (" (slice z = 0)" if d == 3 else ""))
        ax.set_xlabel("x (σ_AA)")
        ax.set_ylabel("y (σ_AA)")
        fig.colorbar(image, ax=ax, shrink=0.8)
    np.atleast_1d(axes)[0].legend(loc="upper right", fontsize=7)
    fig.suptitle(f"glass sample {sample}: t_w = {state.time:g} τ")
    _save(fig, out_png)


def plot_gradcam_histogram(gradcam_gsd, out_png) -> None:
    """Distribution of per-particle Grad-CAM by species and class over all glass samples; each
    frame's values are divided by that frame's maximum over particles and classes."""
    values: dict[str, dict[str, list[np.ndarray]]] = {}
    with open_trajectory(gradcam_gsd) as traj:
        types = list(traj[0].particles.types)
        classes = [key.rsplit("gradcam_", 1)[1] for key in traj[0].log if key.startswith(per_particle_key("gradcam_"))]
        if not classes:
            raise KeyError(f"{gradcam_gsd}: no {per_particle_key('gradcam_')}* arrays")
        n_frames = len(traj)
        for frame in traj:
            per_class = {c: np.asarray(frame.log[per_particle_key(f"gradcam_{c}")], dtype=np.float64) for c in classes}
            scale = max(v.max() for v in per_class.values()) or 1.0
            typeid = np.asarray(frame.particles.typeid)
            for c, v in per_class.items():
                for t, species in enumerate(types):
                    values.setdefault(c, {}).setdefault(species, []).append(v[typeid == t] / scale)
    fig, axes = plt.subplots(1, len(classes), figsize=(4.6 * len(classes), 3.6), constrained_layout=True)
    bins = np.linspace(0, 1, 41)
    for ax, c in zip(np.atleast_1d(axes), classes):
        for species, chunks in values[c].items():
            v = np.concatenate(chunks)
            ax.hist(v, bins=bins, density=True, histtype="step", lw=1.5, label=f"{species} (mean {v.mean():.2f})")
        ax.set_xlabel(f"Grad-CAM '{c}' / frame maximum")
        ax.set_ylabel("probability density")
        ax.legend()
    fig.suptitle(f"per-particle Grad-CAM, {n_frames} glass samples")
    _save(fig, out_png)


def plot_classifier_inputs(metrics_by_inputs: dict[str, str], out_png) -> None:
    """Null check: test accuracy and test confusion matrix of the same classifier trained on
    thermal configurations and on their inherent structures (FIRE minima, no vibrations)."""
    metrics = {}
    for inputs, path in metrics_by_inputs.items():
        with open(path) as f:
            metrics[inputs] = json.load(f)
    fig, axes = plt.subplots(1, 1 + len(metrics), figsize=(3.6 * (1 + len(metrics)), 3.3), constrained_layout=True)
    names = list(metrics)
    accuracy = [metrics[n]["test_accuracy"] for n in names]
    axes[0].bar(names, accuracy, color=["C0", "C1", "C2"][: len(names)])
    for k, value in enumerate(accuracy):
        axes[0].text(k, value + 0.01, f"{value:.3f}", ha="center", va="bottom")
    axes[0].axhline(0.5, color="0.5", ls=":", lw=1, label="chance")
    axes[0].set_ylim(0, 1.1)
    axes[0].set_ylabel("test accuracy")
    axes[0].legend(loc="lower right")
    for ax, name in zip(axes[1:], names):
        matrix = np.asarray(metrics[name]["confusion_matrix"])
        ax.imshow(matrix, cmap="Blues")
        classes = metrics[name]["class_names"]
        ax.set_xticks(range(len(classes)), [f"pred. {c}" for c in classes])
        ax.set_yticks(range(len(classes)), [f"true {c}" for c in classes])
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(j, i, str(count), ha="center", va="center")
        ax.set_title(f"{name} inputs (test split)")
    _save(fig, out_png)


def plot_learning_curve(curves_by_inputs: dict[str, str], out_png) -> None:
    """Test accuracy (mean ± standard deviation over repeats; band: binomial standard error on the
    test split) against the number of training samples, one line per input kind; dashed: the
    one-number baseline (threshold on the potential energy per particle) on the same split."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6), constrained_layout=True)
    test_samples, ticks = set(), set()
    for k, (inputs, path) in enumerate(curves_by_inputs.items()):
        with open(path) as f:
            curve = json.load(f)
        test_samples.add(curve["test_samples"])
        rows = curve["summary"]
        x = np.array([r["train_samples_mean"] for r in rows])
        ticks.update(np.round(x).astype(int).tolist())
        y = np.array([r["test_accuracy_mean"] for r in rows])
        spread = np.array([r["test_accuracy_std"] or 0.0 for r in rows])
        band = np.array([r["binomial_standard_error"] for r in rows])
        ax.fill_between(x, y - band, y + band, color=f"C{k}", alpha=0.2, lw=0)
        ax.errorbar(x, y, yerr=spread, color=f"C{k}", marker="o", ms=4, capsize=3,
                    label=f"{inputs} CNN ({rows[0]['repeats']} repeats)")
        ax.axhline(curve["energy_baseline"]["test_accuracy"], color=f"C{k}", ls="--", lw=1,
                   label=f"{inputs}: threshold on U/N")
    ax.axhline(0.5, color="0.5", ls=":", lw=1, label="chance")
    ax.set_xscale("log")
    ax.set_xticks(sorted(ticks), [str(t) for t in sorted(ticks)])
    ax.minorticks_off()
    ax.set_xlabel("training samples")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.3, 1.02)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    ax.set_title(f"test split: {', '.join(str(n) for n in sorted(test_samples))} samples")
    _save(fig, out_png)


def plot_baselines(baseline_jsons: dict, out_png) -> None:
    """Left: test accuracy of the CNN and of the classical baselines (logistic regression on
    descriptor statistics, threshold on U/N) per input kind, Wilson 95 % intervals, with the
    majority-class rate of the test split as chance. Right, one panel per thermal cue of the
    thermal inputs (kinetic temperature, vibration amplitude): per-class median and 10–90 %
    range, and the test accuracy of a logistic regression on that cue alone."""
    records = {}
    for inputs, path in baseline_jsons.items():
        with open(path) as f:
            records[inputs] = json.load(f)
    first = next(iter(records.values()))
    cues = records.get("thermal", first)["thermal_cues"]
    fig, axes = plt.subplots(1, 1 + max(1, len(cues)), figsize=(5 + 3.2 * max(1, len(cues)), 4.2),
                             constrained_layout=True, gridspec_kw={"width_ratios": [1.6] + [1] * max(1, len(cues))})
    ax = axes[0]
    methods = [("cnn", "CNN"), ("descriptor_logistic", "logistic regression\non descriptor statistics"),
               ("energy_threshold", "threshold on U/N")]
    width = 0.8 / len(methods)
    for i, (inputs, record) in enumerate(records.items()):
        for j, (key, label) in enumerate(methods):
            r = record["cnn"] if key == "cnn" else record["baselines"][key]
            x = i + (j - (len(methods) - 1) / 2) * width
            ax.bar(x, r["accuracy"], width, color=f"C{j}", label=label if i == 0 else None)
            ax.errorbar(x, r["accuracy"], yerr=[[r["accuracy"] - r["lo"]], [r["hi"] - r["accuracy"]]], color="k",
                        capsize=3, lw=1)
        ax.hlines(record["chance_majority"], i - 0.45, i + 0.45, colors="0.3", linestyles=":",
                  label="majority class of the test split" if i == 0 else None)
        d = record["cnn_minus_best_baseline"]
        ax.annotate(f"CNN − best: {d['difference']:+.2f}\n[{d['lo']:+.2f}, {d['hi']:+.2f}]", (i, 1.02),
                    ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(records)), [f"{k} inputs\n(n = {r['cnn']['n']} test)" for k, r in records.items()])
    ax.set_ylim(0, 1.45)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("test accuracy (Wilson 95 % interval)")
    ax.legend(fontsize=7, loc="upper right", ncol=2, framealpha=0.9)
    ax.set_title(f"task {first['task'].get('name', '?')}: {' vs '.join(first['class_names'])}")
    units = {"kinetic_temperature": "kinetic temperature (ε_AA/k_B)",
             "vibration_amplitude": "vibration amplitude: RMS distance\nto the inherent structure (σ_AA)"}
    if not cues:
        axes[1].axis("off")
    for cue_ax, (name, cue) in zip(axes[1:], cues.items()):
        for c, cls in enumerate(first["class_names"]):
            dist = cue["distribution"][cls]
            if not dist.get("n"):
                continue
            cue_ax.errorbar([dist["q50"]], [c], xerr=[[dist["q50"] - dist["q10"]], [dist["q90"] - dist["q50"]]],
                            fmt="o", color=f"C{c}", capsize=3)
        acc = cue["logistic"]
        cue_ax.set_yticks(range(len(first["class_names"])), first["class_names"])
        cue_ax.set_ylim(-0.6, len(first["class_names"]) - 0.4)
        cue_ax.set_xlabel(units.get(name, name))
        cue_ax.set_title(f"accuracy on it alone {acc['accuracy']:.2f}\n[{acc['lo']:.2f}, {acc['hi']:.2f}]", fontsize=9)
    fig.suptitle("median and 10–90 % range per class (thermal inputs)", x=0.99, ha="right", fontsize=8)
    _save(fig, out_png)
