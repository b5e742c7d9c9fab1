"""The tracker and a rigid object's detection boxed across itself (its heading about 90° off)."""

import numpy as np

from fusionlabel.assist.tracker import track_sequence
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel

HEADING = 0.4                       # rad: the car drives along this direction in the world frame
SIZE = (4.3, 1.8, 1.5)


def _car(i: int, across: bool = False, label: str = "Car", size=SIZE) -> CuboidLabel:
    """The detection of frame ``i`` of a car driving straight at 10 m/s (10 Hz); ``across``: the
    same footprint's centre, the box turned by 90° (its near end taken for a side)."""
    along = np.array([np.cos(HEADING), np.sin(HEADING)])
    x, y = np.array([5.0, 2.0]) + 1.0 * i * along
    yaw = HEADING + (np.pi / 2 if across else 0.0)
    return CuboidLabel(Cuboid((x, y, 0.0), size, yaw), label, None, 0.8, "model")


def _axis_error_deg(yaw: float) -> float:
    """How far ``yaw`` lies from the car's axis (front or back), in degrees."""
    off = (yaw - HEADING) % np.pi
    return float(np.degrees(min(off, np.pi - off)))


def test_one_across_reading_does_not_turn_a_car_track():
    """Frame 6 of 12 is read across: the track's box there and in the next frame (and every other)
    keeps the car's heading, instead of turning half way (45°, then 22.5°)."""
    dets = [[_car(i, across=(i == 6))] for i in range(12)]
    out = track_sequence(dets)
    assert all(len(f) == 1 for f in out) and len({f[0].track_id for f in out}) == 1
    errors = [_axis_error_deg(f[0].box.yaw) for f in out]
    assert errors[6] < 3.0 and errors[7] < 3.0, errors
    assert max(errors) < 3.0, errors
    # the box of the across frame stays on the car's own footprint (its position predicted, not pulled)
    truth = _car(6).box.center
    assert np.linalg.norm(np.subtract(out[6][0].box.center, truth)[:2]) < 0.3


def test_a_track_born_across_takes_the_axis_most_readings_agree_on():
    """The first detection is read across and every later one along the car: from the third frame on,
    when the readings along the car outnumber the one across, the track faces along the car."""
    dets = [[_car(i, across=(i == 0))] for i in range(10)]
    out = track_sequence(dets)
    assert all(len(f) == 1 for f in out) and len({f[0].track_id for f in out}) == 1
    errors = [_axis_error_deg(f[0].box.yaw) for f in out]
    assert max(errors[2:]) < 3.0, errors


def test_a_cyclist_track_ignores_an_across_reading_too():
    """A rider's track is rigid as well: one reading across in the middle does not turn it."""
    dets = [[_car(i, across=(i == 5), label="Cyclist", size=(1.8, 0.6, 1.7))] for i in range(10)]
    out = track_sequence(dets)
    assert all(len(f) == 1 for f in out) and len({f[0].track_id for f in out}) == 1
    errors = [_axis_error_deg(f[0].box.yaw) for f in out]
    assert errors[5] < 3.0 and errors[6] < 3.0, errors
