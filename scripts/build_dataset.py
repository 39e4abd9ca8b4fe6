"""Snakemake entry point: voxelized liquid/glass dataset and the glass samples as particles."""

from glasscam.io.provenance import provenance
from glasscam.support.runlog import redirect_to_log

redirect_to_log(snakemake.log[0])
from glasscam.stages.dataset import build_dataset  # noqa: E402

build_dataset(
    output_h5=snakemake.output.dataset,
    liquid_paths=list(snakemake.input.liquid),
    glass_paths=list(snakemake.input.glass),
    system_types=list(snakemake.params.system["composition"]),
    voxel_cfg=snakemake.params.voxel,
    dataset_cfg=snakemake.params.dataset,
    seed=snakemake.params.seed,
    provenance=provenance(
        {"voxel": snakemake.params.voxel, "dataset": snakemake.params.dataset, "system": snakemake.params.system,
         "task": snakemake.params.task},
        system=snakemake.wildcards.system,
        seed=snakemake.params.seed,
    ),
    task=snakemake.params.task,
    glass_temperature=snakemake.params.glass_temperature,
)
