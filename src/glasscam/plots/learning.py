"""Figures of the learning stage: training curves, Grad-CAM maps with particles, per-particle
Grad-CAM distributions."""

from __future__ import annotations

import matplotlib
import matplotlib.colors
import matplotlib.lines
import matplotlib.ticker

from glasscam.core.keys import RUN_KEY, SAMPLE_KEY

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from glasscam.analysis.statistics import wilson_interval
from glasscam.core.keys import per_particle_key  # noqa: E402
from glasscam.io.atomic import atomic_output  # noqa: E402
from glasscam.io.gsd import open_trajectory, read_provenance, state_from_frame
from glasscam.io.tables import open_h5, read_json, read_split_counts  # noqa: E402
from glasscam.plots.chance import chance_banner, draw_banner  # noqa: E402
from glasscam.plots.layout import fit_height  # noqa: E402
from glasscam.report.names import attribution_name, attribution_parts, hyperparameter_name, hyperparameter_text, subject_title


def _save(fig, out_png) -> None:
    with atomic_output(out_png) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)


def plot_training_curves(metrics_json, out_png, system: str | None = None, task: str | None = None, inputs: str | None = None):
    """Cross-entropy loss and accuracy per epoch (train, validation; integer epoch ticks); the
    kept (best) epoch marked; the title names the system, the task and the input kind of the
    model (:func:`subject_title`) and gives the test accuracy, the training samples per class
    and the parameter count (not the device: results do not depend on it); a model whose test
    accuracy is not above its majority rate carries the at-chance banner. Returns the Figure
    (closed after saving)."""
    metrics = read_json(metrics_json)
    curves = metrics["curves"]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
    for split in ("train", "validation"):
        ax_loss.plot(curves["epoch"], curves[f"{split}_loss"], marker="o", ms=3, label=split)
        ax_acc.plot(curves["epoch"], curves[f"{split}_accuracy"], marker="o", ms=3, label=split)
    for ax in (ax_loss, ax_acc):
        ax.axvline(metrics["best_epoch"], color="0.6", ls="--", lw=1, label="kept epoch")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax_loss.set_ylabel("cross-entropy loss")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.legend(loc="lower right")
    counts = metrics["class_counts"]["train"]
    fig.suptitle(subject_title(
        f"test accuracy {metrics['test_accuracy']:.3f} — train samples "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + f" — {metrics['n_parameters']} parameters", system, task, inputs))
    if "confusion_matrix" in metrics:  # a model at chance says so above its curves
        chance_banner(fig, metrics_json)
    _save(fig, out_png)
    return fig


def showcase_sample(gradcam_h5, samples: list[int], class_name: str | None = None) -> tuple[int, float]:
    """Of the dataset samples ``samples``, the one whose Grad-CAM map of ``class_name`` (default:
    the positive class, class 1 — glass, aged) varies most over the grid (largest spatial
    standard deviation) → (sample, that standard deviation). A map that is identically zero
    (e.g. the glass map of a t_w = 0 sample, which the network does not call glass) shows
    nothing; the map with the most contrast is the one worth looking at."""
    with open_h5(gradcam_h5) as h5:
        class_names = [str(c) for c in h5.attrs["class_names"]]
        class_name = class_name or class_names[1]
        if class_name not in class_names:
            raise KeyError(f"{gradcam_h5}: no class {class_name!r} among {class_names}")
        c = class_names.index(class_name)
        rows = {int(s): k for k, s in enumerate(h5["sample"][:])}
        best = (None, -1.0)
        for sample in samples:
            if sample in rows:
                spread = float(np.std(h5["maps"][rows[sample], c]))
                if spread > best[1]:
                    best = (sample, spread)
    if best[0] is None:
        raise KeyError(f"{gradcam_h5}: none of the samples {samples[:5]}… has a Grad-CAM map")
    return best


