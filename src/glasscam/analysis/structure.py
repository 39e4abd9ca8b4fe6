"""Per-particle structural indicators of glass configurations (freud), raw and coarse-grained.

Indicators (lengths in σ):

* 2D: ``psi6`` = |ψ6(i)|, ψ6(i) = (1/N_b) Σ_j exp(6iθ_ij) (freud.order.Hexatic);
* 3D: ``q4``, ``q6`` Steinhardt q_l(i) = [4π/(2l+1) Σ_m |q_lm(i)|²]^{1/2} with
  q_lm(i) = (1/N_b) Σ_j Y_lm(r̂_ij); ``w6`` the normalised ŵ6 (Wigner-3j invariant divided by
  (Σ_m |q_6m|²)^{3/2}); ``q6_avg`` Lechner–Dellago q̄6, with q_lm replaced by its mean over i
  and its neighbours (freud.order.Steinhardt, ``average=True``). Reference values: fcc q6 = 0.5745,
  hcp q6 = 0.4848;
* ``voronoi_area`` (2D) / ``voronoi_volume`` (3D), σ^d, and ``voronoi_neighbors`` (number of
  Voronoi faces/edges, freud.locality.Voronoi);
* 3D: ``icosahedral`` = 1 for a particle whose Voronoi cell has the index ⟨n3,n4,n5,n6⟩ =
  ⟨0,0,12,0⟩ (twelve pentagonal faces and no others), else 0; coarse-grained, it is the local
  fraction of icosahedral centres. Faces are those of freud's Voronoi neighbour list (voro++
  drops faces whose normal it cannot resolve, i.e. faces of area ≲ 1e-3 σ²) and vertices
  closer than :data:`VORONOI_TOLERANCE` are merged; on random packings and KA glasses the index
  equals Qhull's (scipy.spatial.Voronoi) for ≈ 97–98 % of cells, the rest differing only by
  such tiny faces or edges;
* ``local_density``: number of *other* particles within ``local_density_radius`` divided by
  the sphere (disc) volume, σ^−d (freud.density.LocalDensity);
* ``potential_energy``: the engine's per-particle energy U_i, ε, copied from the input.

Neighbours for ψ6 and the Steinhardt parameters are the Voronoi neighbours (``neighbors:
voronoi``, default) or all particles closer than a cutoff (``neighbors: cutoff``), the cutoff
given in σ or ``auto`` = first minimum of the total g(r) pooled over the file's frames.

Coarse-graining over radius L: x̄_i(L) = Σ_{j: |r_ij| < L} x_j / Σ_{j: |r_ij| < L} 1, self
included, periodic minimum-image distances (freud.locality.AABBQuery); stored as
``<name>_cg<L:g>``.
"""

from __future__ import annotations

import freud
import numpy as np

from glasscam.core.neighbors import ball_query, freud_system
from glasscam.core.state import State

NEIGHBOR_MODES = ("voronoi", "cutoff")
INDICATORS_2D = ["psi6", "voronoi_area", "voronoi_neighbors", "local_density", "potential_energy"]
INDICATORS_3D = ["q4", "q6", "w6", "q6_avg", "voronoi_volume", "voronoi_neighbors", "icosahedral", "local_density", "potential_energy"]
VORONOI_TOLERANCE = 1e-5  # σ: vertices this close are one vertex; a vertex this close to a face plane lies on it
ICOSAHEDRAL_INDEX = (0, 0, 12, 0)


def coarse_grain(state: State, fields: dict[str, np.ndarray], radius: float) -> dict[str, np.ndarray]:
    """x̄_i = mean of x_j over particles j with |r_ij| < radius (self included, periodic), for
    every field in ``fields``; one neighbour query serves them all (O(N) per radius)."""
    box, points = freud_system(state)
    if not 0 < radius < state.box_length / 2:
        raise ValueError(f"coarse-graining radius {radius} must lie in (0, L/2 = {state.box_length / 2:.3f})")
    nlist = ball_query(state, radius, exclude_self=False)
    n = len(points)
    counts = np.bincount(nlist.query_point_indices, minlength=n)
    return {
        name: np.bincount(
            nlist.query_point_indices, weights=np.asarray(values, dtype=np.float64)[nlist.point_indices], minlength=n
        )
        / counts
        for name, values in fields.items()
    }


