"""Correlation-length sentences of the findings (glasscam.report.findings.length_findings)."""

from glasscam.report.findings import length_findings


def _record(xi, lo, hi):
    group = {"glasscam/time": 3.38, "xi": xi, "xi_bootstrap_lo": lo, "xi_bootstrap_hi": hi, "n_frames": 3,
             "reliable": True}
    return {"field": "gradcam_aged", "xi": xi, "xi_bootstrap_lo": lo, "xi_bootstrap_hi": hi, "reliable": True,
            "fit_r_start": 1.0, "fit_r_end": 3.0, "r_squared": 0.9, "n_frames": 3, "groups": [group]}


def _text(result: dict) -> str:
    return " ".join(result["sentences"])


def test_an_estimate_outside_its_bootstrap_interval_is_said_so():
    """A fresh-user trial read "ξ = 1.1 σ [0.377, 1.09]" (3 samples): a percentile bootstrap of a
    few frames need not contain the fit; the sentence must say so, and not where it does."""
    outside = _text(length_findings("ka3d", "age", _record(1.10, 0.377, 1.09)))
    inside = _text(length_findings("ka3d", "age", _record(0.9, 0.377, 1.09)))
    assert "outside its own bootstrap interval" in outside
    assert "outside its own bootstrap interval" not in inside
