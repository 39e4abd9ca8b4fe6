"""Workflow plumbing: rule logs, GPU resources, SLURM cancellation."""