def rdf_first_minimum(states: list[State], r_max: float = 3.0, bins: int = 300) -> float:
    """Position (σ) of the first minimum of the total g(r) accumulated over ``states``: the
    first local minimum with g < 1 after the main peak, g smoothed with a Gaussian of
    0.03 σ (so the sub-peaks of the AA/AB/BB shells of a mixture do not count)."""
    r_max = min(r_max, 0.999 * min(s.box_length for s in states) / 2)
    rdf = freud.density.RDF(bins=bins, r_max=r_max)
    for state in states:
        rdf.compute(freud_system(state), reset=False)
    r = np.asarray(rdf.bin_centers)
    width = 0.03 / (r[1] - r[0])
    offsets = np.arange(-int(4 * width) - 1, int(4 * width) + 2)
    kernel = np.exp(-0.5 * (offsets / width) ** 2)
    g = np.convolve(np.pad(rdf.rdf, len(offsets), mode="edge"), kernel / kernel.sum(), mode="same")[len(offsets) : -len(offsets)]
    peak = int(np.argmax(g))
    for i in range(peak + 1, len(g) - 1):
        if g[i] < 1 and g[i] <= g[i - 1] and g[i] < g[i + 1]:
            return float(r[i])
    raise ValueError(f"g(r) has no minimum below 1 after its main peak at r = {r[peak]:.3f} within r_max = {r_max:.3f}")


