"""Undo in the headless model: a document's starting point (the labels a project is made with) is
never undone, and a step that removes many cuboids across frames is told apart from one edit."""

from __future__ import annotations

import pytest

from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import Batch, CreateCuboid, DeleteCuboids, DeleteTrackFrom, SetBox
from fusionlabel.model.document import Document
from fusionlabel.model.ontology import Ontology
from fusionlabel.model.removal import MANY_CUBOIDS, removal
from fusionlabel.store.crash_writer import state_digest
from fusionlabel.store.label_import import import_description, starting_point_text


def box(x: float, source: str = "import", track: str | None = None) -> CuboidLabel:
    return CuboidLabel(Cuboid((x, 0, -1), (4, 2, 1.5)), "car", track, source=source)


def import_batch(frames: int, per_frame: int, source: str = "import") -> Batch:
    creates = [CreateCuboid(f, box(6.0 * i, source)) for f in range(frames) for i in range(per_frame)]
    return Batch(tuple(creates), import_description(len(creates)))


@pytest.fixture
def doc():
    return Document(8, Ontology.default())


def test_undo_stops_above_the_starting_point(doc):
    doc.apply(import_batch(3, 4))
    doc.make_starting_point()
    start = state_digest(doc)
    assert doc.starting_point() == ["Import 12 labels from the drive"] and not doc.can_undo
    assert doc.undo() is None and doc.undo_text() == "" and state_digest(doc) == start
    uid = doc.annotations(0)[0].uid
    doc.apply(SetBox(uid, Cuboid((1, 1, -1), (4, 2, 1.5))))
    assert doc.history() == ["Import 12 labels from the drive", "Move"] and doc.undo_text() == "Move"
    assert doc.undo().description == "Move" and doc.undo() is None and state_digest(doc) == start
    assert doc.redo().description == "Move" and doc.get(uid).box.center[0] == 1
    assert starting_point_text(doc.starting_point()) == \
        "the project starts with the 12 labels imported from the drive"


def test_an_edit_right_after_the_starting_point_is_its_own_step(doc):
    """A key nudge right after the import is never folded into the starting point."""
    doc.apply(import_batch(1, 2))
    doc.make_starting_point()
    uid = doc.annotations(0)[0].uid

    def fold(last, step):
        return Batch((*last.commands, step) if isinstance(last, Batch) else (last, step), "Nudge")
    doc.apply(SetBox(uid, Cuboid((2, 0, -1), (4, 2, 1.5))), merge=fold)
    assert doc.history() == ["Import 2 labels from the drive", "Move"]
    assert doc.undo() is not None and doc.undo() is None and len(doc) == 2


def test_step_changes_does_nothing_and_says_what_a_step_would_remove(doc):
    doc.apply(import_batch(3, 4))
    seen = []
    doc.subscribe(seen.append)
    before = state_digest(doc)
    changed = doc.step_changes("undo")
    assert state_digest(doc) == before and seen == [] and doc.undo_text() == "Import 12 labels from the drive"
    gone = removal(changed)
    assert (gone.cuboids, gone.frames, gone.tracks, gone.by_source) == (12, (0, 1, 2), 12, {"import": 12})
    assert gone.is_large
    assert gone.text(lambda i: f"{i:06d}") == "12 cuboids in 3 frames (000000–000002): 12 imported labels"
    doc.undo()
    assert removal(doc.step_changes("redo")).cuboids == 0 and doc.can_redo    # a redo here only adds
    assert doc.step_changes("undo") == {}                                       # nothing to undo


def test_only_steps_over_many_tracks_and_frames_are_large(doc):
    """One frame, one track, or fewer than MANY_CUBOIDS: not large. The sources are named."""
    doc.apply(Batch(tuple(CreateCuboid(0, box(6.0 * i, "model")) for i in range(MANY_CUBOIDS + 2)), "Pre-label"))
    assert not removal(doc.step_changes("undo")).is_large                         # one frame
    doc.apply(Batch(tuple(CreateCuboid(f, box(100.0, "human", "77")) for f in range(1, 8)), "Interpolate"))
    assert not removal(doc.step_changes("undo")).is_large                         # one track
    doc.apply(import_batch(2, MANY_CUBOIDS // 2 - 1))
    assert not removal(doc.step_changes("undo")).is_large                         # too few
    doc.apply(DeleteTrackFrom("77", 1))
    doc.apply(DeleteCuboids(tuple(a.uid for a in doc.all_annotations())))
    assert removal(doc.step_changes("undo")).cuboids == 0                         # the undo of a delete adds
    doc.undo()
    gone = removal(doc.step_changes("redo"))                                      # its redo removes them all
    imported, prelabels = 2 * (MANY_CUBOIDS // 2 - 1), MANY_CUBOIDS + 2
    assert gone.is_large and gone.by_source == {"model": prelabels, "import": imported}
    assert gone.text() == (f"{imported + prelabels} cuboids in 2 frames (0–1): "
                           f"{prelabels} pre-labels, {imported} imported labels")
