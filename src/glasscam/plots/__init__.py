"""Figures of the pipeline: one function per figure, input paths in, image out."""
