"""The detector's child process (fusionlabel.assist.detect_process): the same detections (and
tracked pre-labels) as a run in this process, cancel after a frame, clear failures, nothing left
behind when killed; its messages (fusionlabel.childproc.messages) round-trip exactly, and a
malformed or cut-short one is a clear error, never a hang."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import numpy as np
import pytest

from fusionlabel.app import testing
from fusionlabel.assist import detect_process
from fusionlabel.assist.detect_process import (DetectProcess, DetectProcessError, _job, recipes, reply,
                                               send_done)
from fusionlabel.childproc.messages import WireError, encode, read_message, write_message
from fusionlabel.assist.detector import make_detector
from fusionlabel.assist.edit_assist import prelabels_to_store, tracked_run
from fusionlabel.assist.prelabel import detect_frames
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.io.drives import open_drive
from fusionlabel.model.annotation import CuboidLabel


@pytest.fixture(scope="module")
def drive():
    return open_drive(testing.small_drive())


def boxes(found):
    return {f: [(d.label, round(d.score, 6), tuple(np.round(d.box.center, 6)), tuple(np.round(d.box.size, 6)),
                 round(d.box.yaw, 6)) for d in dets] for f, dets in found.items()}


def test_the_child_finds_what_a_run_here_finds(drive):
    detector = make_detector("builtin")
    made = recipes(drive, detector)
    assert made is not None and made[0][0] == str(testing.small_drive().absolute())
    process = DetectProcess(*made, [0, 2], len(drive))
    messages = list(process.messages())
    assert process.proc.returncode == 0                       # a clean exit after the last message
    assert process.proc.stdin.closed and process.proc.stdout.closed   # no pipe left open
    assert [m for m in messages if m[0] == "progress"] == [("progress", 1, 2), ("progress", 2, 2)]
    kind, found, skipped, invalid, notes, prelabels = messages[-1]
    assert kind == "done" and skipped == [] and invalid == 0 and notes == [] and prelabels is None
    here = detect_frames(drive, detector, [0, 2])
    assert sorted(found) == [0, 2] and sum(map(len, here.values())) > 0
    assert boxes(found) == boxes(here)


def test_the_child_stops_when_cancelled(drive):
    process = DetectProcess(*recipes(drive, make_detector("builtin")), [0, 1, 2] * 4, len(drive))
    messages = []
    for message in process.messages():
        messages.append(message)
        if message == ("progress", 1, 12):
            process.cancel()
    kind, found, _, _, _, _ = messages[-1]
    assert kind == "done" and 1 <= len(found) < 3 and len(messages) - 1 < 12


def test_a_drive_or_detector_that_cannot_be_made_there_is_refused_or_reported(drive, tmp_path):
    class Custom:
        recipe = None

    assert recipes(drive, Custom()) is None                   # made in code: run it here instead
    gone = (str(tmp_path / "moved"), None, None)
    kind, text = list(DetectProcess(gone, ("builtin", None), [0], len(drive)).messages())[-1]
    assert kind == "failed" and "DriveError" in text and "moved" in text
    kind, text = list(DetectProcess(drive.opened_as, ("builtin", None), [0], len(drive) + 1).messages())[-1]
    assert kind == "failed" and f"now has {len(drive)} frames" in text


def test_a_killed_child_says_nothing_and_is_gone(drive):
    process = DetectProcess(*recipes(drive, make_detector("builtin")), list(range(len(drive))) * 20, len(drive))
    process.kill()
    assert list(process.messages()) == [] and process.proc.returncode is not None
    assert process.proc.stdin.closed and process.proc.stdout.closed
    process.cancel()                                          # after the end: nothing to ask, no error


def labels(found):
    """Every field of every label, exactly (the box's floats bit for bit)."""
    return {f: [(d.box, d.label, d.track_id, d.score, d.source, d.attributes) for d in dets] for f, dets in found.items()}


def test_given_a_minimum_score_the_child_also_tracks_the_run(drive):
    """The pre-labels to store come back linked into tracks exactly as they are made here."""
    detector = make_detector("builtin")
    kind, found, _, _, _, prelabels = list(DetectProcess(*recipes(drive, detector), [0, 1, 2], len(drive),
                                                         min_score=0.5).messages())[-1]
    assert kind == "done" and tracked_run(drive, found)
    here = prelabels_to_store(drive, detect_frames(drive, detector, [0, 1, 2]), 0.5, True)
    assert labels(prelabels) == labels(here)
    assert any(d.track_id for dets in prelabels.values() for d in dets)


def sample_labels():
    box = Cuboid((1.0 / 3.0, -2.5e-7, 1e6), (4.2, 1.8, 1.5), np.pi, 0.01, -0.02)
    return {
        4: [CuboidLabel(box, "car", None, 0.123456789, "model", {"num_points": 812}),
            CuboidLabel(box.with_(yaw=-3.0), "pedestrian", "p7", None, "model",
                        {"interpolated": True, "velocity": [0.5, -1.25], "note": "é"})],
        0: [],
        2: [CuboidLabel(box, "cyclist", "p1", 0.0, "human", {})],
    }


def roundtrip(kind, body=None, arrays=()):
    stream = io.BytesIO(b"".join(bytes(p) for p in encode(kind, body, arrays)))
    message = read_message(stream)
    assert read_message(stream) is None                      # nothing left over, clean end
    return message


def test_every_message_kind_round_trips_exactly():
    found = sample_labels()
    job = {"drive": ["/data/drive", "0003", [1242, 375]], "detector": ["onnx:/m.onnx", None], "frames": [0, 2, 4],
           "n_frames": 5, "nice": 15, "min_score": 0.35}
    got = _job(roundtrip("job", job))
    assert got["drive"] == ("/data/drive", "0003", (1242, 375)) and got["detector"] == ("onnx:/m.onnx", None)
    assert {k: got[k] for k in ("frames", "n_frames", "nice", "min_score")} == \
        {"frames": [0, 2, 4], "n_frames": 5, "nice": 15, "min_score": 0.35}
    assert reply(roundtrip("progress", [3, 20])) == ("progress", 3, 20)
    assert reply(roundtrip("failed", "DriveError: /x: no such file")) == ("failed", "DriveError: /x: no such file")
    for prelabels in (None, {4: found[4][1:], 0: []}):
        stream = io.BytesIO()
        send_done(stream, found, [(1, "frame 1: truncated sweep")], 7, ["2 sweeps left out 3 voxels"], prelabels)
        stream.seek(0)
        kind, dets, skipped, invalid, notes, pre = reply(read_message(stream))
        assert kind == "done" and list(dets) == [4, 0, 2] and labels(dets) == labels(found)
        assert skipped == [(1, "frame 1: truncated sweep")] and invalid == 7 and notes == ["2 sweeps left out 3 voxels"]
        assert (pre is None) if prelabels is None else labels(pre) == labels(prelabels)
    # Arrays of every allowed kind, including a big-endian one and an empty one, come back as sent.
    rng = np.random.default_rng(1)
    points = rng.normal(size=(120_000, 4)).astype(np.float32)
    arrays = [points, np.arange(6, dtype=">i8").reshape(2, 3), np.zeros((0, 4), np.float64),
              np.array([True, False]), np.arange(3, dtype=np.uint8), np.arange(3, dtype=np.int32)]
    message = roundtrip("frame", {"index": 3}, arrays)
    assert message.kind == "frame" and message.body == {"index": 3}
    for a, b in zip(arrays, message.arrays):
        assert b.shape == a.shape and b.dtype == a.dtype.newbyteorder("<") and np.array_equal(a, b)
    with pytest.raises(WireError, match="cannot send an array of object"):
        encode("frame", None, [np.array([None])])


def test_a_malformed_or_cut_short_message_is_a_clear_error():
    stream = io.BytesIO()
    send_done(stream, sample_labels(), [], 0, [], None)
    whole = stream.getvalue()
    header_end = 8 + int.from_bytes(whole[4:8], "little")

    def error(data: bytes) -> str:
        with pytest.raises(WireError) as e:
            reply(read_message(io.BytesIO(data)))
        return str(e.value)

    assert "ended early: the message start has 3 of its 8 bytes" in error(whole[:3])
    assert "ended early: the header" in error(whole[:header_end - 5])
    assert "ended early: array 0 has 10 of its" in error(whole[:header_end + 10])
    assert "ended early: array 2" in error(whole[:-1])
    assert "not a message: it starts with b'\\x80\\x04\\x95" in error(b"\x80\x04\x95" + whole[3:])   # a pickle
    assert "header is not JSON" in error(b"FLW1" + (5).to_bytes(4, "little") + b"{oops")
    assert "a header of 4294967295 bytes" in error(b"FLW1" + b"\xff" * 4)

    def message(kind, body, arrays=()) -> bytes:
        return b"".join(bytes(p) for p in encode(kind, body, arrays))

    assert "unknown message kind 'shout'" in error(message("shout", None))
    assert "progress must be [frames done, frames in all]" in error(message("progress", ["1", 2]))
    assert "failed must carry its text" in error(message("failed", 3))
    done = read_message(io.BytesIO(whole))
    bad_shape = dict(done.body, detections=dict(done.body["detections"], counts=[1, 0, 1]))
    assert "detections: boxes must be (2, 9) float64" in error(message("done", bad_shape, done.arrays))
    assert "notes must be a list of text" in error(message("done", dict(done.body, notes=[3]), done.arrays))
    broken = [a.copy() for a in done.arrays]
    broken[0][1, 3] = np.nan
    assert "detections: boxes must be finite with sizes above 0" in error(message("done", done.body, broken))
    bad_source = dict(done.body, detections=dict(done.body["detections"],
                                                 labels=[[*r[:2], "robot", r[3]] for r in done.body["detections"]["labels"]]))
    assert "each label must be [class, track id or null, source, attributes]" in error(message("done", bad_source,
                                                                                                done.arrays))
    def with_arrays(specs) -> bytes:
        raw = json.dumps({"kind": "progress", "body": [1, 2], "arrays": specs}).encode()
        return b"FLW1" + len(raw).to_bytes(4, "little") + raw

    assert "an array must be [dtype, shape]" in error(with_arrays([[["<f8"], [3]]]))       # a dtype that is a list
    assert "an array must be [dtype, shape]" in error(with_arrays([[{"<f8": 1}, [3]]]))
    assert "array 0 of shape [0, 1" in error(with_arrays([["<f8", [0] + [1] * 70]]))       # numpy refuses it
    with pytest.raises(WireError, match="frames must be frame numbers of the drive"):
        _job(read_message(io.BytesIO(message("job", {"drive": ["/d", None, None], "detector": ["builtin", None],
                                                     "frames": [0, 9], "n_frames": 3, "nice": 15, "min_score": None}))))


FAKE_CHILD = "import sys, time; sys.stdout.buffer.write({data!r}); sys.stdout.buffer.flush(); time.sleep({sleep})"


def test_a_child_that_sends_something_malformed_is_reported_not_waited_for(drive):
    """A real process writing a cut-short message and ending, or garbage and staying alive: the
    run fails at once with the reason, and the child is gone."""
    cut = b"".join(bytes(p) for p in encode("progress", [1, 3]))[:-2]
    for data, sleep, reason in ((cut, 0, "the message ended early"), (b"Traceback (most recent", 60, "not a message")):
        t0 = time.perf_counter()
        process = DetectProcess(*recipes(drive, make_detector("builtin")), [0], len(drive),
                                command=[sys.executable, "-c", FAKE_CHILD.format(data=data, sleep=sleep)])
        kind, text = list(process.messages())[-1]
        assert kind == "failed" and text.startswith("the detector process sent a malformed message (") and reason in text
        assert process.proc.returncode is not None and time.perf_counter() - t0 < 30
        assert process.proc.stdin.closed and process.proc.stdout.closed


def test_the_child_refuses_a_malformed_job_with_a_message(drive):
    proc = subprocess.Popen([sys.executable, "-m", "fusionlabel.assist.detect_process"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    out, _ = proc.communicate(b"FLW1" + (2).to_bytes(4, "little") + b"[]", timeout=60)
    kind, text = reply(read_message(io.BytesIO(out)))
    assert kind == "failed" and "malformed job" in text and "kind, body and arrays" in text and proc.returncode == 0
    raw = json.dumps({"kind": "job", "body": None, "arrays": [[["<f8"], [3]]]}).encode()
    proc = subprocess.Popen([sys.executable, "-m", "fusionlabel.assist.detect_process"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    out, _ = proc.communicate(b"FLW1" + len(raw).to_bytes(4, "little") + raw, timeout=60)
    kind, text = reply(read_message(io.BytesIO(out)))
    assert kind == "failed" and "malformed job" in text and "an array must be [dtype, shape]" in text


def test_a_child_that_cannot_be_started_is_a_clear_error(drive, monkeypatch):
    made = recipes(drive, make_detector("builtin"))
    with monkeypatch.context() as m:
        m.setattr(sys, "frozen", True, raising=False)
        with pytest.raises(DetectProcessError, match="cannot run in a separate process from a frozen executable"):
            DetectProcess(*made, [0], len(drive))
    with pytest.raises(DetectProcessError, match="cannot start the detector process /nowhere/python: No such file"):
        DetectProcess(*made, [0], len(drive), command=["/nowhere/python", "-m", "x"])
    write_message(io.BytesIO(), "progress", [0, 1])            # (the writer needs nothing else)


def test_a_message_that_cannot_be_read_for_another_reason_ends_the_run_with_a_message(drive, monkeypatch):
    """Anything else going wrong while reading (here: a fault in checking a message) ends the
    relay with a "failed" message instead of killing the relay thread; the child is gone."""
    def broken(message):
        raise KeyError("surprise")

    monkeypatch.setattr(detect_process, "reply", broken)
    process = DetectProcess(*recipes(drive, make_detector("builtin")), [0], len(drive))
    kind, text = list(process.messages())[-1]
    assert kind == "failed" and "KeyError" in text and "surprise" in text
    assert process.proc.returncode is not None


def test_a_child_whose_app_is_gone_exits_without_a_traceback():
    """The app closed its end of the pipe (it quit, or died) before the child answered: the child
    ends quietly instead of printing a BrokenPipeError traceback in the user's terminal."""
    proc = subprocess.Popen([sys.executable, "-m", "fusionlabel.assist.detect_process"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                     # nobody reads the answer
    proc.stdin.write(b"FLW1" + (2).to_bytes(4, "little") + b"[]")   # a malformed job: it answers "failed"
    proc.stdin.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 0
