"""Pure computations: States and arrays in, arrays or small results out. Never opens a file; imports
only ``core`` and ``errors``."""
