"""A complete simulated scenario: street layout, static world, ego motion and agents.

Everything is drawn from one seeded generator in a fixed order, so a seed always gives the same
scenario. Agents are proposed near the ego's route and rejected when their footprint would ever
overlap the ego's or an accepted agent's during the drive (so no two ground-truth boxes intersect).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry.transforms import normalize_angle
from .mesh import Mesh
from .motion import EgoMotion, Motion, Parked, Path
from .rig import EGO_CENTER_X, EGO_SIZE
from .shapes import AGENT_BUILDERS, tight_size
from .world import (CROSS_HALF, CROSS_LENGTH, CROSS_SIDEWALK, CROSSWALK_OFFSET, KERB, LANES_EAST, LANES_WEST,
                    PARKING_Y, ROAD_HALF, SIDEWALK_OUT, Layout, build_static_world, make_layout)

FRAME_PERIOD_S = 0.1
COLLISION_MARGIN = 0.4      # metres of clearance kept between footprints
CHECK_STEP_S = 0.05


@dataclass
class Agent:
    """A labelled object: ``mesh`` in its own frame (tight box centred at the origin), ``size``
    (length, width, height) of that box, and its motion (``Motion`` or ``Parked``)."""

    track_id: int
    label: str
    mesh: Mesh
    size: tuple[float, float, float]
    motion: Motion | Parked
    on_sidewalks: bool = False

    @property
    def parked(self) -> bool:
        return isinstance(self.motion, Parked)

    def poses(self, t: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
        """Box centres (T, 3) and yaws (T,) in the world frame, plus active (T,) bool.

        Returns ``(center_yaw (T, 4) = x, y, z, yaw; active (T,))``.
        """
        x, y, yaw, active = self.motion.state(t)
        z0 = ground_height_under(x, y, yaw, self.size, layout) if self.on_sidewalks else np.zeros_like(x)
        z = z0 + self.size[2] / 2.0
        return np.stack([x, y, z, normalize_angle(yaw)], axis=1), active


def ground_height(x: np.ndarray, y: np.ndarray, layout: Layout) -> np.ndarray:
    """Height of the walkable surface at (x, y): KERB on sidewalks, 0 on roads."""
    x, y = np.asarray(x, dtype=np.float64), np.abs(np.asarray(y, dtype=np.float64))
    if layout.intersections:
        dx = np.abs(x[..., None] - np.asarray(layout.intersections)).min(axis=-1)
    else:
        dx = np.full(x.shape, np.inf)
    main = (y >= ROAD_HALF) & (y <= SIDEWALK_OUT) & (dx >= CROSS_HALF)
    cross = (y > SIDEWALK_OUT) & (y <= CROSS_LENGTH) & (dx >= CROSS_HALF) & (dx <= CROSS_HALF + CROSS_SIDEWALK)
    return np.where(main | cross, KERB, 0.0)


def ground_height_under(x, y, yaw, size, layout: Layout) -> np.ndarray:
    """Highest ground under a footprint (centre and four corners), (T,)."""
    hl, hw = size[0] / 2.0, size[1] / 2.0
    c, s = np.cos(yaw), np.sin(yaw)
    h = ground_height(x, y, layout)
    for a, b in ((hl, hw), (hl, -hw), (-hl, hw), (-hl, -hw)):
        h = np.maximum(h, ground_height(x + a * c - b * s, y + a * s + b * c, layout))
    return h


@dataclass
class Scenario:
    """Everything needed to simulate a drive of ``n_frames`` frames."""

    seed: int
    n_frames: int
    layout: Layout
    static_mesh: Mesh
    ego: EgoMotion
    agents: list[Agent]

    @property
    def times(self) -> np.ndarray:
        """Frame times in seconds, (n_frames,)."""
        return np.arange(self.n_frames) * FRAME_PERIOD_S


# ------------------------------------------------------------------------------------ footprints
def _overlap(a: np.ndarray, size_a, b: np.ndarray, size_b, margin: float) -> np.ndarray:
    """Separating-axis test of oriented rectangles. a, b: (T, 3) x, y, yaw; returns (T,) bool."""
    def axes(p):
        c, s = np.cos(p[:, 2]), np.sin(p[:, 2])
        return np.stack([c, s], 1), np.stack([-s, c], 1)

    ha = np.array(size_a[:2]) / 2.0 + margin / 2.0
    hb = np.array(size_b[:2]) / 2.0 + margin / 2.0
    ua, va = axes(a)
    ub, vb = axes(b)
    d = b[:, :2] - a[:, :2]
    hit = np.ones(a.shape[0], bool)
    for axis in (ua, va, ub, vb):
        ra = ha[0] * np.abs((ua * axis).sum(1)) + ha[1] * np.abs((va * axis).sum(1))
        rb = hb[0] * np.abs((ub * axis).sum(1)) + hb[1] * np.abs((vb * axis).sum(1))
        hit &= np.abs((d * axis).sum(1)) <= ra + rb
    return hit


class _Occupancy:
    """Accepted footprints sampled over the drive, for rejecting colliding proposals."""

    def __init__(self, times: np.ndarray):
        self.times = times
        self.tracks: list[tuple[np.ndarray, np.ndarray, tuple]] = []  # (T, 3) x y yaw, active, size

    def add(self, xyyaw: np.ndarray, active: np.ndarray, size) -> None:
        self.tracks.append((xyyaw, active, size))

    def collides(self, xyyaw: np.ndarray, active: np.ndarray, size) -> bool:
        reach = np.hypot(size[0], size[1]) / 2.0
        for other, other_active, other_size in self.tracks:
            both = active & other_active
            if not both.any():
                continue
            limit = reach + np.hypot(other_size[0], other_size[1]) / 2.0 + COLLISION_MARGIN
            near = both & (np.hypot(*(xyyaw[:, :2] - other[:, :2]).T) < limit)
            if near.any() and _overlap(xyyaw[near], size, other[near], other_size, COLLISION_MARGIN).any():
                return True
        return False


# ------------------------------------------------------------------------------------ proposals
VEHICLE_CLASSES = (["car"] * 14) + (["van"] * 3) + (["truck"] * 2) + ["bus"]


def _lane_vehicle(rng, layout: Layout, xe: float, t_m: float, label: str) -> Motion:
    lane = float(rng.choice(LANES_EAST + LANES_WEST))
    east = lane < 0
    slow = label in ("truck", "bus")
    v = float(rng.uniform(6.0, 10.0) if slow else rng.uniform(7.0, 13.0))
    if east:
        path = Path([(layout.x_min, lane), (layout.x_max, lane)])
        x_m = xe + float(rng.uniform(-45.0, 80.0))
        s_m = x_m - layout.x_min
    else:
        path = Path([(layout.x_max, lane), (layout.x_min, lane)])
        x_m = xe + float(rng.uniform(-20.0, 100.0))
        s_m = layout.x_max - x_m
    return Motion(path, v, s0=s_m - v * t_m)


def _cyclist(rng, layout: Layout, xe: float, t_m: float) -> Motion:
    east = rng.random() < 0.6
    y = -6.3 if east else 6.3
    v = float(rng.uniform(3.5, 6.5))
    x_m = xe + float(rng.uniform(-15.0, 60.0))
    if east:
        return Motion(Path([(layout.x_min, y), (layout.x_max, y)]), v, s0=x_m - layout.x_min - v * t_m)
    return Motion(Path([(layout.x_max, y), (layout.x_min, y)]), v, s0=layout.x_max - x_m - v * t_m)


def _next_intersection(layout: Layout, xe: float) -> float | None:
    ahead = [x for x in layout.intersections if x > xe - 5.0]
    return ahead[0] if ahead else None


def _cross_vehicle(rng, layout: Layout, xc: float, t_m: float) -> Motion:
    """Straight across the intersection or turning into / out of the main street."""
    far, nb, sb = CROSS_LENGTH, xc + 2.5, xc - 2.5
    routes = [
        [(nb, -far), (nb, far)],                                  # straight northbound
        [(sb, far), (sb, -far)],                                  # straight southbound
        [(nb, -far), (nb, LANES_EAST[1]), (layout.x_max, LANES_EAST[1])],   # right turn onto eastbound
        [(sb, far), (sb, LANES_WEST[1]), (layout.x_min, LANES_WEST[1])],    # right turn onto westbound
        [(layout.x_max, LANES_WEST[0]), (sb, LANES_WEST[0]), (sb, -far)],   # left turn to southbound
        [(layout.x_min, LANES_EAST[0]), (nb, LANES_EAST[0]), (nb, far)],    # left turn to northbound
        [(sb, far), (sb, LANES_EAST[0]), (layout.x_max, LANES_EAST[0])],    # left turn onto eastbound
        [(layout.x_max, LANES_WEST[1]), (nb + 0.5, LANES_WEST[1]), (nb + 0.5, far)],   # right turn to northbound
    ]
    k_route = int(rng.integers(len(routes)))
    route = routes[k_route]
    path = Path(route, fillet=7.0)
    v = float(rng.uniform(6.0, 10.0) if k_route < 2 else rng.uniform(3.5, 5.0))   # turns: ~4 m/s^2 lateral
    corner = np.asarray(route[1])
    k = int(np.argmin(np.hypot(path.x - corner[0], path.y - corner[1])))
    t_corner = t_m + float(rng.uniform(-3.0, 3.0))
    return Motion(path, v, s0=float(path.s[k]) - v * t_corner)


def _sidewalk_pedestrian(rng, layout: Layout, xe: float, t_m: float) -> Motion:
    side = 1.0 if rng.random() < 0.5 else -1.0
    y = side * float(rng.uniform(11.2, 12.2))
    v = float(rng.uniform(0.9, 1.6))
    x_m = xe + float(rng.uniform(-25.0, 55.0))
    if rng.random() < 0.5:
        return Motion(Path([(layout.x_min, y), (layout.x_max, y)]), v, s0=x_m - layout.x_min - v * t_m)
    return Motion(Path([(layout.x_max, y), (layout.x_min, y)]), v, s0=layout.x_max - x_m - v * t_m)


def _crossing_pedestrian(rng, xc: float, t_m: float) -> Motion:
    """Walk along the sidewalk to a crosswalk, wait at the kerb, cross, walk on."""
    xw = xc + (CROSSWALK_OFFSET if rng.random() < 0.5 else -CROSSWALK_OFFSET) + float(rng.uniform(-0.8, 0.8))
    y0 = 11.7 if rng.random() < 0.5 else -11.7
    a = float(rng.choice([-1.0, 1.0])) * float(rng.uniform(8.0, 20.0))
    b = float(rng.choice([-1.0, 1.0])) * float(rng.uniform(8.0, 20.0))
    path = Path([(xw + a, y0), (xw, y0), (xw, -y0), (xw + b, -y0)], fillet=1.0)
    v = float(rng.uniform(1.1, 1.6))
    k = int(np.argmin(np.hypot(path.x - xw, path.y - y0)))
    s_kerb = float(path.s[k])
    wait = float(rng.uniform(0.0, 5.0))
    t_mid = t_m + float(rng.uniform(-4.0, 4.0))   # when it reaches the middle of the road
    s0 = s_kerb + abs(y0) - v * (t_mid - wait)
    return Motion(path, v, s0=s0, s_stop=s_kerb, wait=wait)


def _propose(rng, layout: Layout, ego: EgoMotion, duration: float):
    """One candidate: (label, motion, on_sidewalks)."""
    t_m = float(rng.uniform(0.0, duration))
    xe = float(ego.x(t_m))
    kind = rng.random()
    xc = _next_intersection(layout, xe)
    if kind < 0.33:
        label = str(rng.choice(VEHICLE_CLASSES))
        return label, _lane_vehicle(rng, layout, xe, t_m, label), False
    if kind < 0.48 and xc is not None:
        return str(rng.choice(["car"] * 6 + ["van", "truck"])), _cross_vehicle(rng, layout, xc, t_m), False
    if kind < 0.58:
        return "cyclist", _cyclist(rng, layout, xe, t_m), False
    if kind < 0.80 or xc is None:
        return "pedestrian", _sidewalk_pedestrian(rng, layout, xe, t_m), True
    return "pedestrian", _crossing_pedestrian(rng, xc, t_m), True


def _parked(rng, layout: Layout, x0: float, x1: float) -> list[tuple[str, Parked]]:
    out = []
    for side in (-1.0, 1.0):
        x = x0 + float(rng.uniform(0.0, 6.0))
        while x < x1:
            label = "car" if rng.random() < 0.8 else "van"
            length = 4.6 if label == "car" else 5.6
            xc = x + length / 2
            if rng.random() < 0.5 and not layout.near_intersection(np.array([xc]), 3.0 + length / 2)[0]:
                yaw = 0.0 if side < 0 else np.pi
                out.append((label, Parked(xc, side * PARKING_Y + side * float(rng.uniform(-0.25, 0.1)),
                                          yaw + float(rng.uniform(-0.04, 0.04)))))
            x += length + float(rng.uniform(0.8, 5.0))
    return out


def build_scenario(seed: int, n_frames: int, agent_rate: float = 3.0, base_agents: int = 26) -> Scenario:
    """Build the scenario for ``n_frames`` frames (10 Hz) from ``seed``.

    ``base_agents + agent_rate * duration_s`` moving agents are proposed (some are rejected).
    """
    rng = np.random.default_rng([seed, 0x5151])
    duration = max(n_frames - 1, 0) * FRAME_PERIOD_S
    ego = EgoMotion(lane_y=LANES_EAST[0], v0=float(rng.uniform(8.5, 10.5)), phase=float(rng.uniform(0, 2 * np.pi)))
    x_end = float(ego.x(duration))
    layout = make_layout(rng, -150.0, x_end + 150.0)
    static = build_static_world(layout, rng)

    times = np.arange(0.0, duration + 1e-9, CHECK_STEP_S)
    occupancy = _Occupancy(times)
    ex, ey, eyaw, eact = ego.state(times)
    occupancy.add(np.stack([ex + EGO_CENTER_X, ey, eyaw], 1), eact, EGO_SIZE)

    agents: list[Agent] = []

    def try_add(label, motion, on_sidewalks):
        mesh = AGENT_BUILDERS[label](rng)
        size = tight_size(mesh)
        x, y, yaw, active = motion.state(times)
        if not active.any():
            return
        track = np.stack([x, y, yaw], 1)
        if occupancy.collides(track, active, size):
            return
        occupancy.add(track, active, size)
        agents.append(Agent(len(agents) + 1, label, mesh, size, motion, on_sidewalks))

    for label, parked in _parked(rng, layout, layout.x_min + 20.0, layout.x_max - 20.0):
        try_add(label, parked, False)
    n_proposals = int(base_agents + agent_rate * duration)
    for _ in range(n_proposals):
        try_add(*_propose(rng, layout, ego, duration))
    return Scenario(seed, n_frames, layout, static, ego, agents)
