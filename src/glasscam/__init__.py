"""glasscam: MD of binary glass formers → voxelized CNN liquid/glass classifier → Grad-CAM →
structure, aging dynamics and their particle-level correlations."""

__version__ = "0.1.0"

from glasscam import _moved

_moved.install()  # the flat modules' old import paths, with a DeprecationWarning (glasscam._moved)
