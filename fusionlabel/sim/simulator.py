"""Frame-by-frame simulation of a scenario: ego pose, LiDAR sweep, camera images, ground truth."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..geometry.cuboid import Cuboid
from ..geometry.transforms import T_from_Rt, invert_T, rotation_z
from ..io.native import RangeImage
from ..model.annotation import CuboidLabel
from ..model.rig import Rig
from .camera_render import CameraRenderer
from .lidar import LidarSpec, columns_for_points, estimate_return_fraction, simulate_sweep
from .mesh import Mesh, merge
from .raycast import SceneCaster
from .rig import default_rig
from .scenario import Scenario

BASE_TIMESTAMP_US = 1_600_000_000_000_000
SCENE_RANGE = 180.0       # agents farther than this are left out of the ray-casting scene


@dataclass
class SimFrame:
    """One simulated frame.

    ``points`` (N, 5) float32 x, y, z, intensity, ring in the LiDAR frame with ``point_ids`` (N,)
    int32 (track ID of the surface hit, 0 = unlabelled world); ``images`` and ``masks`` by camera:
    (H, W, 3) uint8 RGB and (H, W) int32 track IDs (0 = none); ``labels`` in the LiDAR frame.
    """

    index: int
    frame_id: str
    timestamp_us: int
    T_world_vehicle: np.ndarray
    T_world_lidar: np.ndarray
    range_image: RangeImage
    points: np.ndarray
    point_ids: np.ndarray
    labels: list[CuboidLabel]
    images: dict[str, np.ndarray] = field(default_factory=dict)
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    depths: dict[str, np.ndarray] = field(default_factory=dict)


def _pose(x: float, y: float, z: float, yaw: float) -> np.ndarray:
    return T_from_Rt(rotation_z(yaw), (x, y, z))


class Simulator:
    """Simulates frames of a :class:`Scenario` with a rig (default: :func:`default_rig`).

    Args:
        points: approximate LiDAR returns per sweep; sets the azimuth resolution.
        cameras: render camera images (False for LiDAR-only runs).
        shadows: cast sun shadows in camera images.
    """

    def __init__(self, scenario: Scenario, rig: Rig | None = None, points: int = 120_000,
                 cameras: bool = True, shadows: bool = True):
        self.scenario = scenario
        self.rig = rig or default_rig()
        parked = [a for a in scenario.agents if a.parked]
        self.moving = [a for a in scenario.agents if not a.parked]
        static_parts: list[Mesh] = [scenario.static_mesh]
        ids = [np.zeros(scenario.static_mesh.n_triangles, np.int32)]
        for a in parked:
            pose, _ = a.poses(np.zeros(1), scenario.layout)
            static_parts.append(a.mesh.transformed(_pose(*pose[0])))
            ids.append(np.full(a.mesh.n_triangles, a.track_id, np.int32))
        self.caster = SceneCaster(merge(static_parts), np.concatenate(ids))
        self.renderers = {c.name: CameraRenderer(c, shadows) for c in self.rig.cameras} if cameras else {}
        times = scenario.times
        self._poses = {a.track_id: a.poses(times, scenario.layout) for a in scenario.agents}
        self.agents = {a.track_id: a for a in scenario.agents}
        ahead = {a.track_id: a.poses(times + 0.05, scenario.layout)[0] for a in scenario.agents}
        self._speeds = {k: np.hypot(*(ahead[k][:, :2] - v[0][:, :2]).T) / 0.05 for k, v in self._poses.items()}
        # Azimuth resolution from the return fraction of a coarse sweep at frame 0.
        self._set_agents(0)
        fraction = estimate_return_fraction(self.caster, self.T_world_lidar(0))
        self.lidar = LidarSpec(columns=columns_for_points(points, fraction))

    def T_world_vehicle(self, i: int) -> np.ndarray:
        x, y, yaw, _ = self.scenario.ego.state(np.array([self.scenario.times[i]]))
        return _pose(float(x[0]), float(y[0]), 0.0, float(yaw[0]))

    def T_world_lidar(self, i: int) -> np.ndarray:
        return self.T_world_vehicle(i) @ self.rig.T_vehicle_lidar

    def _set_agents(self, i: int) -> list:
        """Put the moving agents active at frame i near the ego into the caster; returns them."""
        ego = self.T_world_vehicle(i)[:3, 3]
        meshes, ids, present = [], [], []
        for a in self.moving:
            pose, active = self._poses[a.track_id]
            if not active[i] or np.hypot(*(pose[i, :2] - ego[:2])) > SCENE_RANGE:
                continue
            meshes.append(a.mesh.transformed(_pose(*pose[i])))
            ids.append(a.track_id)
            present.append(a)
        self.caster.set_agents(meshes, ids)
        return present

    def frame(self, i: int) -> SimFrame:
        """Simulate frame ``i`` (0-based). Independent of other frames: same output in any order."""
        sc = self.scenario
        rng = np.random.default_rng([sc.seed, 0x11DA, i])
        self._set_agents(i)
        T_wv = self.T_world_vehicle(i)
        T_wl = T_wv @ self.rig.T_vehicle_lidar
        image, cell_ids = simulate_sweep(self.caster, T_wl, self.lidar, rng)
        valid = image.range > 0
        points = image.points()
        point_ids = cell_ids[valid]          # np.nonzero order == RangeImage.points order
        labels = self._labels(i, T_wl, point_ids)
        frame = SimFrame(i, f"{i:06d}", BASE_TIMESTAMP_US + i * 100_000, T_wv, T_wl, image, points,
                         point_ids, labels)
        for name, renderer in self.renderers.items():
            T_wc = T_wv @ self.rig.camera(name).T_vehicle_sensor
            frame.images[name], frame.masks[name], frame.depths[name] = renderer.render(self.caster, T_wc)
        return frame

    def _attributes(self, agent, i: int) -> dict:
        """Ontology attributes of an agent at frame i (parked / pose / with_rider)."""
        if agent.label == "pedestrian":
            return {"pose": "walking" if self._speeds[agent.track_id][i] > 0.2 else "standing"}
        if agent.label == "cyclist":
            return {"with_rider": True}
        return {"parked": agent.parked}

    def object_coverage(self, i: int, camera: str, track_id: int) -> np.ndarray:
        """(H, W) bool: pixels the agent would cover in ``camera`` at frame ``i`` with nothing in front."""
        agent = self.agents[track_id]
        pose = self._poses[track_id][0][i]
        mesh = agent.mesh.transformed(_pose(*pose))
        caster = SceneCaster(mesh, np.full(mesh.n_triangles, track_id, np.int32))
        T_wc = self.T_world_vehicle(i) @ self.rig.camera(camera).T_vehicle_sensor
        return self.renderers[camera].coverage(caster, T_wc)

    def world_box(self, i: int, track_id: int) -> Cuboid:
        """The agent's ground-truth box in the world frame at frame ``i``."""
        pose = self._poses[track_id][0][i]
        return Cuboid(pose[:3], self.agents[track_id].size, pose[3])

    def _labels(self, i: int, T_world_lidar: np.ndarray, point_ids: np.ndarray) -> list[CuboidLabel]:
        """Boxes of the agents active at frame ``i`` that the LiDAR could see: every agent with a
        LiDAR return, and every agent whose footprint comes within the LiDAR's range, seen or
        occluded (so a track runs unbroken while the object is in range)."""
        T_lidar_world = invert_T(T_world_lidar)
        counts = np.bincount(np.maximum(point_ids, 0), minlength=max(self.agents, default=0) + 1)
        out = []
        for a in self.scenario.agents:
            pose, active = self._poses[a.track_id]
            near = footprint_distance(T_world_lidar[:2, 3], pose[i], a.size) <= self.lidar.max_range
            if not active[i] or not (near or counts[a.track_id] > 0):
                continue
            box = Cuboid(pose[i, :3], a.size, pose[i, 3]).transformed(T_lidar_world)
            attributes = self._attributes(a, i)
            attributes["num_lidar_points"] = int(counts[a.track_id])
            out.append(CuboidLabel(box, a.label, str(a.track_id), None, "import", attributes))
        return out


def footprint_distance(xy, pose, size) -> float:
    """Distance in xy from point ``xy`` (2,) to the footprint of a box at ``pose`` (x, y, z, yaw)
    with ``size`` (length, width, height); 0 inside."""
    c, s = np.cos(pose[3]), np.sin(pose[3])
    dx, dy = xy[0] - pose[0], xy[1] - pose[1]
    along, across = c * dx + s * dy, -s * dx + c * dy
    return float(np.hypot(max(abs(along) - size[0] / 2, 0.0), max(abs(across) - size[1] / 2, 0.0)))
