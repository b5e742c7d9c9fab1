"""The detector's child process (fusionlabel.assist.detect_process): the same detections as a run
in this process, cancel after a frame, clear failures, nothing left behind when killed."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.app import testing
from fusionlabel.assist.detect_process import DetectProcess, recipes
from fusionlabel.assist.detector import make_detector
from fusionlabel.assist.prelabel import detect_frames
from fusionlabel.io.drives import open_drive


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
    kind, found, skipped, invalid = messages[-1]
    assert kind == "done" and skipped == [] and invalid == 0
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
    kind, found, _, _ = messages[-1]
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
