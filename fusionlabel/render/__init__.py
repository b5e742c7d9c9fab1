"""Headless rendering with OpenCV: camera overlays, bird's-eye view, the composed frame image."""
