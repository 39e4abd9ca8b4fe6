"""GPU resource arithmetic of the Snakemake rules (``workflow/rules/common.smk``).

The rules' ``gpu`` resource counts different things on the two kinds of executor:

* **local** (workstation): *slots*, ``jobs_per_device`` (k) per GPU; Snakemake's global limit is
  ``--resources gpu=<devices × k>``. An MD job takes one slot, so k MD jobs share a device; a
  learning job (training, Grad-CAM) takes k slots, a whole device. With k = 1 a slot is a device.
* **cluster** (SLURM): whole devices, ``--gpus=<n>`` per job. A job cannot share a ``--gpus``
  device, so with k > 1 an MD job asks for no whole GPU and one GPU *shard* instead
  (``--gres=shard:1``; SLURM ≥ 22.05 with ``shard`` GRES configured); learning jobs keep one GPU.
"""

from __future__ import annotations

# the rules of workflow/rules/simulate.smk (tests/test_gpu_resources.py checks the list)
MD_RULES = ("initialize", "equilibrate_liquid", "quench", "age", "propensity_replicas", "inherent_structures",
            "liquid_dynamics")
MD_GRES_SHARED = "shard:1"


def gpu_units(rule: str, gpu_used: bool, jobs_per_device: int, local: bool) -> int:
    """Value of the ``gpu`` resource of one job of ``rule``.

    ``gpu_used``: GPU-capable jobs use a GPU at all (config ``gpu``); ``jobs_per_device``: k ≥ 1
    (config ``gpu_jobs_per_device``); ``local``: the executor runs jobs on this machine.
    Raises ValueError for k < 1.
    """
    if jobs_per_device < 1:
        raise ValueError(f"gpu_jobs_per_device = {jobs_per_device}; expected an integer ≥ 1")
    if not gpu_used:
        return 0
    md = rule in MD_RULES
    if local:
        return 1 if md else int(jobs_per_device)
    return 0 if (md and jobs_per_device > 1) else 1


def md_gres(gpu_used: bool, jobs_per_device: int) -> str:
    """``gres`` of MD jobs on a cluster executor: one GPU shard when k > 1, else none ('')."""
    return MD_GRES_SHARED if gpu_used and jobs_per_device > 1 else ""

