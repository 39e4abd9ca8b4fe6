"""GPU resource arithmetic: `gpu_jobs_per_device` (k) MD jobs share one GPU.

Locally the `gpu` resource counts slots (k per device): an MD job takes 1, training / Grad-CAM
take k (a whole device), so under `--resources gpu=<devices × k>` k·devices MD jobs, or
`devices` learning jobs, hold it at once. On SLURM (`--gpus` = whole devices) MD jobs sharing
a device ask for `--gres=shard:1` and no whole GPU. The dry runs pin what the rules request.
"""

import re

import pytest
from test_workflow import ROOT, copy_workflow, snakemake

from glasscam.support.resources import MD_RULES, gpu_units, md_gres

LEARN_RULES = ("train_classifier", "learning_curve", "gradcam", "search_classifier", "train_control", "gradcam_control")


def test_md_rules_are_the_simulate_rules():
    text = (ROOT / "workflow" / "rules" / "simulate.smk").read_text()
    assert set(re.findall(r"^rule (\w+):", text, re.M)) == set(MD_RULES)
    profile = (ROOT / "profiles" / "slurm" / "config.yaml").read_text()
    for rule in MD_RULES:  # every MD rule gets the shard gres on SLURM
        assert re.search(rf"^  {rule}:\n(    .*\n)*?    gres: \"'\$GLASSCAM_MD_GRES'\"", profile, re.M), rule


@pytest.mark.parametrize("k", [1, 2, 4])
def test_gpu_units_arithmetic(k):
    for rule in MD_RULES:
        assert gpu_units(rule, True, k, local=True) == 1
        assert gpu_units(rule, True, k, local=False) == (1 if k == 1 else 0)
        assert gpu_units(rule, False, k, local=True) == 0
    for rule in LEARN_RULES:
        assert gpu_units(rule, True, k, local=True) == k  # a whole device = k slots
        assert gpu_units(rule, True, k, local=False) == 1  # --gpus=1
    assert md_gres(True, k) == ("" if k == 1 else "shard:1")
    assert md_gres(False, k) == ""
    # under --resources gpu=<devices × k>: k MD jobs per device, one learning job per device
    devices = 3
    assert devices * k // gpu_units("age", True, k, True) == devices * k
    assert devices * k // gpu_units("train_classifier", True, k, True) == devices


def test_gpu_units_rejects_zero_jobs_per_device():
    with pytest.raises(ValueError, match="gpu_jobs_per_device = 0"):
        gpu_units("age", True, 0, local=True)


def _requests(text: str) -> dict[str, set[tuple[str, str]]]:
    """rule → set of (gpu, gres) requested by its jobs in a dry run's job listing."""
    out: dict[str, set[tuple[str, str]]] = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", text):
        m = re.match(r"(?:local)?rule (\w+):", block)
        if not m:
            continue
        res = re.search(r"^\s+resources: (.*)$", block, re.M)
        fields = dict(kv.split("=", 1) for kv in res.group(1).split(", ") if "=" in kv) if res else {}
        out.setdefault(m.group(1), set()).add((fields.get("gpu", "-"), fields.get("gres", "-")))
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("gpu") / "wf")


@pytest.mark.parametrize("k", [1, 4])
def test_dry_run_local_requests(workdir, k):
    out = snakemake(workdir, "--dry-run", "--resources", f"gpu={2 * k}",
                    "--config", "gpu=True", f"gpu_jobs_per_device={k}")
    requests = _requests(out.stdout + out.stderr)
    assert {"initialize", "equilibrate_liquid", "quench", "age", "train_classifier", "gradcam"} <= set(requests)
    for rule, values in requests.items():
        gpus = {g for g, _ in values}
        if rule in MD_RULES:
            assert gpus == {"1"}, (rule, values)
        elif rule in LEARN_RULES:
            assert gpus == {str(k)}, (rule, values)
        else:
            assert gpus == {"-"}, (rule, values)


def test_dry_run_no_gpu_requests_nothing(workdir):
    out = snakemake(workdir, "--dry-run", "--config", "gpu=False", "gpu_jobs_per_device=4")
    for rule, values in _requests(out.stdout + out.stderr).items():
        assert {g for g, _ in values} <= {"0", "-"}, (rule, values)


@pytest.mark.parametrize("k", [1, 4])
def test_dry_run_slurm_profile_shard(workdir, k):
    """The SLURM profile gives every MD rule `gres` = one GPU shard when k > 1, none at k = 1.
    (A dry run schedules with the local arithmetic; the executor's `gpu` is pinned above.)"""
    out = snakemake(workdir, "--dry-run", "--workflow-profile", str(workdir / "profiles" / "slurm"),
                    "--config", "gpu=True", f"gpu_jobs_per_device={k}")
    requests = _requests(out.stdout + out.stderr)
    for rule, values in requests.items():
        gres = {r for _, r in values}
        if rule in MD_RULES:
            assert gres == {"shard:1" if k > 1 else ""}, (rule, values)
        else:
            assert gres == {"-"}, (rule, values)
