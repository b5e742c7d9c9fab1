"""Pure NumPy geometry: transforms, camera models, projection, cuboids, IoU. No I/O, no state."""