def plot_gradcam_maps(gradcam_h5, glass_gsd, out_png, frame: int | None = None, class_name: str | None = None,
                      model_metrics=None):
    """Grad-CAM of every class for one glass sample of ``glass_gsd``, with the particles overlaid
    (2D), or in the mid-plane slice z ≈ 0 with the particles within half a cell of it (3D).

    ``frame`` None (default): the glass sample whose ``class_name`` map has the largest spatial
    standard deviation (:func:`showcase_sample`); the title says which sample and why. A map that
    is constant has one colour-bar tick ("all zero"). Returns the Figure (closed after saving)."""
    with open_trajectory(glass_gsd) as traj:
        samples = [int(f.log[SAMPLE_KEY][0]) for f in traj]
        if frame is None:
            if class_name is None:
                with open_h5(gradcam_h5) as h5:
                    class_name = str(h5.attrs["class_names"][1])
            sample, spread = showcase_sample(gradcam_h5, samples, class_name)
            frame = samples.index(sample)
            why = f"chosen: largest spatial spread of its '{class_name}' map (sd {spread:.2g}) of {len(samples)} glass samples"
        else:
            why = f"frame {frame} of the glass samples"
        gsd_frame = traj[frame]
        state = state_from_frame(gsd_frame)
        sample = int(gsd_frame.log[SAMPLE_KEY][0])
        run = int(gsd_frame.log[RUN_KEY][0]) if RUN_KEY in gsd_frame.log else None
    with open_h5(gradcam_h5) as h5:
        rows = np.flatnonzero(h5["sample"][:] == sample)
        if len(rows) == 0:
            raise KeyError(f"{gradcam_h5}: no Grad-CAM map of sample {sample} ({glass_gsd} frame {frame})")
        maps = h5["maps"][int(rows[0])]
        probability = h5["probability"][int(rows[0])] if "probability" in h5 else None
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
    fig, axes = plt.subplots(1, len(class_names), figsize=(4.6 * len(class_names), 4.5), constrained_layout=True)
    markers = ["o", "s", "^", "D"]
    for c, (ax, name, cam) in enumerate(zip(np.atleast_1d(axes), class_names, maps)):
        image = ax.imshow(cam.T, origin="lower", extent=(-L / 2, L / 2, -L / 2, L / 2), cmap="magma")
        for t, species in enumerate(state.types):
            sel = typeid == t
            ax.scatter(positions[sel, 0], positions[sel, 1], s=6 if t == 0 else 10, marker=markers[t % 4],
                       facecolors="none", edgecolors="cyan" if t == 0 else "lime", linewidths=0.5, label=f"{species} particles")
        if np.ptp(cam) == 0:
            ax.text(0, 0, f"map identically {float(cam.flat[0]):g}:\nno region raises the '{name}' score", ha="center",
                    va="center", fontsize=9, color="white", bbox={"facecolor": "black", "alpha": 0.6})
        score = f", p({name}) = {probability[c]:.2f}" if probability is not None else ""
        ax.set_title(f"Grad-CAM, class '{name}'{score}", fontsize=9)
        ax.set_xlabel("x (σ)")
        ax.set_ylabel("y (σ)")
        bar = fig.colorbar(image, ax=ax, shrink=0.8, label="Grad-CAM (a.u.)")
        if np.ptp(cam) == 0:  # a flat map: the bottom colour and one tick, not the ±0.1 range matplotlib invents
            value = float(cam.flat[0])
            image.set_clim(value, value + 1)
            bar.set_ticks([value], labels=["all zero" if value == 0 else f"all {value:.3g}"])
            bar.minorticks_off()
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8)
    where = f"run {run}, " if run is not None else ""
    plane = ", mid-plane slice z = 0" if d == 3 else ""
    fig.suptitle(f"glass sample {sample} ({where}t_w = {state.time:.3g} τ{plane}) — {why}", fontsize=9)
    fit_height(fig)  # the square maps left blank bands above and below them
    chance_banner(fig, model_metrics)  # the figure derives from this model's Grad-CAM
    _save(fig, out_png)
    return fig


HISTOGRAM_COLUMNS = 4  # at most this many panels in a row; more maps wrap into further rows


