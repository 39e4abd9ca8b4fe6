"""Stage of the Grad-CAM rule."""

import json

import numpy as np

from glasscam.core.keys import PROVENANCE_KEY, SAMPLE_KEY, TIME_KEY, per_particle_key
from glasscam.io.datasets import write_gradcam_maps
from glasscam.io.gsd import (
    read_logs,
    read_states,
    write_states,
)
from glasscam.io.provenance import decode_json
from glasscam.io.provenance import provenance as make_provenance
from glasscam.learn.attribution import check_attribution_cfg, particle_attributions
from glasscam.learn.device import resolve_device
from glasscam.learn.gradcam import GradcamOptions, particle_gradcam
from glasscam.stages.models import load_checkpoint


def explain(*, model_path, glass_gsd, out_h5, out_gsd, gradcam_cfg: dict, device: str = "auto",
            attribution_cfg: dict | None = None, seed: int = 0) -> dict:
    """Grad-CAM of every class for every frame of ``glass_gsd`` (the analysis glass samples):
    maps to ``out_h5`` (``maps`` ReLU and ``signed_maps``, ``(S, n_classes, *grid)``, the
    probabilities, and which maps are identically zero), and the same frames with per-particle
    ``gradcam_<class>`` / ``gradcam_signed_<class>`` log arrays to ``out_gsd``.

    The frames are voxelized on the model's own grid (:func:`voxelize_for_model`).
    ``gradcam_cfg`` keys (defaults :class:`~glasscam.learn.gradcam.GradcamOptions`): layer ("last" or a conv-block
    index), batch_size. ``attribution_cfg`` (:class:`glasscam.learn.attribution.AttributionOptions`;
    None = no further attribution): the methods whose per-particle ``<method>_<class>`` arrays
    are added (Grad-CAM and HiResCAM at the earlier blocks, particle-integrated IG, exact and
    first-order occlusion); ``seed`` draws the occlusion subsets. Returns a summary (samples,
    layer, stride, device, zero maps per class, attribution fields and IG completeness gap)."""
    cfg = GradcamOptions.from_config(gradcam_cfg).as_dict()
    attribution = check_attribution_cfg(attribution_cfg) if attribution_cfg is not None else None
    dev = resolve_device(device)
    model, checkpoint = load_checkpoint(model_path, "cpu")  # moved to the device by particle_gradcam
    class_names = list(checkpoint["class_names"])
    stride = model.layer_stride(cfg["layer"])
    states = read_states(glass_gsd)  # through the checks every file passes
    raw_logs = read_logs(glass_gsd)
    upstream = raw_logs[0].get(PROVENANCE_KEY)
    upstream = decode_json(upstream) if upstream is not None else {}
    # every log chunk is carried (per-particle arrays included) except the provenance and the time,
    # which the writer sets itself
    logs = [{key: v for key, v in log.items() if key not in (PROVENANCE_KEY, TIME_KEY)} for log in raw_logs]
    per_particle, probability, maps = particle_gradcam(model, checkpoint, states, cfg, str(dev), return_maps=True,
                                                   source=str(model_path))
    attribution_summary = None
    if attribution is not None and attribution["methods"]:
        extra, attribution_summary = particle_attributions(model, checkpoint, states, attribution, seed, dev,
                                                           source=str(model_path))
        for arrays, more in zip(per_particle, extra, strict=True):
            arrays.update(more)
    zero = np.array([[not np.any(relu[c] > 0) for c in range(len(class_names))] for relu, _ in maps])
    record = make_provenance(
        {"gradcam": cfg, "attribution": attribution, "seed": seed}, stage="gradcam", attribution=attribution_summary, device=str(dev), model=str(model_path), glass_trajectory=str(glass_gsd),
        model_provenance=checkpoint["provenance"], glass_provenance=upstream, grid=checkpoint.get("grid"),
        class_names=class_names,
        zero_maps={name: int(zero[:, c].sum()) for c, name in enumerate(class_names)},
    )
    grid_shape = maps[0][0].shape
    write_gradcam_maps(
        out_h5,
        np.stack([m[0] for m in maps]),
        np.stack([m[1] for m in maps]),
        columns={
            "probability": probability.astype(np.float32),
            "zero_map": zero,
            "sample": np.array([int(np.ravel(log.get(SAMPLE_KEY, [k]))[0]) for k, log in enumerate(logs)], dtype=np.int64),
            "time": np.array([s.time for s in states]),
        },
        attrs={
            "class_names": class_names,
            "layer": str(cfg["layer"]),
            "layer_stride": stride,
            "box_length": states[0].box_length,
            "dimensions": states[0].dimensions,
            "spacing": states[0].box_length / grid_shape[-1],
            "provenance": json.dumps(record, sort_keys=True, default=str),
        },
    )
    for k, arrays in enumerate(per_particle):
        for name, values in arrays.items():
            logs[k][per_particle_key(name)] = values.astype(np.float32)
        for c, name in enumerate(class_names):
            logs[k][f"glasscam/p_{name}"] = np.array([probability[k, c]], dtype=np.float64)
    write_states(out_gsd, states, record, logs)
    return {"samples": len(states), "layer": str(cfg["layer"]), "layer_stride": stride, "device": str(dev),
            "zero_maps": record["zero_maps"], "attribution": attribution_summary}
