"""Data model and shared conventions (no file I/O): the State, periodic geometry, neighbour queries, time
schedules and their tolerances, systems, tasks, seeds, log keys. Imports only ``glasscam.errors``."""