def _histogram_order(key: str, class_names: list[str]) -> tuple:
    """Panel order of a map: last-block Grad-CAM first, then earlier blocks; within a block the
    classes in their order, each ReLU map before its signed map."""
    method, block, cls = attribution_parts(key) or (key, None, key)
    return (block or 0, class_names.index(cls) if cls in class_names else len(class_names), method.endswith("signed"), key)


def plot_gradcam_histogram(gradcam_gsd, out_png, model_metrics=None, system: str | None = None, task: str | None = None,
                           inputs: str | None = None):
    """Distribution of per-particle Grad-CAM by species, one panel per map over all glass samples,
    in a grid of at most :data:`HISTOGRAM_COLUMNS` columns titled with the map's readable name
    (:func:`glasscam.report.names.attribution_name`; 'Grad-CAM block 1 (class young)', not
    'b1_young') and the species' means: the ReLU map of each class at each block (values ≥ 0;
    each frame divided by its maximum over the ReLU maps of that block for all classes, range
    [0, 1]) and, where present, the signed map before the ReLU (each frame divided by its
    maximum |value| over the signed maps of that block, range [−1, 1]). Every value is inside
    its panel's range, so no part of a distribution is cut off. One species legend, below the
    panels. The title names the system, the task and the input kind of the model
    (:func:`subject_title`). Returns the Figure (closed after saving)."""
    values: dict[str, dict[str, list[np.ndarray]]] = {}
    class_names = [str(c) for c in (read_provenance(gradcam_gsd, missing_ok=True).get("class_names") or [])]
    with open_trajectory(gradcam_gsd) as traj:
        types = list(traj[0].particles.types)
        maps = [key.rsplit("glasscam/", 1)[1] for key in traj[0].log if key.startswith(per_particle_key("gradcam_"))]
        if not maps:
            raise KeyError(f"{gradcam_gsd}: no {per_particle_key('gradcam_')}* arrays")
        maps.sort(key=lambda m: _histogram_order(m, class_names))
        n_frames = len(traj)
        for frame in traj:
            arrays = {m: np.asarray(frame.log[per_particle_key(m)], dtype=np.float64) for m in maps}
            groups: dict[tuple, dict[str, np.ndarray]] = {}
            for m, v in arrays.items():  # one scale per (method, block): the classes' maps of one block share it
                method, block, _ = attribution_parts(m) or (m, None, m)
                groups.setdefault((method, block), {})[m] = v
            typeid = np.asarray(frame.particles.typeid)
            for group in groups.values():
                scale = max(np.abs(v).max() for v in group.values()) or 1.0
                for m, v in group.items():
                    for t, species in enumerate(types):
                        values.setdefault(m, {}).setdefault(species, []).append(v[typeid == t] / scale)
    columns = min(HISTOGRAM_COLUMNS, len(maps))
    rows = -(-len(maps) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 0.6 + 3.4 * rows), constrained_layout=True, squeeze=False)
    for ax in axes.flat[len(maps):]:
        ax.axis("off")
    for ax, m in zip(axes.flat, maps):
        signed = m.startswith("gradcam_signed_")
        bins = np.linspace(-1 if signed else 0, 1, 41)
        means = []
        for k, (species, chunks) in enumerate(values[m].items()):
            v = np.concatenate(chunks)
            ax.hist(v, bins=bins, density=True, histtype="step", lw=1.5, color=f"C{k}", label=f"{species} particles")
            means.append(f"{species} {v.mean():.2f}")
        ax.set_title(f"{attribution_name(m)}\nmean: {', '.join(means)}", fontsize=8)
        if all(not np.any(np.concatenate(chunks)) for chunks in values[m].values()):  # say so, not a bare spike at 0
            ax.text(0.5, 0.5, "identically 0 in every sample", transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.3")
        ax.set_xlabel(f"{'signed' if signed else 'ReLU'} map / frame max |value| of its block", fontsize=8)
        ax.set_ylabel("probability density", fontsize=8)
        if signed:
            ax.axvline(0, color="k", lw=0.5)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8, title="species", title_fontsize=8)
    fig.suptitle(subject_title(f"per-particle Grad-CAM, {n_frames} glass samples", system, task, inputs))
    chance_banner(fig, model_metrics)  # the figure derives from this model's Grad-CAM
    _save(fig, out_png)
    return fig


