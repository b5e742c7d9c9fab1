"""Ray casting against the static world plus the agents of one instant (Open3D / Embree).

The static world is one BVH built once; the agents of a frame go into a second, small scene that
is rebuilt per frame. Each ray takes the nearer of the two hits. Per-triangle attributes (albedo,
reflectivity, object ID) are looked up from the hit primitive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d

from .mesh import Mesh


@dataclass
class Hits:
    """Ray hits, all (N, ...): ``t`` float32 distance along the (unit) ray, inf on a miss; ``normal``
    (N, 3) float32 world normal turned towards the ray origin; ``colour`` (N, 3) float32 albedo;
    ``reflectivity`` (N,) float32; ``object_id`` (N,) int32 (0 = unlabelled world, -1 = miss)."""

    t: np.ndarray
    normal: np.ndarray
    colour: np.ndarray
    reflectivity: np.ndarray
    object_id: np.ndarray

    @property
    def hit(self) -> np.ndarray:
        return np.isfinite(self.t)


class _Layer:
    """One RaycastingScene with its per-triangle attribute tables."""

    def __init__(self, mesh: Mesh, object_id: np.ndarray):
        self.scene = o3d.t.geometry.RaycastingScene()
        self.n = mesh.n_triangles
        if self.n:
            self.scene.add_triangles(o3d.core.Tensor(mesh.vertices.astype(np.float32)),
                                     o3d.core.Tensor(mesh.triangles.astype(np.uint32)))
        self.colour = mesh.colour
        self.reflectivity = mesh.reflectivity
        self.object_id = object_id.astype(np.int32)

    def cast(self, rays: o3d.core.Tensor) -> dict:
        return self.scene.cast_rays(rays)


class SceneCaster:
    """Static world (built once) plus per-frame agents; see :meth:`set_agents` and :meth:`cast`."""

    def __init__(self, static: Mesh, static_object_id: np.ndarray):
        self.static = _Layer(static, static_object_id)
        self.dynamic: _Layer | None = None

    def set_agents(self, meshes: list[Mesh], ids: list[int]) -> None:
        """Replace the moving layer by ``meshes`` (already in world coordinates) with their IDs."""
        if not meshes:
            self.dynamic = None
            return
        from .mesh import merge

        merged = merge(meshes)
        per_tri = np.concatenate([np.full(m.n_triangles, i, np.int32) for m, i in zip(meshes, ids)])
        self.dynamic = _Layer(merged, per_tri)

    def _layers(self):
        return [layer for layer in (self.static, self.dynamic) if layer is not None and layer.n]

    def cast(self, origins: np.ndarray, directions: np.ndarray) -> Hits:
        """Cast rays from ``origins`` (N, 3) or (3,) along unit ``directions`` (N, 3); returns :class:`Hits`."""
        n = directions.shape[0]
        rays = np.empty((n, 6), np.float32)
        rays[:, :3] = origins
        rays[:, 3:] = directions
        rays_t = o3d.core.Tensor(rays)
        t = None
        for layer in self._layers():
            r = layer.cast(rays_t)
            th = r["t_hit"].numpy()
            if t is None:  # first layer: take everything
                t = th
                prim = r["primitive_ids"].numpy().astype(np.int64)
                hit = np.isfinite(th)
                prim[~hit] = 0
                normal = r["primitive_normals"].numpy()
                colour = layer.colour[prim]
                refl = layer.reflectivity[prim]
                oid = np.where(hit, layer.object_id[prim], -1).astype(np.int32)
                continue
            closer = np.flatnonzero(th < t)
            if closer.size == 0:
                continue
            prim = r["primitive_ids"].numpy()[closer].astype(np.int64)
            t[closer] = th[closer]
            normal[closer] = r["primitive_normals"].numpy()[closer]
            colour[closer] = layer.colour[prim]
            refl[closer] = layer.reflectivity[prim]
            oid[closer] = layer.object_id[prim]
        if t is None:
            return Hits(np.full(n, np.inf, np.float32), np.zeros((n, 3), np.float32),
                        np.zeros((n, 3), np.float32), np.zeros(n, np.float32), np.full(n, -1, np.int32))
        # Face normals towards the ray origin.
        flip = np.einsum("ij,ij->i", normal, directions.astype(np.float32, copy=False)) > 0.0
        normal[flip] *= -1.0
        return Hits(t, normal, colour, refl, oid)

    def occluded(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """(N,) bool: anything hit along each ray (shadow test)."""
        rays = np.empty((directions.shape[0], 6), np.float32)
        rays[:, :3] = origins
        rays[:, 3:] = directions
        rays_t = o3d.core.Tensor(rays)
        out = np.zeros(rays.shape[0], bool)
        for layer in self._layers():
            out |= layer.scene.test_occlusions(rays_t).numpy().astype(bool)
        return out
