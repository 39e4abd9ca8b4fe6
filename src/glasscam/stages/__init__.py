"""One function per Snakemake rule: read inputs (``io``), compute (``analysis``, ``md``, ``learn``), write
outputs with provenance (``io``)."""