ACCURACY_TOP = 1.05  # accuracy axes end above 1: a baseline at 1 or a Wilson cap at 1 stays off the top spine
ABOVE_BARS = 3  # zorder of points drawn over error bars (errorbar's lines and caps: 2)


def _wilson(correct: float, total: int) -> tuple[float, float]:
    return wilson_interval(correct, total)


def luminance(rgba) -> float:
    """Relative luminance (WCAG, 0 black … 1 white) of a colour."""
    channels = np.asarray(matplotlib.colors.to_rgba(rgba)[:3])
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrasting_text_colour(background) -> str:
    """Black on a light background, white on a dark one: whichever differs more from the
    background's luminance (by at least 0.5)."""
    return "black" if luminance(background) > 0.5 else "white"


def plot_classifier_inputs(metrics_by_inputs: dict[str, str], out_png, system: str | None = None, task: str | None = None):
    """Null check: test accuracy (bars, Wilson 95 % intervals) and test confusion matrix of the
    same classifier trained on thermal configurations and on their inherent structures (FIRE
    minima, no vibrations); per bar the majority-class rate of its test split (the accuracy of
    always answering the commoner class) as the chance level; the title names the system and the
    task (:func:`subject_title`). Returns the Figure (closed after saving)."""
    metrics = {}
    for inputs, path in metrics_by_inputs.items():
        metrics[inputs] = read_json(path)
    fig, axes = plt.subplots(1, 1 + len(metrics), figsize=(3.8 * (1 + len(metrics)), 3.6), constrained_layout=True)
    names = list(metrics)
    for k, name in enumerate(names):
        matrix = np.asarray(metrics[name]["confusion_matrix"])
        n_test, correct = int(matrix.sum()), int(np.trace(matrix))
        per_class = matrix.sum(axis=1)
        majority = per_class.max() / n_test
        accuracy = metrics[name]["test_accuracy"]
        lo, hi = _wilson(correct, n_test)
        axes[0].bar(k, accuracy, color=f"C{k}", width=0.6)
        axes[0].errorbar(k, accuracy, yerr=[[accuracy - lo], [hi - accuracy]], color="k", capsize=4, lw=1,
                         label="Wilson 95 % interval" if k == 0 else None)
        axes[0].hlines(majority, k - 0.4, k + 0.4, color="k", ls=":", lw=1.5,
                       label="chance: majority-class rate of the test split" if k == 0 else None)
        axes[0].text(k, 0.04, f"{accuracy:.3f}\n{correct}/{n_test}", ha="center", va="bottom", fontsize=8, color="white")
    axes[0].set_xticks(range(len(names)), names)
    axes[0].set_ylim(0, ACCURACY_TOP)
    axes[0].set_ylabel("test accuracy")
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=7)
    for ax, name in zip(axes[1:], names):
        matrix = np.asarray(metrics[name]["confusion_matrix"])
        image = ax.imshow(matrix, cmap="Blues")
        classes = metrics[name]["class_names"]
        ax.set_xticks(range(len(classes)), [f"pred. {c}" for c in classes])
        ax.set_yticks(range(len(classes)), [f"true {c}" for c in classes])
        for (i, j), count in np.ndenumerate(matrix):  # text colour from the cell's own colour: equal counts are all one shade
            ax.text(j, i, str(count), ha="center", va="center", color=contrasting_text_colour(image.to_rgba(count)))
        ax.set_title(f"{name} inputs (test split)", fontsize=9)
    fig.suptitle(subject_title("the same CNN on thermal configurations and on their inherent structures", system, task), fontsize=10)
    _save(fig, out_png)
    return fig


