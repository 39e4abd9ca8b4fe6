"""Molecular dynamics: engines behind one small interface (LAMMPS, HOOMD-blue) and the protocols that drive
them (melt, equilibrate, quench, log-spaced runs, inherent structures)."""
