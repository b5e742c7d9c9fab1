"""Undo and redo as the annotator sees them (headless session): they show the frame they changed
and select what they touched; a run of key edits that ends where it started leaves no undo step
and no frame marked in progress."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.app import testing
from fusionlabel.app.actions import Actions
from fusionlabel.app.session import Session
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import CreateCuboid
from fusionlabel.store.project import Project


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def session(tmp_path):
    project = Project.create(tmp_path / "project", testing.small_drive())
    s = Session(project, clock=Clock())
    yield s
    s.close()
    project.close()


def add_box(s, frame, x):
    return s.apply(CreateCuboid(frame, CuboidLabel(Cuboid((x, 0, -1), (4, 2, 1.5)), "car")), work=False).uid


def test_undo_and_redo_go_to_the_frame_they_change_and_select_the_box(session):
    s, actions = session, Actions(session)
    a = add_box(s, 0, 10.0)
    b = add_box(s, 0, 20.0)
    s.select((a,))
    actions.delete()
    assert a not in s.document
    s.set_frame(2)
    s.select(())
    actions.undo()
    frame_id = s.drive.frames[0].frame_id
    assert s.frame == 0 and s.selection == (a,) and a in s.document
    assert s.messages[-1].text == f"undid Delete cuboid on frame {frame_id}"
    s.set_frame(2)
    actions.redo()                     # the box is gone again: its frame is shown, nothing selected
    assert s.frame == 0 and s.selection == () and a not in s.document
    assert s.messages[-1].text.endswith(f"on frame {frame_id}")
    s.select((b,))                     # an edit on the frame on screen: no jump, no frame in the message
    actions.nudge(0, 0.05)
    s.select(())
    actions.undo()
    assert s.frame == 0 and s.selection == (b,) and s.messages[-1].text == "undid Nudge"
    status = s.document.frame_status(0)
    actions.set_frame_status("done")   # a status change only: its frame, selection kept
    s.set_frame(1)
    actions.undo()
    assert s.frame == 0 and s.document.frame_status(0) == status != "done"


@pytest.mark.parametrize("status", ["new", "in_progress", "done", "reviewed"])
def test_a_key_run_back_where_it_started_leaves_no_step_and_the_status_as_it_was(session, status):
    s, actions = session, Actions(session)
    a = add_box(s, 0, 10.0)
    if status != "new":
        actions.set_frame_status(status)
    history = list(s.document.history())
    s.select((a,))
    before = s.document.get(a).box
    for step in (0.05, 0.05, 0.05, -0.05, -0.05, -0.05):
        actions.nudge(0, step)
        s.clock.now += 0.2
    assert s.document.get(a).box == before
    assert s.document.history() == history and s.document.frame_status(0) == status
    actions.nudge(0, 0.05)             # the next press is a new run: it starts (or reopens) the frame again
    assert s.document.history()[-1] == "Nudge"
    assert s.document.frame_status(0) == "in_progress"
    actions.nudge(0, 0.05)             # a run that went somewhere keeps its step and the status
    actions.nudge(0, -0.05)
    assert s.document.history()[-1] == "Nudge ×3" and not np.allclose(s.document.get(a).box.center, before.center)
    actions.undo()
    assert s.document.history() == history and s.document.frame_status(0) == status


def test_undoing_a_step_that_only_sets_values_is_not_tried_first(session, monkeypatch):
    """Undo and redo of a step that removes no cuboid (attributes set on many boxes) go ahead
    without first trying the step to count what it removes; a step that removes many still asks."""
    from fusionlabel.model.commands import Batch, SetAttributes

    s = session
    s.apply(Batch(tuple(CreateCuboid(f, CuboidLabel(Cuboid((4.0 * k, 0, -1), (4, 2, 1.5)), "car"))
                        for f in range(3) for k in range(5)), "Add cars"), work=False)
    uids = [a.uid for f in range(3) for a in s.document.annotations(f)]
    s.apply(Batch(tuple(SetAttributes(u, {"parked": True}) for u in uids), "Set parked"))
    asked, tried = [], []
    s.confirm_removal = lambda kind, text, removes: asked.append((kind, removes)) or True
    probe = s.document.step_changes
    monkeypatch.setattr(s.document, "step_changes", lambda kind: tried.append(kind) or probe(kind))
    s.undo()
    s.redo()
    s.undo()
    assert tried == [] and asked == []
    assert not any(s.document.get(u).attributes.get("parked") for u in uids)
    s.undo()                                                   # takes the 15 cars away: asked first
    assert tried == ["undo"] and [kind for kind, _ in asked] == ["undo"] and len(s.document) == 0