def plot_learning_curve(curves_by_inputs: dict[str, str], out_png, system: str | None = None, task: str | None = None):
    """Test accuracy against the number of training samples, one line per input kind: points the
    mean over repeats, bars its Wilson 95 % interval on the test split (binomial: cannot leave
    [0, 1]), small dots the single repeats; dashed: the one-number baseline (threshold on the
    potential energy per particle) on the same split; dotted: the majority-class rate of the test
    split (chance). The title names the system and the task (:func:`subject_title`). Returns the
    Figure (closed after saving)."""
    fig, ax = plt.subplots(figsize=(8, 3.8), constrained_layout=True)
    test_samples, ticks, chance = set(), set(), set()
    points = []  # (mean test accuracy, Wilson interval, test samples) of every point drawn
    for k, (inputs, path) in enumerate(curves_by_inputs.items()):
        curve = read_json(path)
        n_test = int(curve["test_samples"])
        test_samples.add(n_test)
        rows = curve["summary"]
        x = np.array([r["train_samples_mean"] for r in rows])
        ticks.update(np.round(x).astype(int).tolist())
        y = np.array([r["test_accuracy_mean"] for r in rows])
        interval = np.array([_wilson(v * n_test, n_test) for v in y]).T
        points += [(float(a), float(lo), float(hi), n_test) for a, lo, hi in zip(y, *interval, strict=True)]
        dodge = 1 + 0.04 * (k - (len(curves_by_inputs) - 1) / 2)  # side by side on the log axis
        ax.errorbar(x * dodge, y, yerr=np.abs(interval - y), color=f"C{k}", marker="o", ms=5, capsize=3,
                    label=f"{inputs} CNN: mean of {rows[0]['repeats']} repeat(s), Wilson 95 % bar")
        single = curve.get("rows", [])
        if single:
            ax.plot(np.array([r["train_samples"] for r in single]) * dodge, [r["test_accuracy"] for r in single], ".", color=f"C{k}",
                    ms=4, alpha=0.5, zorder=ABOVE_BARS, label=f"{inputs} CNN: single repeats")  # above the bars, which hid them
        ax.axhline(curve["energy_baseline"]["test_accuracy"], color=f"C{k}", ls="--", lw=1,
                   label=f"{inputs}: threshold on U/N (baseline)")
        by_class = curve["energy_baseline"].get("test_class_counts")
        if by_class:
            chance.add(max(by_class.values()) / sum(by_class.values()))
    if not chance:
        chance.add(_majority_rate_from_rows(curves_by_inputs))
    for value in sorted(c for c in chance if np.isfinite(c)):
        ax.axhline(value, color="0.4", ls=":", lw=1.2, label=f"chance: majority-class rate {value:.3f}")
    ax.set_xscale("log")
    ax.set_xticks(sorted(ticks), [str(t) for t in sorted(ticks)])
    ax.minorticks_off()
    ax.set_xlabel("training samples")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, ACCURACY_TOP)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    ax.set_title(f"test split: {', '.join(str(n) for n in sorted(test_samples))} samples", fontsize=9)
    fig.suptitle(subject_title("test accuracy against training data, per input kind", system, task), fontsize=10)
    warning = learning_curve_chance_warning(points, max((c for c in chance if np.isfinite(c)), default=float("nan")))
    if warning:
        draw_banner(fig, warning)
    _save(fig, out_png)
    return fig


def learning_curve_chance_warning(points, majority_rate: float) -> str:
    """The banner text of a learning curve none of whose points lies above chance ('' otherwise, or
    without a finite majority rate): ``points`` are (mean test accuracy, Wilson 95 % lower and upper
    bound, test samples); a point is above chance when its lower bound exceeds ``majority_rate``
    (as :func:`glasscam.analysis.statistics.chance_status` decides for one model)."""
    if not points or not np.isfinite(majority_rate) or any(lo > majority_rate for _, lo, _, _ in points):
        return ""
    accuracy, lo, hi, n = max(points, key=lambda p: (p[1], p[0]))
    return (f"classifier at chance at every training size: the curve shows no learning (best point: test accuracy "
            f"{accuracy:.3g}, 95 % interval [{lo:.3g}, {hi:.3g}] on {n} samples, not above the majority rate {majority_rate:.3g})")


