"""OpenLABEL export written frame by frame: its memory does not grow with the drive, and the file is
the JSON of the whole document (objects before frames, a track's type its most frequent class), in
the indent-1 text it always had. Also the streaming JSON writer it uses."""

from __future__ import annotations

import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.errors import LabelError
from fusionlabel.export import ExportOptions, export_drive
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.io.json_stream import Streamed, write_json
from fusionlabel.io.openlabel import read_openlabel
from fusionlabel.io.rig_yaml import load_rig
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.drive import Drive, Frame

REPO = Path(__file__).resolve().parents[1]
TRACKS = 40


def generated_drive(root: Path, n: int) -> Drive:
    """A drive of ``n`` frames on the sample drive's rig; no file is read by an OpenLABEL export."""
    frames = [Frame(f"{i:06d}", root / "lidar" / f"{i:06d}.bin", timestamp_us=1_000_000 + 100_000 * i,
                    T_world_vehicle=np.array([[1, 0, 0, 0.5 * i], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]]))
              for i in range(n)]
    return Drive("generated", root, load_rig(REPO / "sample_data" / "rig.yaml"), frames)


def track_span(t: int, n: int) -> range:
    """The frames track ``t`` is seen in: tracks start and end at different frames."""
    return range((7 * t) % max(n // 2, 1), n - (3 * t) % max(n // 3, 1))


def track_class(t: int, i: int) -> str:
    """Track 0 (in every frame) is a Car whose boxes of frames 2 and 5 say Van (its type stays
    Car); the others are one class each."""
    if t == 0 and i in (2, 5):
        return "Van"
    return ("Car", "Pedestrian", "Cyclist")[t % 3]


def made_labels(n: int):
    """labels_for of a generated drive: built on each call, as a drive reads its label files."""
    def labels_for(i: int) -> list[CuboidLabel]:
        out = [CuboidLabel(Cuboid((2.0 * t, 0.1 * i, -1.0), (4.0, 1.8, 1.5), 0.01 * t), track_class(t, i),
                           track_id=f"T{t:03d}", attributes={"occluded": t % 2 == 0})
               for t in range(TRACKS) if i in track_span(t, n)]
        out.append(CuboidLabel(Cuboid((0.0, -5.0, -1.0), (0.5, 0.5, 1.0), 0.0), "Cone", score=0.75, source="model"))
        return out
    return labels_for


def test_document_holds_every_frame_in_its_indent_1_text(tmp_path):
    n = 30
    drive = generated_drive(tmp_path / "drive", n)
    labels_for = made_labels(n)
    summary = export_drive(drive, "openlabel", tmp_path / "out", labels_for,
                           ExportOptions(progress=False, include_prelabels=True))
    text = (tmp_path / "out" / "openlabel.json").read_text()
    doc = json.loads(text)
    assert text == json.dumps(doc, indent=1) + "\n"      # the text json.dumps of the document gives
    ol = doc["openlabel"]
    assert list(ol) == ["metadata", "coordinate_systems", "streams", "objects", "frames", "frame_intervals"]
    assert list(ol["frames"]) == [str(i) for i in range(n)]
    assert ol["frame_intervals"] == [{"frame_start": 0, "frame_end": n - 1}]
    tracks = {o["name"]: o for o in ol["objects"].values() if o["name"].startswith("T")}
    assert len(tracks) == TRACKS
    for t in range(TRACKS):
        span = track_span(t, n)
        assert tracks[f"T{t:03d}"]["type"] == ("Car", "Pedestrian", "Cyclist")[t % 3]
        assert tracks[f"T{t:03d}"]["frame_intervals"] == [{"frame_start": span.start, "frame_end": span.stop - 1}]
    uid0 = next(uid for uid, o in ol["objects"].items() if o["name"] == "T000")
    van = [int(k) for k, f in ol["frames"].items()
           if {"name": "class", "val": "Van"} in f["objects"].get(uid0, {}).get("object_data", {}).get("text", [])]
    assert van == [2, 5]
    cones = [o for o in ol["objects"].values() if o["type"] == "Cone"]
    assert len(cones) == n and all(len(o["frame_intervals"]) == 1 for o in cones)
    assert summary.objects["Car"] + summary.objects["Van"] == sum(
        len(track_span(t, n)) for t in range(0, TRACKS, 3))
    assert summary.objects["Cone"] == n
    back = read_openlabel(tmp_path / "out" / "openlabel.json")
    for i in (0, n // 2, n - 1):
        got = sorted(back.labels[i], key=lambda lab: lab.box.center[0])
        want = sorted(labels_for(i), key=lambda lab: lab.box.center[0])
        assert [(g.label, g.track_id, g.score, g.attributes) for g in got] == [
            (w.label, w.track_id, w.score, w.attributes) for w in want]
        assert all(np.allclose(g.box.center, w.box.center) and math.isclose(g.box.yaw, w.box.yaw, abs_tol=1e-12)
                   for g, w in zip(got, want))


def export_peak_bytes(tmp_path: Path, n: int) -> int:
    drive = generated_drive(tmp_path / f"d{n}", n)
    labels_for = made_labels(n)
    tracemalloc.start()
    try:
        export_drive(drive, "openlabel", tmp_path / f"out{n}", labels_for, ExportOptions(progress=False))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_drive(tmp_path):
    export_peak_bytes(tmp_path, 2)         # imports and first-use caches out of the way
    short, long = export_peak_bytes(tmp_path, 20), export_peak_bytes(tmp_path, 200)
    # the whole document of 200 frames (~7,000 boxes) takes tens of MB; written frame by frame the
    # export holds one frame and the objects' table
    assert long < short + 2_000_000, (short, long)


def test_a_track_with_two_boxes_in_a_frame_is_refused_before_writing(tmp_path):
    drive = generated_drive(tmp_path / "drive", 5)
    labels = made_labels(5)
    twice = lambda i: labels(i) + labels(i)[:1] if i == 3 else labels(i)   # noqa: E731
    with pytest.raises(LabelError, match="track 'T000' has two boxes in frame 000003"):
        export_drive(drive, "openlabel", tmp_path / "out", twice, ExportOptions(progress=False))
    assert not (tmp_path / "out" / "openlabel.json").exists()


@pytest.mark.parametrize("value", [
    {"a": 1, "b": [1.5, "x\ny"], "c": {}, "d": [], "e": {"f": {"g": [None, True]}}},
    [], {}, [[]], "text", 3,
])
def test_streamed_json_is_the_text_of_json_dumps(tmp_path, value):
    def streamed(v):
        if isinstance(v, dict):
            return Streamed(((k, streamed(x)) for k, x in v.items()))
        if isinstance(v, list):
            return Streamed((streamed(x) for x in v), array=True)
        return v

    for form in (value, streamed(value)):
        write_json(tmp_path / "v.json", form)
        assert (tmp_path / "v.json").read_text() == json.dumps(value, indent=1) + "\n"

