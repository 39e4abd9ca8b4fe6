"""Stage of the structural-indicator rule."""

import numpy as np

from glasscam.analysis.structure import (
    _neighbor_settings,
    indicator_names,
    indicators_for_states,
)
from glasscam.core.keys import POTENTIAL_ENERGY_KEY, per_particle_key
from glasscam.io.gsd import per_frame_scalars, read_logs, read_states, write_states


def compute_indicators(*, glass_samples_gsd, out_gsd, indicator_cfg: dict, provenance: dict) -> None:
    """Stage: :func:`indicators_for_states` of every frame of ``glass_samples_gsd`` (read through
    :func:`glasscam.io.gsd.read_states`, so unsupported files are refused by name) → ``out_gsd``
    (same frames, boxes and per-frame logs, per-particle arrays ``particles/glasscam/<name>`` as
    listed by :func:`indicator_names`). Every frame must carry the per-particle log
    ``particles/glasscam/potential_energy``; ``indicator_cfg`` as for :func:`indicators_for_states`.
    """
    states = read_states(glass_samples_gsd)
    logs = read_logs(glass_samples_gsd)
    neighbors, cutoff = _neighbor_settings(states, indicator_cfg)
    energies = []
    for k, log in enumerate(logs):
        if POTENTIAL_ENERGY_KEY not in log:
            raise ValueError(f"{glass_samples_gsd}: frame {k} lacks per-particle log {POTENTIAL_ENERGY_KEY}")
        energies.append(log[POTENTIAL_ENERGY_KEY])
    cfg = {**indicator_cfg, "neighbor_cutoff": cutoff} if neighbors == "cutoff" else indicator_cfg
    out_logs = []
    for log, arrays in zip(logs, indicators_for_states(states, energies, cfg), strict=True):
        out_log = per_frame_scalars(log)
        out_log.update({per_particle_key(name): values.astype(np.float32) for name, values in arrays.items()})
        out_logs.append(out_log)
    record = {
        **provenance,
        "indicators": {
            "names": indicator_names(states[0].dimensions, indicator_cfg),
            "neighbors": neighbors,
            "neighbor_cutoff": cutoff,
            "config": indicator_cfg,
            "input": str(glass_samples_gsd),
        },
    }
    write_states(out_gsd, states, record, out_logs)