def _majority_rate_from_rows(curves_by_inputs: dict[str, str]) -> float:
    """Majority-class rate of the test split from the per-group test accuracies of a learning
    curve (each group lists its class and sample count); NaN if absent."""
    for path in curves_by_inputs.values():
        curve = read_json(path)
        for row in curve.get("rows", []):
            groups = row.get("test_accuracy_by_group") or []
            counts: dict[str, int] = {}
            for g in groups:
                counts[g["class"]] = counts.get(g["class"], 0) + int(g["samples"])
            if counts:
                return max(counts.values()) / sum(counts.values())
    return float("nan")


def _bar_record(record: dict, key: str) -> tuple[dict | None, str]:
    """The accuracy record of bar ``key`` (cnn or a baseline) of a baselines.json record and ''
    or, for a bar that cannot be drawn, None and the reason ('not in baselines.json', or the
    record's own ``reason`` / ``error`` when it has no finite accuracy)."""
    r = record.get("cnn") if key == "cnn" else (record.get("baselines") or {}).get(key)
    if r is None:
        return None, "not in baselines.json"
    accuracy = r.get("accuracy")
    if accuracy is None or not np.isfinite(accuracy):
        return None, str(r.get("reason") or r.get("error") or "no accuracy (empty test split?)")
    return r, ""


