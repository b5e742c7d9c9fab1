"""Simulate a drive and write it in the native format (``fusionlabel simulate``).

Frames are independent (each has its own noise generator), so they can be simulated by several
worker processes; the files are the same whatever the number of workers.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DriveError
from ..io.native import NativeDriveWriter, write_frame_files

JPEG_QUALITY = 85


# One simulator per worker process, built by _init_worker.
_worker: dict = {}


def _init_worker(seed: int, frames: int, points: int, cameras: bool, camera_scale: float, out: str,
                 masks: bool) -> None:
    from .rig import default_rig
    from .scenario import build_scenario
    from .simulator import Simulator

    _worker["sim"] = Simulator(build_scenario(seed, frames), default_rig(camera_scale), points=points,
                               cameras=cameras)
    _worker["out"], _worker["masks"] = Path(out), masks


def _simulate_and_write(i: int) -> dict:
    sim = _worker["sim"]
    f = sim.frame(i)
    return write_frame_files(_worker["out"], sim.rig.camera_names, f.frame_id, f.timestamp_us, f.T_world_vehicle,
                             f.range_image, f.images, f.labels, f.masks if _worker["masks"] else None,
                             jpeg_quality=JPEG_QUALITY)


def simulate_drive(out: str | os.PathLike, frames: int = 20, seed: int = 0, points: int = 120_000,
                   cameras: bool = True, masks: bool = False, force: bool = False, progress: bool = True,
                   camera_scale: float = 1.0, workers: int = 1) -> Path:
    """Simulate ``frames`` frames from ``seed`` and write a native drive to ``out``.

    Output is byte-identical for the same arguments (whatever ``workers``). ``masks`` also writes
    the per-pixel object-ID masks under ``debug/masks``. Returns the path of drive.yaml. The folder
    is marked with ``fusionlabel_simulate.json``: ``force`` replaces an earlier simulation there and
    writes beside other files, never among them (:mod:`fusionlabel.export.native_output`). The
    drive is written into a hidden folder inside ``out`` and moved in when complete: a run that fails leaves ``out`` as
    it was.
    """
    from ..export.native_output import SIMULATE_OUTPUT

    if frames < 1:
        raise DriveError(None, f"--frames must be at least 1, got {frames}")
    if points < 1000:
        raise DriveError(None, f"--points must be at least 1000, got {points}")
    out = Path(out)
    with SIMULATE_OUTPUT.output(out, force) as folder:     # moved into ``out`` when complete
        index = _simulate(folder, frames, seed, points, cameras, masks, progress, camera_scale, workers)
    return out / index.name


def _simulate(out: Path, frames: int, seed: int, points: int, cameras: bool, masks: bool, progress: bool,
              camera_scale: float, workers: int) -> Path:
    """:func:`simulate_drive` into the prepared folder ``out``."""
    from ..progress import progress as progress_bar

    init_args = (seed, frames, points, cameras, camera_scale, str(out), masks)
    workers = max(1, min(int(workers), frames))
    with progress_bar(total=frames, desc="simulate", enabled=progress) as bar:   # a run stopped early says where
        if workers == 1:
            _init_worker(*init_args)
            entries = []
            for i in range(frames):
                entries.append(_simulate_and_write(i))
                bar.update()
            sim = _worker.pop("sim")
            columns, rig = sim.lidar.columns, sim.rig
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from .rig import default_rig

            ctx = multiprocessing.get_context("spawn")   # no fork after Open3D started its threads
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=init_args) as pool:
                entries = []
                for entry in pool.map(_simulate_and_write, range(frames)):
                    entries.append(entry)
                    bar.update()
                columns = pool.submit(_lidar_columns).result()
            rig = default_rig(camera_scale)
    meta = {"generator": "fusionlabel simulate", "seed": int(seed), "frames": int(frames), "points": int(points),
            "lidar_columns": int(columns), "camera_scale": float(camera_scale)}
    writer = NativeDriveWriter(out, rig, f"sim-seed{seed}", meta=meta, jpeg_quality=JPEG_QUALITY)
    for entry in entries:
        writer.add_entry(entry)
    return writer.close()


def _lidar_columns() -> int:
    return int(_worker["sim"].lidar.columns)
