"""Correlations recover planted relations; the shuffled null and the correlation length behave."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr

from glasscam.analysis.correlations import CORRELATION_COLUMNS, FrameCorrelations
from glasscam.core.keys import per_particle_key
from glasscam.core.state import State
from glasscam.io.gsd import write_states
from glasscam.plots.analysis import (
    plot_correlation_length,
    plot_correlation_matrix,
    plot_correlation_vs_coarse_graining,
    plot_gradcam_vs_mobility,
)
from glasscam.stages.correlate import correlate, gradcam_correlation_length

N_FRAMES, N_PARTICLES = 24, 250


def make_state(points, box_length, dimensions, typeid) -> State:
    return State.from_unwrapped(points, box_length, dimensions, typeid=typeid)


def write_fields(path, states, fields: list[dict], samples):
    logs = [
        {"glasscam/sample": np.array([s]), **{per_particle_key(k): np.asarray(v, np.float32) for k, v in f.items()}}
        for s, f in zip(samples, fields, strict=True)
    ]
    write_states(path, states, {"class_names": ["liquid", "glass"]}, logs)


@pytest.fixture()
def planted(tmp_path):
    """Grad-CAM g ~ N(0,1); planted indicator 2g + ε (ρ_Pearson = 2/√5); mobility −g + ε at
    Δt = 1, undefined (NaN) in half the frames at Δt = 10; an unrelated indicator."""
    rng = np.random.default_rng(0)
    states, gradcam, indicators, mobility = [], [], [], []
    typeid = (np.arange(N_PARTICLES) >= 200).astype(int)
    for k in range(N_FRAMES):
        states.append(make_state(rng.uniform(-3, 3, (N_PARTICLES, 3)), 6.0, 3, typeid))
        g = rng.normal(size=N_PARTICLES)
        gradcam.append({"gradcam_glass": g, "gradcam_liquid": -g})
        indicators.append({"planted": 2 * g + rng.normal(size=N_PARTICLES), "planted_cg2": 2 * g + rng.normal(size=N_PARTICLES), "unrelated": rng.normal(size=N_PARTICLES)})
        late = -g + rng.normal(size=N_PARTICLES) if k % 2 else np.full(N_PARTICLES, np.nan)
        mobility.append({"mobility_dt1": -g + rng.normal(size=N_PARTICLES), "mobility_dt10": late})
    samples = list(range(100, 100 + N_FRAMES))
    paths = {name: tmp_path / f"{name}.gsd" for name in ("gradcam", "indicators", "mobility")}
    write_fields(paths["gradcam"], states, gradcam, samples)
    write_fields(paths["indicators"], states, indicators, samples)
    write_fields(paths["mobility"], states, mobility, samples)
    return paths, states, gradcam, indicators, samples


def read_rows(path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_frame_correlations_are_within_frame_and_n_weighted():
    rng = np.random.default_rng(1)
    sizes = [40, 80, 2, 60]  # the 2-particle frame is left out
    xs = [rng.integers(0, 6, n).astype(float) for n in sizes]  # ties
    ys = [x + rng.normal(size=len(x)) + 10 * k for k, x in enumerate(xs)]  # frame offsets
    xs[3] = np.full(60, 1.0)  # constant field: left out
    xs.append(rng.normal(size=50))
    ys.append(-xs[-1] + rng.normal(size=50))
    frames = FrameCorrelations.compute(xs, ys, n_null=200, generator=rng)
    np.testing.assert_array_equal(frames.frame, [0, 1, 4])
    for k, f in enumerate(frames.frame):
        assert frames.pearson[k] == pytest.approx(pearsonr(xs[f], ys[f])[0])
        assert frames.spearman[k] == pytest.approx(spearmanr(xs[f], ys[f])[0])
    pooled = frames.pooled(np.arange(5), n_bootstrap=50, generator=rng)
    n = np.array([40, 80, 50])
    assert pooled["n_samples"] == 3 and pooled["n_particles"] == 170
    assert pooled["pearson"] == pytest.approx(n @ frames.pearson / n.sum())
    assert pooled["spearman"] == pytest.approx(n @ frames.spearman / n.sum())
    assert pooled["spearman_lo"] <= pooled["spearman"] <= pooled["spearman_hi"]
    assert abs(pooled["null_spearman_mean"]) < 0.03 and pooled["null_spearman_lo"] < 0 < pooled["null_spearman_hi"]
    only_first = frames.pooled(np.array([0]), n_bootstrap=50, generator=rng)
    assert only_first["spearman"] == pytest.approx(frames.spearman[0]) and np.isnan(only_first.get("spearman_lo", np.nan))


def test_correlate_recovers_planted_relation(planted, tmp_path):
    paths, *_ = planted
    correlate(gradcam_gsd=paths["gradcam"], indicators_gsd=paths["indicators"], mobility_gsd=paths["mobility"], out_csv=tmp_path / "corr.csv", correlation_cfg={"n_bootstrap": 100, "n_null": 60}, seed=7)
    rows = read_rows(tmp_path / "corr.csv")
    assert list(rows[0]) == CORRELATION_COLUMNS
    assert {r["t_w"] for r in rows} == {"all", "0.0"}  # every frame has t_w = 0
    table = {(r["quantity"], r["coarse_graining"], r["window"], r["species"]): r for r in rows if r["t_w"] == "all"}
    assert len(rows) == 5 * 3 * 2  # planted, planted_cg2, unrelated, mobility×2 → 5 quantities × 3 species × (all, t_w = 0)
    pearson, spearman = 2 / np.sqrt(5), 6 / np.pi * np.arcsin(1 / np.sqrt(5))  # bivariate normal
    for key in (("planted", "0.0", "nan", "all"), ("planted", "2.0", "nan", "all"), ("planted", "0.0", "nan", "A")):
        row = {k: float(v) if k not in ("field", "quantity", "kind", "species", "t_w") else v for k, v in table[key].items()}
        assert row["kind"] == "indicator"
        assert row["pearson"] == pytest.approx(pearson, abs=0.02)
        assert row["spearman"] == pytest.approx(spearman, abs=0.02)
        assert row["pearson_lo"] < pearson < row["pearson_hi"]
        assert row["spearman_lo"] < spearman < row["spearman_hi"]
        assert row["spearman_hi"] - row["spearman_lo"] < 0.05
        assert abs(row["null_spearman_mean"]) < 0.01
        assert row["null_spearman_lo"] < 0 < row["null_spearman_hi"] < 0.05
    assert int(table[("planted", "0.0", "nan", "all")]["n_particles"]) == N_FRAMES * N_PARTICLES
    assert int(table[("planted", "0.0", "nan", "B")]["n_particles"]) == N_FRAMES * 50
    unrelated = table[("unrelated", "0.0", "nan", "all")]
    assert float(unrelated["spearman_lo"]) < 0 < float(unrelated["spearman_hi"])
    fast = table[("mobility", "0.0", "1.0", "all")]
    assert fast["kind"] == "mobility"
    assert float(fast["pearson"]) == pytest.approx(-1 / np.sqrt(2), abs=0.02)
    late = table[("mobility", "0.0", "10.0", "all")]
    assert int(late["n_samples"]) == N_FRAMES // 2 and int(late["n_particles"]) == N_FRAMES // 2 * N_PARTICLES
    assert float(late["pearson"]) == pytest.approx(-1 / np.sqrt(2), abs=0.03)


def test_shuffled_null_destroys_relation_but_keeps_frame_values(planted, tmp_path):
    paths, *_ = planted
    correlate(gradcam_gsd=paths["gradcam"], indicators_gsd=paths["indicators"], mobility_gsd=paths["mobility"], out_csv=tmp_path / "a.csv", correlation_cfg={"n_bootstrap": 10, "n_null": 40}, seed=3)
    correlate(gradcam_gsd=paths["gradcam"], indicators_gsd=paths["indicators"], mobility_gsd=paths["mobility"], out_csv=tmp_path / "b.csv", correlation_cfg={"n_bootstrap": 10, "n_null": 40}, seed=3)
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()  # seeded
    for row in read_rows(tmp_path / "a.csv"):
        # 40 draws of ρ_null ~ N(0, 1/√n_particles): |mean| ≲ 3/√(40 · 1200) ≈ 0.014 at worst
        assert abs(float(row["null_spearman_mean"])) < 0.015


def test_pooling_over_aging_times_is_not_confounded(tmp_path):
    """Young frames (t_w = 0) have both higher Grad-CAM and higher mobility than old ones
    (t_w = 100), with no particle-level relation at t_w = 0 and ρ = −0.5 at t_w = 100 (a
    bivariate normal with r = −0.5: ρ_S = (6/π) arcsin(r/2) = −0.483). Raw pooling would report
    a strong positive ρ; the within-frame coefficients give 0, −0.483 and their n-weighted mean."""
    rng = np.random.default_rng(8)
    states, gradcam, mobility, n = [], [], [], 300
    typeid = np.zeros(n, int)
    for k in range(16):
        young = k % 2 == 0
        state = make_state(rng.uniform(-3, 3, (n, 3)), 6.0, 3, typeid)
        state.time = 0.0 if young else 100.0
        states.append(state)
        g = rng.normal(size=n)
        m = rng.normal(size=n) if young else -0.5 * g + np.sqrt(0.75) * rng.normal(size=n)
        shift = 3.0 if young else 0.0
        gradcam.append({"gradcam_glass": g + shift})
        mobility.append({"mobility_dt1": m + shift})
    samples = list(range(16))
    for name, fields in (("gradcam", gradcam), ("indicators", [{"nothing": rng.normal(size=n)} for _ in samples]), ("mobility", mobility)):
        write_fields(tmp_path / f"{name}.gsd", states, fields, samples)
    correlate(gradcam_gsd=tmp_path / "gradcam.gsd", indicators_gsd=tmp_path / "indicators.gsd", mobility_gsd=tmp_path / "mobility.gsd", out_csv=tmp_path / "corr.csv", correlation_cfg={"n_bootstrap": 50, "n_null": 40}, seed=2)
    rows = {r["t_w"]: r for r in read_rows(tmp_path / "corr.csv") if r["quantity"] == "mobility" and r["species"] == "all"}
    assert set(rows) == {"all", "0.0", "100.0"} and int(rows["0.0"]["n_samples"]) == 8
    raw = spearmanr(np.concatenate([f["gradcam_glass"] for f in gradcam]), np.concatenate([f["mobility_dt1"] for f in mobility]))[0]
    assert raw > 0.3  # the confounded pooled coefficient
    rho = 6 / np.pi * np.arcsin(-0.25)
    assert float(rows["0.0"]["spearman"]) == pytest.approx(0.0, abs=0.04)
    assert float(rows["100.0"]["spearman"]) == pytest.approx(rho, abs=0.04)
    assert float(rows["all"]["spearman"]) == pytest.approx(rho / 2, abs=0.03)
    for row in rows.values():
        assert abs(float(row["null_spearman_mean"])) < 0.01
        assert float(row["null_spearman_lo"]) < 0 < float(row["null_spearman_hi"])
    assert float(rows["0.0"]["spearman_lo"]) < 0 < float(rows["0.0"]["spearman_hi"])
    plot_gradcam_vs_mobility(tmp_path / "gradcam.gsd", tmp_path / "mobility.gsd", tmp_path / "corr.csv", tmp_path / "ages.png")  # one curve per t_w
    assert (tmp_path / "ages.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_misaligned_frames_raise(planted, tmp_path):
    paths, states, gradcam, _, samples = planted
    write_fields(tmp_path / "shuffled.gsd", states, gradcam, samples[::-1])
    with pytest.raises(ValueError, match="do not align"):
        correlate(gradcam_gsd=tmp_path / "shuffled.gsd", indicators_gsd=paths["indicators"], mobility_gsd=paths["mobility"], out_csv=tmp_path / "c.csv", correlation_cfg={}, seed=0)
    with pytest.raises(ValueError, match="gradcam_nope"):
        correlate(gradcam_gsd=paths["gradcam"], indicators_gsd=paths["indicators"], mobility_gsd=paths["mobility"], out_csv=tmp_path / "c.csv", correlation_cfg={"gradcam_key": "gradcam_nope"}, seed=0)


def exponential_field_2d(n: int, spacing: float, xi: float, rng) -> np.ndarray:
    """Gaussian field on an n×n periodic grid with covariance exp(−r/ξ) (circulant embedding)."""
    g = np.minimum(np.arange(n), n - np.arange(n)) * spacing
    covariance = np.exp(-np.hypot(g[:, None], g[None, :]) / xi)
    eigenvalues = np.clip(np.fft.fft2(covariance).real, 0, None)
    return np.fft.ifft2(np.fft.fft2(rng.normal(size=(n, n))) * np.sqrt(eigenvalues)).real


def test_correlation_length_of_exponential_random_field(tmp_path):
    rng = np.random.default_rng(2024)
    n, spacing, xi, n_points = 256, 0.25, 2.0, 5000
    box_length = n * spacing
    states, fields = [], []
    for k in range(8):
        field = exponential_field_2d(n, spacing, xi, rng)
        ix, iy = np.unravel_index(rng.choice(n * n, n_points, replace=False), (n, n))
        points = np.column_stack([ix * spacing - box_length / 2, iy * spacing - box_length / 2, np.zeros(n_points)])
        states.append(make_state(points, box_length, 2, np.zeros(n_points, int)))
        states[-1].time = 0.0 if k < 4 else 10.0  # two groups of aging time
        fields.append({"gradcam_glass": field[ix, iy]})
    write_fields(tmp_path / "grf.gsd", states, fields, list(range(8)))
    cfg = {"r_max": 3 * xi, "bin_width": 0.2, "n_bootstrap": 40}
    gradcam_correlation_length(gradcam_gsd=tmp_path / "grf.gsd", out_json=tmp_path / "xi.json", cfg=cfg, seed=5)
    record = json.loads((tmp_path / "xi.json").read_text())
    assert record["xi"] == pytest.approx(xi, rel=0.1)
    assert record["amplitude"] == pytest.approx(1.0, abs=0.1)
    assert record["xi_bootstrap_lo"] < record["xi"] < record["xi_bootstrap_hi"]
    assert 0 < record["xi_err_fit"] < 0.2 * xi
    assert [g["glasscam/time"] for g in record["groups"]] == [0.0, 10.0]
    assert all(g["n_frames"] == 4 and g["xi"] == pytest.approx(xi, rel=0.2) for g in record["groups"])


def test_uncorrelated_field_has_short_length(tmp_path):
    rng = np.random.default_rng(6)
    states = [make_state(rng.uniform(-5, 5, (800, 3)), 10.0, 3, np.zeros(800, int)) for _ in range(3)]
    fields = [{"gradcam_glass": rng.normal(size=800)} for _ in states]
    write_fields(tmp_path / "white.gsd", states, fields, [0, 1, 2])
    gradcam_correlation_length(gradcam_gsd=tmp_path / "white.gsd", out_json=tmp_path / "white.json", cfg={"r_max": 4.0, "n_bootstrap": 10})
    record = json.loads((tmp_path / "white.json").read_text())
    c = np.array([np.nan if v is None else v for v in record["C"]])
    pairs = np.array(record["pair_counts"])
    from glasscam.analysis.correlations import LENGTH_MIN_PAIRS

    counted = pairs >= LENGTH_MIN_PAIRS
    assert np.all(np.abs(c[counted]) < 4 / np.sqrt(pairs[counted]))  # noise only
    assert np.all(np.isnan(c[~counted]))  # too few pairs to be data
    assert record["xi"] < 0.3 or not np.isfinite(record["xi"])
    with pytest.raises(ValueError, match="r_max"):
        gradcam_correlation_length(gradcam_gsd=tmp_path / "white.gsd", out_json=tmp_path / "w.json", cfg={"r_max": 6.0})


def test_analysis_plots_write_png(planted, tmp_path):
    paths, *_ = planted
    correlate(gradcam_gsd=paths["gradcam"], indicators_gsd=paths["indicators"], mobility_gsd=paths["mobility"], out_csv=tmp_path / "corr.csv", correlation_cfg={"n_bootstrap": 5, "n_null": 5}, seed=1)
    gradcam_correlation_length(gradcam_gsd=paths["gradcam"], out_json=tmp_path / "xi.json", cfg={"r_max": 2.5, "n_bootstrap": 5})
    (tmp_path / "dyn.csv").write_text(
        "species,time,msd,fs,overlap,chi4,n_trajectories\n"
        + "".join(f"{sp},{t},{0.1 * t},{np.exp(-t)},{np.exp(-t / 2)},{t * np.exp(-t)},4\n" for sp in ("all", "A") for t in (0, 0.5, 1, 2))
    )
    outputs = {
        "matrix.png": lambda out: plot_correlation_matrix(tmp_path / "corr.csv", out),
        "mobility.png": lambda out: plot_gradcam_vs_mobility(paths["gradcam"], paths["mobility"], tmp_path / "corr.csv", out),
        "cg.png": lambda out: plot_correlation_vs_coarse_graining(tmp_path / "corr.csv", out),
        "xi.png": lambda out: plot_correlation_length(tmp_path / "xi.json", out),
    }
    for name, plot in outputs.items():
        plot(tmp_path / name)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_correlation_length_is_bit_identical_between_runs(planted, tmp_path):
    """Two runs on the same input give the same bytes, whatever freud's thread count (its
    parallel CorrelationFunction summed in a varying order: 1e-16 in C(r), 5e-9 in ξ)."""
    import freud

    paths = planted[0]
    cfg = {"r_max": 2.5, "n_bootstrap": 20}
    outputs = []
    try:
        for k, threads in enumerate([2, 1, 2]):
            freud.parallel.set_num_threads(threads)
            gradcam_correlation_length(gradcam_gsd=paths["gradcam"], out_json=tmp_path / f"xi{k}.json", cfg=cfg, seed=3)
            outputs.append((tmp_path / f"xi{k}.json").read_bytes())
    finally:
        freud.parallel.set_num_threads(0)
    assert outputs[0] == outputs[1] == outputs[2]


def test_pair_correlation_sums_match_brute_force():
    """Σ_{i≠j, r_ij in bin} v_i v_j and the counts against an O(N²) minimum-image loop."""
    from glasscam.analysis.correlations import pair_correlation_sums

    rng = np.random.default_rng(7)
    for dimensions in (2, 3):
        n, box_length, r_max, bins = 150, 6.0, 2.9, 7
        points = np.zeros((n, 3))
        points[:, :dimensions] = rng.uniform(-box_length / 2, box_length / 2, (n, dimensions))
        values = rng.normal(size=n)
        r, sums, counts = pair_correlation_sums(make_state(points, box_length, dimensions, np.zeros(n, int)), values, r_max, bins)
        delta = points[:, None, :dimensions] - points[None, :, :dimensions]
        delta -= box_length * np.round(delta / box_length)
        dist = np.linalg.norm(delta, axis=-1)
        pair = (dist < r_max) & ~np.eye(n, dtype=bool)
        k = np.floor(dist / (r_max / bins)).astype(int)
        product = values[:, None] * values[None, :]
        expected = [product[pair & (k == b)].sum() for b in range(bins)]
        np.testing.assert_allclose(sums, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(counts, [(pair & (k == b)).sum() for b in range(bins)])
        np.testing.assert_allclose(r, (np.arange(bins) + 0.5) * r_max / bins)


def test_length_fit_starts_after_the_peak_and_flags_what_it_cannot_quote():
    """C(r) that rises to a peak at r ≈ 1.05 σ and decays as exp(−r/ξ) beyond (the demo's
    Grad-CAM shape): the fit starts at the peak and recovers ξ; fitted from r = 0 the
    exponential would miss the rise. A field with ξ below the particle size is flagged, and so is
    white noise (the exponential misses it)."""
    from glasscam.analysis.correlations import fit_correlation_length

    r = (np.arange(30) + 0.5) * 0.2
    xi = 1.8
    c = np.where(r < 1.05, 0.6 * np.exp(-1.05 / xi) * r / 1.05, 0.6 * np.exp(-r / xi))
    fit = fit_correlation_length(r, c, 0.0, 6.0)
    assert fit["fit_r_start"] == pytest.approx(1.1) and fit["fit_r_end"] == pytest.approx(5.9)
    assert fit["xi"] == pytest.approx(xi, rel=1e-3) and fit["r_squared"] > 0.999
    assert fit["reliable"] and fit["flag"] is None
    fit_err = fit_correlation_length(r, c, 0.0, 6.0, c_err=np.full_like(r, 0.01))
    assert fit_err["reduced_chi2"] == pytest.approx(0.0, abs=1e-6)

    short = fit_correlation_length(r, 0.5 * np.exp(-r / 0.4), 0.0, 6.0)
    assert short["xi"] == pytest.approx(0.4, rel=1e-3)
    assert not short["reliable"] and "below the particle size" in short["flag"]

    noise = np.random.default_rng(3).normal(0, 0.01, len(r))
    white = fit_correlation_length(r, noise, 0.0, 6.0)
    assert not white["reliable"]


def test_every_attribution_field_of_the_positive_class_is_correlated():
    from glasscam.analysis.correlations import gradcam_fields

    names = ["gradcam_glass", "gradcam_signed_glass", "gradcam_liquid", "gradcam_b1_glass", "gradcam_signed_b1_glass",
             "hirescam_b2_glass", "hirescam_b2_liquid", "ig_glass", "occlusion_glass", "occlusion_linear_glass",
             "potential_energy"]
    arrays = dict.fromkeys(names)
    fields = gradcam_fields({}, arrays, ["liquid", "glass"])
    assert fields[:2] == ["gradcam_glass", "gradcam_signed_glass"]  # the primary pair keeps its place
    assert sorted(fields[2:]) == sorted(["gradcam_b1_glass", "gradcam_signed_b1_glass", "hirescam_b2_glass", "ig_glass",
                                         "occlusion_glass", "occlusion_linear_glass"])
    chosen = gradcam_fields({"attributions": ["ig", "hirescam_b"]}, arrays, ["liquid", "glass"])
    assert chosen == ["gradcam_glass", "gradcam_signed_glass", "hirescam_b2_glass", "ig_glass"]
    assert gradcam_fields({"gradcam_key": "gradcam_liquid"}, arrays, ["liquid", "glass"]) == ["gradcam_liquid"]


def test_sparse_contact_bins_are_not_the_peak_the_fit_starts_from():
    """A bin below contact holding 3 pairs whose mean is 2.0 (noise) is not data: the fit starts at
    the first populated bin and finds the planted ξ = 1.5 σ (the fresh user's abm2d C(r))."""
    from glasscam.analysis.correlations import LENGTH_MIN_PAIRS, _length_summary

    r = np.arange(0.05, 6.0, 0.1)
    counts = np.where(r < 0.7, 0.0, 400.0)[None, :].repeat(4, axis=0)
    counts[:, 6] = 1.0  # r = 0.65 σ: 4 pairs over the 4 frames
    c = np.exp(-r / 1.5)
    c[6] = 2.0
    sums = counts * c
    summary = _length_summary(r, sums, counts, [], 0.0, 5.0, {})
    assert counts[:, 6].sum() < LENGTH_MIN_PAIRS and summary["C"][6] is None
    assert summary["fit_r_start"] == pytest.approx(0.75) and summary["xi"] == pytest.approx(1.5, rel=1e-3)
    assert summary["reliable"]
