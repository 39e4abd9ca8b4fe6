"""GSD log keys and table labels shared by every stage (each defined once)."""

PROVENANCE_KEY = "glasscam/provenance"


TIME_KEY = "glasscam/time"


def per_particle_key(name: str) -> str:
    """GSD log key of a per-particle array (OVITO reads ``log/particles/...`` as properties)."""
    return f"particles/glasscam/{name}"


POTENTIAL_ENERGY_KEY = per_particle_key("potential_energy")

SAMPLE_KEY = "glasscam/sample"  # int: index of a glass/liquid sample in its dataset, carried by every per-sample file
RUN_KEY = "glasscam/run"
REPLICA_KEY = "glasscam/replica"
SOURCE_FRAME_KEY = "glasscam/source_frame"
ALL_AGES = "all"  # t_w label of correlation rows pooled over every aging time

# per-particle attribution arrays beside gradcam_<class> (glasscam.learn.attribution): the method
# part of ``<method>_<class>``; ``gradcam_b<k>`` etc. name conv block k (1-based)
ATTRIBUTION_METHOD_PATTERN = r"gradcam_b\d+|gradcam_signed_b\d+|hirescam_b\d+|ig|occlusion|occlusion_linear"
