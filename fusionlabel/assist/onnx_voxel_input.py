"""Feed an ONNX model the pillars/voxels of a sweep, made on the host (settings ``voxelize``).

Three inputs, matched by name (``voxelize.inputs``, by default mmdeploy's ``voxels``, ``num_points``,
``coors``) and checked when the model loads: ``voxels`` float32 ``(P, M, C)`` (the first M points of
each voxel, columns as ``input_columns``, zero rows after them), ``num_points`` ``(P,)`` and
``coords`` ``(P, K)``, the cell of each voxel in the order ``voxelize.coords`` says (batch index 0),
each optionally with a leading batch dim of 1. Integer inputs get the element type the graph
declares (int32 or int64; float32 also taken). A static P must be ``max_voxels`` and the voxels are
then padded with zero rows (num_points 0, coords 0); a static M must be ``max_points_per_voxel``.
Voxels left out beyond ``max_voxels`` are counted and said by :meth:`VoxelFeed.take_notes`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..wording import counted
from .onnx_voxel_settings import voxel_grid
from .voxelize import voxelize

FEED_TYPES = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64}
RANKS = {"voxels": 3, "num_points": 1, "coords": 2}     # without the optional leading batch dim of 1


def _static(dim) -> int | None:
    return dim if isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 else None


class VoxelFeed:
    """The three voxel inputs of a model, checked against ``block`` (the checked ``voxelize``
    settings); errors name ``model`` or the settings file ``src``."""

    def __init__(self, graph_inputs, block: dict, model: Path, src: Path):
        self.grid, self.coords, self.names = voxel_grid(block), block["coords"], block["inputs"]
        have = {i.name: i for i in graph_inputs}
        said = ", ".join(have)
        for role, name in self.names.items():
            if name not in have:
                raise InputError(src, f"model has no input {name!r} for {role} (inputs: {said}); name the model's "
                                      "inputs with voxelize.inputs: {voxels: …, num_points: …, coords: …}",
                                 where="voxelize.inputs")
        if len(have) != len(self.names):
            raise InputError(model, f"model has {len(have)} inputs ({said}); the voxel contract feeds three: "
                                    f"{', '.join(f'{n} ({r})' for r, n in self.names.items())}")
        self.types, self.batched, static = {}, {}, {}
        for role, name in self.names.items():
            node = have[name]
            shape = list(node.shape)
            rank = RANKS[role]
            kinds = ("tensor(float)",) if role == "voxels" else tuple(FEED_TYPES)
            if node.type not in kinds:
                raise InputError(model, f"input {name!r} ({role}) is {node.type}; the voxel contract feeds "
                                        f"{' or '.join(k[7:-1] for k in kinds)}")
            if len(shape) not in (rank, rank + 1) or (len(shape) == rank + 1 and _static(shape[0]) not in (None, 1)):
                raise InputError(model, f"input {name!r} ({role}) has shape {shape}; the voxel contract wants rank "
                                        f"{rank}, or {rank + 1} with a leading batch dim of 1")
            self.types[role], self.batched[role] = FEED_TYPES[node.type], len(shape) == rank + 1
            static[role] = [_static(d) for d in shape[len(shape) - rank:]]
        self._check_sizes(static, src)
        self.static_channels = static["voxels"][2]
        self.pad_to = next((s[0] for s in static.values() if s[0] is not None), None)
        self.sweeps_over = self.voxels_left_out = self.points_left_out = 0

    def _check_sizes(self, static: dict, src: Path) -> None:
        """Static dims agree with the settings: P with max_voxels, M with max_points_per_voxel, K
        with the number of coords columns."""
        checks = [("voxels", 0, self.grid.max_voxels, "max_voxels", "voxels"),
                  ("num_points", 0, self.grid.max_voxels, "max_voxels", "voxels"),
                  ("coords", 0, self.grid.max_voxels, "max_voxels", "voxels"),
                  ("voxels", 1, self.grid.max_points_per_voxel, "max_points_per_voxel", "points per voxel"),
                  ("coords", 1, len(self.coords), "coords", "coordinate columns")]
        for role, axis, wanted, key, what in checks:
            size = static[role][axis]
            if size is not None and size != wanted:
                said = f"[{', '.join(self.coords)}]" if key == "coords" else str(wanted)
                raise InputError(src, f"{key} is {said} but the model's input {self.names[role]!r} takes {size} {what}",
                                 where=f"voxelize.{key}")

    def feed(self, points_xyz: np.ndarray, features: np.ndarray) -> dict[str, np.ndarray]:
        """The model's inputs for one sweep: ``points_xyz`` (N, 3) place the points, ``features``
        (N, C) fill the voxel rows."""
        vox = voxelize(points_xyz, features, self.grid)
        if vox.dropped_voxels:
            self.sweeps_over += 1
            self.voxels_left_out += vox.dropped_voxels
            self.points_left_out += vox.dropped_points
        columns = {"batch": np.zeros(len(vox.cells_xyz), np.int64), "x": vox.cells_xyz[:, 0],
                   "y": vox.cells_xyz[:, 1], "z": vox.cells_xyz[:, 2]}
        arrays = {"voxels": vox.features, "num_points": vox.num_points,
                  "coords": np.stack([columns[axis] for axis in self.coords], axis=1)}
        fed = {}
        for role, array in arrays.items():
            if self.pad_to is not None and len(array) < self.pad_to:
                array = np.concatenate([array, np.zeros((self.pad_to - len(array),) + array.shape[1:], array.dtype)])
            array = np.ascontiguousarray(array, dtype=self.types[role])
            fed[self.names[role]] = array[None] if self.batched[role] else array
        return fed

    def take_notes(self) -> list[str]:
        """What the sweeps fed since the last call left out (voxels beyond ``max_voxels``), in words;
        the counts start again."""
        if not self.sweeps_over:
            return []
        grid = self.grid
        kept = "first in the sweep" if grid.keep == "first" else "nearest the sensor"
        note = (f"{counted(self.sweeps_over, 'sweep')} filled more than max_voxels {grid.max_voxels}: left out "
                f"{counted(self.voxels_left_out, 'voxel')} holding {counted(self.points_left_out, 'point')}, keeping "
                f"the ones {kept} "
                "(keep in voxelize; raise max_voxels if the model allows)")
        self.sweeps_over = self.voxels_left_out = self.points_left_out = 0
        return [note]
