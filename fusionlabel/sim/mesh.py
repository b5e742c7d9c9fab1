"""Triangle meshes with per-triangle surface attributes, built from Open3D primitives.

A :class:`Mesh` is plain NumPy: ``vertices`` (V, 3) float64, ``triangles`` (T, 3) int32 and, per
triangle, ``colour`` (T, 3) float32 linear RGB albedo in [0, 1], ``reflectivity`` (T,) float32
LiDAR reflectivity in [0, 1]. Object identity is attached later, when meshes enter a scene.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d

from .materials import Material


@dataclass
class Mesh:
    """Triangles with per-triangle albedo and LiDAR reflectivity (see module docstring)."""

    vertices: np.ndarray
    triangles: np.ndarray
    colour: np.ndarray
    reflectivity: np.ndarray

    @property
    def n_triangles(self) -> int:
        return int(self.triangles.shape[0])

    def transformed(self, T: np.ndarray) -> "Mesh":
        """The mesh with vertices mapped by the (4, 4) transform ``T``."""
        v = self.vertices @ T[:3, :3].T + T[:3, 3]
        return Mesh(v, self.triangles, self.colour, self.reflectivity)

    def translated(self, t) -> "Mesh":
        return Mesh(self.vertices + np.asarray(t, dtype=np.float64), self.triangles, self.colour,
                    self.reflectivity)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min (3,), max (3,)) of the vertices."""
        return self.vertices.min(axis=0), self.vertices.max(axis=0)


def _from_o3d(m: o3d.geometry.TriangleMesh, material: Material, colour=None) -> Mesh:
    tris = np.asarray(m.triangles, dtype=np.int32)
    n = tris.shape[0]
    rgb = np.asarray(material.colour if colour is None else colour, dtype=np.float32)
    return Mesh(np.asarray(m.vertices, dtype=np.float64).copy(), tris,
                np.tile(rgb, (n, 1)), np.full(n, material.reflectivity, dtype=np.float32))


def merge(meshes: list[Mesh]) -> Mesh:
    """Concatenate meshes into one (triangle indices re-based)."""
    meshes = [m for m in meshes if m.n_triangles]
    offsets = np.cumsum([0] + [m.vertices.shape[0] for m in meshes[:-1]])
    return Mesh(
        np.concatenate([m.vertices for m in meshes]),
        np.concatenate([m.triangles + o for m, o in zip(meshes, offsets)]).astype(np.int32),
        np.concatenate([m.colour for m in meshes]),
        np.concatenate([m.reflectivity for m in meshes]),
    )


def box(size, center, material: Material, colour=None, yaw: float = 0.0) -> Mesh:
    """Box of ``size`` (sx, sy, sz) centred at ``center`` (3,), rotated by ``yaw`` about +z."""
    sx, sy, sz = (float(s) for s in size)
    m = o3d.geometry.TriangleMesh.create_box(sx, sy, sz)
    mesh = _from_o3d(m, material, colour).translated((-sx / 2, -sy / 2, -sz / 2))
    if yaw:
        c, s = np.cos(yaw), np.sin(yaw)
        mesh.vertices = mesh.vertices @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T
    return mesh.translated(center)


def cylinder(radius: float, height: float, center, material: Material, axis: str = "z",
             colour=None, resolution: int = 12) -> Mesh:
    """Closed cylinder centred at ``center`` with its axis along "x", "y" or "z"."""
    m = o3d.geometry.TriangleMesh.create_cylinder(radius=float(radius), height=float(height),
                                                  resolution=resolution, split=1)
    mesh = _from_o3d(m, material, colour)
    order = {"z": [0, 1, 2], "x": [2, 1, 0], "y": [0, 2, 1]}[axis]
    mesh.vertices = mesh.vertices[:, order]
    if axis != "z":  # an axis swap mirrors the mesh: restore the winding
        mesh.triangles = mesh.triangles[:, ::-1].copy()
    return mesh.translated(center)


def sphere(radius: float, center, material: Material, colour=None, resolution: int = 6,
           scale=(1.0, 1.0, 1.0)) -> Mesh:
    """Sphere (or ellipsoid with per-axis ``scale``) centred at ``center``."""
    m = o3d.geometry.TriangleMesh.create_sphere(radius=float(radius), resolution=resolution)
    mesh = _from_o3d(m, material, colour)
    mesh.vertices = mesh.vertices * np.asarray(scale, dtype=np.float64)
    return mesh.translated(center)


def quad(corners, material: Material, colour=None) -> Mesh:
    """Planar quad from 4 corners (4, 3) in counter-clockwise order seen from its front."""
    v = np.asarray(corners, dtype=np.float64).reshape(4, 3)
    tris = np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int32)
    rgb = np.asarray(material.colour if colour is None else colour, dtype=np.float32)
    return Mesh(v, tris, np.tile(rgb, (2, 1)), np.full(2, material.reflectivity, np.float32))


def ground_rect(x0: float, x1: float, y0: float, y1: float, z: float, material: Material, colour=None) -> Mesh:
    """Horizontal rectangle [x0, x1] x [y0, y1] at height ``z``, facing up."""
    return quad([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], material, colour)


def hull(points, material: Material, colour=None) -> Mesh:
    """Convex hull of a few points (K, 3) as a closed mesh (for slanted cabins and wedges)."""
    pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(points, dtype=np.float64)))
    m, _ = pc.compute_convex_hull()
    return _from_o3d(m, material, colour)