def plot_baselines(baseline_jsons: dict, out_png):
    """Left: test accuracy of the CNN and of the classical baselines (logistic regression on
    descriptor statistics, threshold on U/N) per input kind, Wilson 95 % intervals, with the
    majority-class rate of the test split as chance; every bar slot carries its value above its
    interval (an accuracy of 0 reads "0.00"), or "n/a" and the reason where the record has no
    accuracy. Right, one panel per thermal cue of the thermal inputs (kinetic temperature,
    vibration amplitude): per-class median and 10–90 % range, and the test accuracy of a
    logistic regression on that cue alone. Returns the Figure (closed after saving)."""
    records = {}
    for inputs, path in baseline_jsons.items():
        records[inputs] = read_json(path)
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
            r, missing = _bar_record(record, key)
            x = i + (j - (len(methods) - 1) / 2) * width
            if missing:  # an empty slot says why it is empty
                ax.bar(x, 0, width, color=f"C{j}", label=label if i == 0 else None)
                ax.text(x, 0.02, f"n/a: {missing}", ha="center", va="bottom", rotation=90, fontsize=7, color="0.3",
                        gid="bar value")
                continue
            ax.bar(x, r["accuracy"], width, color=f"C{j}", label=label if i == 0 else None)
            ax.errorbar(x, r["accuracy"], yerr=[[r["accuracy"] - r["lo"]], [r["hi"] - r["accuracy"]]], color="k",
                        capsize=3, lw=1)
            # every bar carries its value, above its interval: a bar at 0 is a value, not a gap
            ax.annotate(f"{r['accuracy']:.2f}", (x, r["hi"]), xytext=(0, 2), textcoords="offset points", ha="center",
                        va="bottom", fontsize=7, gid="bar value")
        ax.hlines(record["chance_majority"], i - 0.45, i + 0.45, colors="0.3", linestyles=":",
                  label="majority class of the test split" if i == 0 else None)
        d = record["cnn_minus_best_baseline"]
        ax.annotate(f"CNN − best: {d['difference']:+.2f}\n[{d['lo']:+.2f}, {d['hi']:+.2f}]", (i, 1.1),
                    ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(records)), [f"{k} inputs\n(n = {r['cnn']['n']} test)" for k, r in records.items()])
    ax.set_ylim(0, 1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("test accuracy (Wilson 95 % interval)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)  # below: off the bars and their labels
    ax.set_title(f"task {first['task'].get('name', '?')}: {' vs '.join(first['class_names'])}")
    units = {"kinetic_temperature": "kinetic temperature (ε/k_B)",
             "vibration_amplitude": "vibration amplitude: RMS distance\nto the inherent structure (σ)"}
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
    title = fig.suptitle("median and 10–90 % range per class (thermal inputs)", fontsize=8)
    fig.canvas.draw()  # the layout places the panels; the title then centres over the cue panels (it sat in the top-right corner)
    cue_boxes = [cue_ax.get_position() for cue_ax in axes[1:]]
    title.set_x((min(b.x0 for b in cue_boxes) + max(b.x1 for b in cue_boxes)) / 2)
    _save(fig, out_png)
    return fig


def main_effect_shares(trials: list[dict], key: str = "score", bins: int = 3) -> dict[str, float]:
    """Per searched parameter, the share of the variance of ``key`` over trials explained by that
    parameter alone (η² of a one-way ANOVA: categorical values as groups, numbers in ``bins``
    quantile bins) — a main-effect importance, not fANOVA's: interactions are not separated."""
    y = np.array([t[key] for t in trials], dtype=float)
    total = float(np.sum((y - y.mean()) ** 2))
    out = {}
    for name in sorted({p for t in trials for p in t["params"]}):
        values = [t["params"].get(name) for t in trials]
        if len({str(v) for v in values}) < 2:
            continue  # fixed, or never varied: explains nothing
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) and len(set(values)) > bins:
            edges = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
            groups = np.searchsorted(edges, values, side="right")
        else:
            labels = sorted({str(v) for v in values})
            groups = np.array([labels.index(str(v)) for v in values])
        between = sum(np.sum(groups == g) * (y[groups == g].mean() - y.mean()) ** 2 for g in np.unique(groups))
        out[name] = float(between / total) if total > 0 else 0.0
    return out


MIN_TRIALS_FOR_SHARES = 8
LEGEND_MARKER_SIZE = 8  # points: the largest marker in a legend row of 7 pt text
SELECTED_MARKER_SIZE = 17  # points: the open square around the selected trial clears its markers and the at-chance ring


def plot_search(trials_by_inputs: dict[str, str], out_png, datasets_by_inputs: dict[str, str] | None = None,
                system: str | None = None, task: str | None = None, fit_threshold: float = 0.95):
    """The hyperparameter search of ``system`` and ``task`` (both named in the title, with the
    classes) per input kind (one row each): left, every trial's validation accuracy (filled) and
    unaugmented training accuracy at its kept epoch (open), the best validation score so far
    (step line), the selected trial (an open square around its markers, which stay visible), the
    fit threshold (dashed) and, from the dataset the
    search scored on (``datasets_by_inputs``), the majority-class rate of its validation split
    (dotted: the accuracy of always answering the commoner class); trials whose validation
    accuracy is at chance (Wilson 95 % lower bound not above that rate, as
    :func:`glasscam.analysis.statistics.chance_status` judges a test split) are ringed in red, and
    a selected trial at chance says so. Right: the main-effect share of the score variance per
    varied parameter (:func:`main_effect_shares`). Returns the Figure (closed after saving)."""
    searches = {inputs: read_json(path) for inputs, path in trials_by_inputs.items()}
    splits = {inputs: read_split_counts(path) for inputs, path in (datasets_by_inputs or {}).items()}
    ranked = any(len(search["trials"]) >= MIN_TRIALS_FOR_SHARES for search in searches.values())
    # no right column unless some search has enough trials to rank its parameters (it held one sentence)
    fig, axes = plt.subplots(len(searches), 2 if ranked else 1, figsize=(10 if ranked else 7, 1.0 + 4.0 * len(searches)),
                             constrained_layout=True, squeeze=False, gridspec_kw={"width_ratios": [3, 2]} if ranked else None)
    for (inputs, search), row in zip(searches.items(), axes):
        ax_hist, ax_imp = row[0], (row[1] if ranked else None)
        trials = search["trials"]
        numbers = [t["number"] for t in trials]
        val = [t["validation_accuracy"] for t in trials]
        ax_hist.plot(numbers, val, "o", color="C0", label="validation accuracy")
        ax_hist.plot(numbers, [t["train_accuracy"] for t in trials], "o", mfc="none", color="C1",
                     label="training accuracy (unaugmented)")
        best = np.maximum.accumulate([t["validation_accuracy"] for t in trials])
        ax_hist.step(numbers, best, where="post", color="C0", lw=1, label="best validation so far")
        chosen = search["selected"]
        chance = _validation_chance(splits.get(inputs))
        chosen_at_chance = chance is not None and _at_chance(chosen["validation_accuracy"], chance)
        # an open square around the trial, under its markers: a filled star hid the training accuracy beneath it
        ax_hist.plot(chosen["number"], chosen["validation_accuracy"], "s", ms=SELECTED_MARKER_SIZE, mfc="none", mec="k", mew=1.5,
                     zorder=1.5, clip_on=False, label=f"selected: trial {chosen['number']}" + (" — at chance" if chosen_at_chance else ""))
        ax_hist.axhline(fit_threshold, color="0.5", ls="--", lw=1, label=f"fit threshold {fit_threshold:g} (training accuracy)")
        if chance is not None:
            ax_hist.axhline(chance["majority_rate"], color="k", ls=":", lw=1.2,
                            label=f"chance: majority rate of the validation split {chance['majority_rate']:.3f} "
                                  f"({chance['majority']}/{chance['n']})")
            low = [t for t in trials if _at_chance(t["validation_accuracy"], chance)]
            if low:
                ax_hist.plot([t["number"] for t in low], [t["validation_accuracy"] for t in low], "o", ms=12, mfc="none",
                             mec="C3", mew=1.2, ls="None",
                             label=f"at chance: Wilson 95 % lower bound ≤ majority rate ({len(low)} of {len(trials)})")
        ax_hist.set_ylim(-0.04, 1.06)  # a trial at accuracy 0 or 1 keeps its whole marker
        ax_hist.set_xlabel("trial")
        ax_hist.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax_hist.set_ylabel("accuracy at the kept epoch")
        verdict = " (at chance)" if chosen_at_chance else ""
        too_few = len(trials) < MIN_TRIALS_FOR_SHARES
        note = (f"\n{len(trials)} trials: too few to rank the parameters (main-effect shares from {MIN_TRIALS_FOR_SHARES} trials on)"
                if too_few else "")
        ax_hist.set_title(f"{inputs} inputs — {len(trials)} trials; selected{verdict}: {hyperparameter_text(chosen['params'])}{note}",
                          fontsize=7, wrap=True)
        legend = ax_hist.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)  # below the axes, off the data
        for handle in legend.legend_handles:  # the ring and square as large as in the panel overflowed their legend rows
            if isinstance(handle, matplotlib.lines.Line2D):
                handle.set_markersize(min(handle.get_markersize(), LEGEND_MARKER_SIZE))
        if too_few:
            if ax_imp is not None:
                ax_imp.remove()  # the sentence is in the left panel's title
            continue
        shares = main_effect_shares(trials)
        names = sorted(shares, key=shares.get)
        ax_imp.barh(range(len(names)), [shares[n] for n in names], color="C2")
        ax_imp.set_yticks(range(len(names)), [hyperparameter_name(n) for n in names], fontsize=7)
        ax_imp.set_xlim(0, 1)
        ax_imp.set_xlabel("share of score variance (main effect, η²)")
    classes = next((f" ({' vs '.join(names)})" for names, _ in splits.values()), "")
    fig.suptitle(f"{system or 'system ?'}, task {task or '?'}{classes}: hyperparameter search scored on the validation split",
                 fontsize=10)
    _save(fig, out_png)
    return fig


def _validation_chance(split_counts) -> dict | None:
    """Majority-class rate of the validation split from (class names, {split: {class: n}}) →
    {majority_rate, majority, n}; None without counts."""
    if split_counts is None:
        return None
    counts = split_counts[1].get("validation") or {}
    n = int(sum(counts.values()))
    if n == 0:
        return None
    majority = int(max(counts.values()))
    return {"majority_rate": majority / n, "majority": majority, "n": n}


def _at_chance(accuracy: float, chance: dict) -> bool:
    """The validation accuracy's Wilson 95 % interval does not lie above the majority rate."""
    lo, _ = wilson_interval(round(accuracy * chance["n"]), chance["n"])
    return not lo > chance["majority_rate"]
