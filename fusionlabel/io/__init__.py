"""Readers and writers, one module per format (point clouds, images, datasets, rigs)."""
