"""Names and windows of the per-particle mobility measures (mobility, cage-relative, propensity per Δt)."""

MOBILITY_MEASURES = ("mobility", "cage_relative", "propensity")


def mobility_names(dynamics_cfg: dict) -> list[str]:
    """Per-particle arrays written by :func:`compute_mobility`: ``<measure>_dt<Δt:g>``."""
    return [f"{m}_dt{float(dt):g}" for dt in _windows(dynamics_cfg) for m in MOBILITY_MEASURES]


def _windows(dynamics_cfg: dict) -> list[float]:
    if "windows" not in dynamics_cfg:
        raise ValueError("dynamics_cfg.windows is required (list of Δt in τ)")
    windows = [float(dt) for dt in dynamics_cfg["windows"]]
    if not windows or any(dt <= 0 for dt in windows):
        raise ValueError(f"dynamics_cfg.windows = {dynamics_cfg['windows']!r}; expected a non-empty list of Δt > 0")
    return windows
