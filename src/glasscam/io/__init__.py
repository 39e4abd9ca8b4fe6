"""The only package that opens files: GSD trajectories, foreign formats (LAMMPS dumps, extended XYZ,
GlassBench npz) and the checks every file passes, tables, HDF5 datasets, checkpoints, provenance."""
