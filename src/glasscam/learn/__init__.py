"""Learning: voxelization, the CNN, training and Grad-CAM — tensors and States in, results out; no files."""