def voronoi_face_edges(state: State, voronoi: freud.locality.Voronoi, chunk: int = 1024) -> np.ndarray:
    """Number of edges of every Voronoi face of a 3D configuration, aligned with ``voronoi.nlist``
    (face ij ↔ bond i→j). Vertex v of cell i lies on face ij iff (v − r_i)·d_ij = |d_ij|²/2
    (the bisector plane of the bond vector d_ij); the face's edge count equals its number of
    distinct vertices. O(N) per frame; memory bounded by ``chunk`` cells at a time."""
    if state.dimensions != 3:
        raise ValueError("voronoi_face_edges: Voronoi indices are defined for 3D configurations only")
    box, points = freud_system(state)
    polytopes = voronoi.polytopes
    sizes = np.array([len(p) for p in polytopes])
    owner = np.repeat(np.arange(len(points)), sizes)
    slot = np.arange(len(owner)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    vertices = np.full((len(points), int(sizes.max()), 3), np.nan)
    vertices[owner, slot] = box.wrap(np.concatenate(polytopes).astype(np.float64) - points[owner])
    nlist = voronoi.nlist
    bond_cell = np.asarray(nlist.query_point_indices)
    bond_vector = np.asarray(nlist.vectors, dtype=np.float64)
    edges = np.zeros(len(bond_cell), dtype=np.int64)
    later = np.tril(np.ones((vertices.shape[1],) * 2, dtype=bool), k=-1)  # (l, k): k before l
    present = np.isfinite(vertices[..., 0])
    vertices = np.nan_to_num(vertices)
    for first in range(0, len(points), chunk):
        block = vertices[first : first + chunk]
        norm2 = np.sum(block**2, axis=-1)
        gap2 = norm2[:, :, None] + norm2[:, None, :] - 2 * block @ block.transpose(0, 2, 1)  # |v_l − v_k|²
        duplicate = np.any((gap2 < VORONOI_TOLERANCE**2) & later, axis=2)
        distinct = present[first : first + chunk] & ~duplicate
        bonds = np.flatnonzero((bond_cell >= first) & (bond_cell < first + chunk))
        cells, d = bond_cell[bonds] - first, bond_vector[bonds]
        height = np.einsum("bvk,bk->bv", block[cells], d) - 0.5 * np.sum(d**2, axis=1)[:, None]
        on_face = distinct[cells] & (np.abs(height) < VORONOI_TOLERANCE * np.linalg.norm(d, axis=1)[:, None])
        edges[bonds] = on_face.sum(axis=1)
    return edges


def voronoi_index(state: State, voronoi: freud.locality.Voronoi, max_edges: int = 6) -> np.ndarray:
    """Voronoi index ⟨n3, n4, …, n_max_edges⟩ per particle (faces with k edges), shape
    (N, max_edges − 2); faces with more edges are counted in no column (so a cell with such a
    face has a row summing to less than its face count)."""
    edges = voronoi_face_edges(state, voronoi)
    cells = np.asarray(voronoi.nlist.query_point_indices)
    index = np.zeros((len(state.positions), max_edges - 2), dtype=np.int64)
    ok = (edges >= 3) & (edges <= max_edges)
    np.add.at(index, (cells[ok], edges[ok] - 3), 1)
    return index


def icosahedral_centres(state: State, voronoi: freud.locality.Voronoi) -> np.ndarray:
    """1.0 where the Voronoi cell is ⟨0,0,12,0⟩ with exactly 12 faces (an icosahedral centre), else 0.0."""
    index = voronoi_index(state, voronoi)
    faces = np.asarray(voronoi.nlist.neighbor_counts)
    return (np.all(index == ICOSAHEDRAL_INDEX, axis=1) & (faces == sum(ICOSAHEDRAL_INDEX))).astype(np.float64)


def _neighbor_list(state: State, mode: str, cutoff: float | None, voronoi: freud.locality.Voronoi):
    if mode == "voronoi":
        return voronoi.nlist
    return ball_query(state, cutoff, exclude_self=True)


def indicator_names(dimensions: int, cfg: dict) -> list[str]:
    """Names of every per-particle array :func:`compute_indicators` writes: raw indicators,
    then ``<name>_cg<L:g>`` for each radius in ``cfg['coarse_graining_radii']``."""
    if dimensions not in (2, 3):
        raise ValueError(f"dimensions = {dimensions}; expected 2 or 3")
    raw = INDICATORS_2D if dimensions == 2 else INDICATORS_3D
    radii = [float(L) for L in cfg.get("coarse_graining_radii", [])]
    return list(raw) + [f"{name}_cg{L:g}" for L in radii for name in raw]


def raw_indicators(
    state: State,
    potential_energy: np.ndarray | None,
    neighbors: str = "voronoi",
    neighbor_cutoff: float | None = None,
    local_density_radius: float = 1.5,
    local_density_diameter: float = 0.0,
) -> dict[str, np.ndarray]:
    """Uncoarse-grained indicators of one configuration, keyed by the names of
    :data:`INDICATORS_2D` / :data:`INDICATORS_3D` (``potential_energy`` left out when None)."""
    if neighbors not in NEIGHBOR_MODES:
        raise ValueError(f"neighbors = {neighbors!r}; expected one of {NEIGHBOR_MODES}")
    if neighbors == "cutoff" and not (neighbor_cutoff and neighbor_cutoff > 0):
        raise ValueError(f"neighbor_cutoff = {neighbor_cutoff!r}; neighbors = 'cutoff' needs a positive cutoff")
    system = freud_system(state)
    voronoi = freud.locality.Voronoi().compute(system)
    nlist = _neighbor_list(state, neighbors, neighbor_cutoff, voronoi)
    if np.any(nlist.neighbor_counts == 0):
        raise ValueError(f"{int(np.sum(nlist.neighbor_counts == 0))} particles have no neighbours; increase neighbor_cutoff")
    out: dict[str, np.ndarray] = {}
    if state.dimensions == 2:
        hexatic = freud.order.Hexatic(k=6).compute(system, neighbors=nlist)
        out["psi6"] = np.abs(hexatic.particle_order)
    else:
        plain = freud.order.Steinhardt([4, 6]).compute(system, neighbors=nlist).particle_order
        out["q4"], out["q6"] = plain[:, 0], plain[:, 1]
        out["w6"] = freud.order.Steinhardt(6, wl=True, wl_normalize=True).compute(system, neighbors=nlist).particle_order
        out["q6_avg"] = freud.order.Steinhardt(6, average=True).compute(system, neighbors=nlist).particle_order
    out["voronoi_area" if state.dimensions == 2 else "voronoi_volume"] = np.asarray(voronoi.volumes)
    out["voronoi_neighbors"] = np.asarray(voronoi.nlist.neighbor_counts, dtype=np.float64)
    if state.dimensions == 3:
        out["icosahedral"] = icosahedral_centres(state, voronoi)
    density = freud.density.LocalDensity(float(local_density_radius), float(local_density_diameter)).compute(system)
    out["local_density"] = np.asarray(density.density)
    if potential_energy is not None:
        if len(potential_energy) != len(state.positions):
            raise ValueError(f"potential_energy has {len(potential_energy)} values for {len(state.positions)} particles")
        out["potential_energy"] = np.asarray(potential_energy, dtype=np.float64)
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def _neighbor_settings(states: list[State], indicator_cfg: dict) -> tuple[str, float | None]:
    neighbors = indicator_cfg.get("neighbors", "voronoi")
    if neighbors not in NEIGHBOR_MODES:
        raise ValueError(f"indicator_cfg.neighbors = {neighbors!r}; expected one of {NEIGHBOR_MODES}")
    cutoff = indicator_cfg.get("neighbor_cutoff")
    if neighbors == "cutoff":
        if cutoff is None:
            raise ValueError("indicator_cfg.neighbor_cutoff is required when neighbors = 'cutoff' (σ or 'auto')")
        cutoff = rdf_first_minimum(states) if cutoff == "auto" else float(cutoff)
    return neighbors, cutoff if neighbors == "cutoff" else None


def indicators_for_states(states: list[State], energies: list[np.ndarray] | None, indicator_cfg: dict) -> list[dict[str, np.ndarray]]:
    """Every indicator of every state (pure: states in, arrays out): per state
    {name: (N,) float64} with the names of :func:`indicator_names` — raw indicators, then
    ``<name>_cg<L:g>`` for each coarse-graining radius. ``energies[k]`` (N,) is state k's
    per-particle potential energy (ε); with ``energies`` None, ``potential_energy`` is left out.

    ``indicator_cfg`` keys: ``neighbors`` (voronoi | cutoff, default voronoi),
    ``neighbor_cutoff`` (σ or ``auto`` = first minimum of g(r) over ``states``; needed for
    cutoff), ``local_density_radius`` (σ, default 1.5), ``local_density_diameter`` (σ,
    default 0 = sharp count), ``coarse_graining_radii`` (list of σ, default [])."""
    if energies is not None and len(energies) != len(states):
        raise ValueError(f"{len(energies)} energy arrays for {len(states)} states")
    neighbors, cutoff = _neighbor_settings(states, indicator_cfg)
    radii = [float(L) for L in indicator_cfg.get("coarse_graining_radii", [])]
    out = []
    for k, state in enumerate(states):
        raw = raw_indicators(
            state,
            None if energies is None else energies[k],
            neighbors=neighbors,
            neighbor_cutoff=cutoff,
            local_density_radius=float(indicator_cfg.get("local_density_radius", 1.5)),
            local_density_diameter=float(indicator_cfg.get("local_density_diameter", 0.0)),
        )
        arrays = dict(raw)
        for L in radii:
            try:
                arrays.update({f"{name}_cg{L:g}": value for name, value in coarse_grain(state, raw, L).items()})
            except ValueError as err:
                raise ValueError(f"indicator_cfg.coarse_graining_radii: {err}") from None
        out.append(arrays)
    return out


