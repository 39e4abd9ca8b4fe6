"""Readable names of the pipeline's per-particle fields for figure titles, labels and the findings
(``propensity_dt10`` → "propensity, Δt = 10 τ")."""

from __future__ import annotations

import re

QUANTITY_NAMES = {
    "mobility": "mobility |Δr|",
    "cage_relative": "cage-relative displacement",
    "propensity": "propensity ⟨|Δr|⟩_iso",
    "icosahedral": "icosahedral order",
    "local_density": "local density",
    "potential_energy": "potential energy",
    "q4": "q4",
    "q6": "q6",
    "w6": "w6",
    "psi6": "|ψ6| (hexatic order)",
    "q6_avg": "q̄6 (neighbour-averaged)",
    "voronoi_volume": "Voronoi volume",
    "voronoi_area": "Voronoi area",
    "voronoi_neighbors": "Voronoi neighbours",
}


# per-particle attributions (glasscam.learn.attribution): method, optional conv block, class
ATTRIBUTION_KEY = re.compile(r"(gradcam_signed|gradcam|hirescam|ig|occlusion_linear|occlusion)_(?:b([0-9]+)_)?(.+)")
ATTRIBUTION_METHOD_NAMES = {
    "gradcam": "Grad-CAM",
    "gradcam_signed": "signed Grad-CAM",
    "hirescam": "HiResCAM",
    "ig": "Integrated Gradients",
    "occlusion": "occlusion",
    "occlusion_linear": "first-order occlusion",
}


def attribution_parts(key: str) -> tuple[str, int | None, str] | None:
    """(method, conv block or None for the last block / a whole-network method, class) of a
    per-particle attribution key: ``gradcam_signed_b1_young`` → ("gradcam_signed", 1, "young");
    None for another key."""
    match = ATTRIBUTION_KEY.fullmatch(key)
    if not match:
        return None
    return match[1], int(match[2]) if match[2] else None, match[3]


def attribution_name(key: str) -> str:
    """Readable name of an attribution key: ``gradcam_b1_young`` → "Grad-CAM block 1 (class
    young)", ``hirescam_b1_aged`` → "HiResCAM block 1 (class aged)", ``ig_glass`` → "Integrated
    Gradients (class glass)", ``occlusion_linear_glass`` → "first-order occlusion (class glass)";
    the last block's Grad-CAM has no block number (``gradcam_glass`` → "Grad-CAM (class glass)")."""
    parts = attribution_parts(key)
    if parts is None:
        return quantity_name(key)
    method, block, cls = parts
    return f"{ATTRIBUTION_METHOD_NAMES[method]}{f' block {block}' if block else ''} (class {cls})"


def quantity_name(quantity: str) -> str:
    """Readable name of a quantity (``local_density`` → "local density"); unknown names with
    underscores as spaces."""
    return QUANTITY_NAMES.get(quantity, quantity.replace("_", " "))


def readable_name(key: str) -> str:
    """Readable title of a per-particle field key: ``propensity_dt10`` → "propensity ⟨|Δr|⟩_iso,
    Δt = 10 τ", ``local_density_cg2`` → "local density, R_cg = 2 σ", ``gradcam_glass`` →
    "Grad-CAM (class glass)", ``gradcam_signed_glass`` → "signed Grad-CAM (class glass)", and the
    other attributions as :func:`attribution_name` names them."""
    match = ATTRIBUTION_KEY.fullmatch(key)
    if match:
        return attribution_name(key)
    match = re.fullmatch(r"(.+)_dt([0-9.eE+-]+)", key)
    if match:
        return f"{quantity_name(match[1])}, Δt = {match[2]} τ"
    match = re.fullmatch(r"(.+)_cg([0-9.eE+-]+)", key)
    if match:
        return f"{quantity_name(match[1])}, R_cg = {match[2]} σ"
    return quantity_name(key)


def species_name(species: str) -> str:
    """Readable name of a species column of the correlation tables: ``all`` → "all particles",
    ``A`` → "A particles"."""
    return f"{species} particles"


def coarse_graining_name(radius: float) -> str:
    """A coarse-graining radius with its unit: 0 → "raw" (not coarse-grained), 2 → "R_cg = 2 σ"."""
    return "raw" if float(radius) == 0 else f"R_cg = {float(radius):g} σ"


# searched hyperparameters (glasscam.learn.search): short names for the importance bars and
# the words a selected trial's value reads as in a panel title
HYPERPARAMETER_NAMES = {
    "depth": "depth",
    "base_width": "width",
    "convs_per_block": "convs/block",
    "residual": "residual",
    "learning_rate": "lr",
    "schedule": "schedule",
    "augment": "augmentation",
    "epochs": "epochs",
    "kernel_size": "kernel",
    "pool": "pooling",
    "dropout": "dropout",
    "weight_decay": "weight decay",
    "batch_size": "batch",
    "patience": "patience",
}
_HYPERPARAMETER_VALUES = {
    "depth": lambda v: f"{v} block{'s' if v != 1 else ''}",
    "base_width": lambda v: f"width {v}",
    "convs_per_block": lambda v: f"{v} conv{'s' if v != 1 else ''}/block",
    "residual": lambda v: "residual" if v else "no residual",
    "learning_rate": lambda v: f"lr {v:.1e}",
    "schedule": lambda v: f"{str(v).replace('_', '-')} schedule",
    "augment": lambda v: "augmented" if v else "no augmentation",
    "epochs": lambda v: f"≤ {v} epochs",
    "kernel_size": lambda v: f"kernel {v}",
    "pool": lambda v: f"{v} pooling",
    "dropout": lambda v: f"dropout {v:g}",
    "weight_decay": lambda v: f"weight decay {v:.1e}" if v else "no weight decay",
    "batch_size": lambda v: f"batch {v}",
    "patience": lambda v: f"patience {v}",
}


def hyperparameter_name(key: str) -> str:
    """Short name of a searched hyperparameter: ``convs_per_block`` → "convs/block"; unknown keys
    with underscores as spaces."""
    return HYPERPARAMETER_NAMES.get(key, key.replace("_", " "))


def hyperparameter_text(params: dict) -> str:
    """A trial's hyperparameters as words: {base_width: 8, convs_per_block: 2, kernel_size: 3,
    learning_rate: 0.0061, schedule: "cosine"} → "width 8, 2 convs/block, kernel 3, lr 6.1e-03,
    cosine schedule"; unknown keys as "name value"."""
    words = []
    for key, value in params.items():
        if key in _HYPERPARAMETER_VALUES:
            words.append(_HYPERPARAMETER_VALUES[key](value))
        else:
            words.append(f"{hyperparameter_name(key)} {value:.3g}" if isinstance(value, float) else f"{hyperparameter_name(key)} {value}")
    return ", ".join(words)


def _flatten_parentheses(text: str) -> str:
    """``text`` with each parenthesised aside that follows a space — 'a (b; c)' — turned into
    'a, b; c', nested ones included; parentheses not after a space, as in S(k), are kept."""
    out, stack = [], []
    for i, char in enumerate(text):
        if char == "(":
            aside = i > 0 and text[i - 1] == " "
            stack.append(aside)
            if aside:
                out[-1] = ", "  # the space before it
                continue
        elif char == ")" and stack and stack.pop():
            continue
        out.append(char)
    return "".join(out)


def q_star_text(q: float, source: str | None = None) -> str:
    """'q* = 7.125 σ⁻¹ (first peak of S(k) at the lowest T_L = 0.8, liquid_relaxation.json)':
    q* in σ⁻¹ and, in one pair of parentheses, where it comes from; the source's own asides
    (older records: 'liquid at T_L = 0.8 (first peak …; liquid_relaxation.json)') become commas
    instead of a second pair inside the first."""
    text = f"q* = {q:.4g} σ⁻¹"
    if source:
        text += f" ({_flatten_parentheses(source)})"
    return text


def subject_title(text: str, system: str | None = None, task: str | None = None, inputs: str | None = None) -> str:
    """A per-system-and-task figure's suptitle: '<system>, task <task>[, <inputs> inputs]: text'
    (``inputs``: the input kind of the one model the figure shows); ``text`` alone when neither
    system, task nor inputs is given."""
    subject = ", ".join(p for p in (system, f"task {task}" if task else None, f"{inputs} inputs" if inputs else None) if p)
    return f"{subject}: {text}" if subject else text
