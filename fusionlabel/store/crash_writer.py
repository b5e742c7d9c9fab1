"""Apply a deterministic stream of edits to a project, reporting each step once it is committed.

Used by the kill -9 test (tests/test_store.py) and handy by hand::

    python -m fusionlabel.store.crash_writer PROJECT --seed 3 --steps 100000

prints ``READY`` and then one JSON line per step, written only after the step's transaction
committed: ``{"step": i, "op": "create"}`` (plus ``"digest"`` of the state with ``--digest``,
which makes each step slower than its commit). The stream depends only on the seed and the
document state, so :func:`run_edits` on an in-memory Document with the same seed gives the
digest the project must have after every step.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from typing import Callable

from ..geometry.cuboid import Cuboid
from ..model import edit_actions as ea
from ..model.annotation import CuboidLabel
from ..model.commands import (Batch, Command, CreateCuboid, DeleteTrackFrom, SetAttributes, SetBox, SetClass,
                              SetFrameStatus, annotation_to_dict, leaves, merged)
from ..model.document import FRAME_STATUSES, Document

OPS = ("create", "move", "rotate", "class", "attribute", "delete", "copy", "delete_track", "status",
       "batch", "undo", "redo", "nudge", "absent")
WEIGHTS = (24, 12, 8, 6, 4, 7, 7, 2, 5, 3, 14, 8, 20, 3)


def state_digest(doc: Document) -> str:
    """SHA-1 of everything the document holds: annotations (uid, frame, label, creation order),
    frame statuses, absent marks and the track-id counter."""
    h = hashlib.sha1()
    state = doc.state
    for uid in sorted(state.anns):
        h.update(json.dumps([annotation_to_dict(state.anns[uid]), state.seq[uid]], sort_keys=True).encode())
    h.update(json.dumps(sorted(state.status.items())).encode())
    if state.absent:   # (a state without marks keeps the digest it had before they existed)
        h.update(json.dumps(sorted((t, sorted(f)) for t, f in state.absent.items())).encode())
    h.update(str(state.next_track).encode())
    return h.hexdigest()


def seeded_uids(seed: int) -> Callable[[], str]:
    rng = random.Random(f"uids-{seed}")
    return lambda: f"{rng.getrandbits(128):032x}"


def _random_box(rng: random.Random) -> Cuboid:
    return Cuboid((rng.uniform(-40, 40), rng.uniform(-40, 40), rng.uniform(-2, 1)),
                  (rng.uniform(0.5, 6), rng.uniform(0.5, 3), rng.uniform(0.5, 3)), rng.uniform(-math.pi, math.pi))


def _fold_nudges(last: Command, step: Command) -> Command | None:
    """The app's rule for key nudges, reduced: a nudge of the cuboid the last step nudged folds
    into that step (Document.apply's ``merge``; it may fold back to nothing)."""
    boxes = [c for c in (*leaves(last), *leaves(step)) if isinstance(c, SetBox)]
    if last.description != "Nudge" or len({c.uid for c in boxes}) != 1:
        return None
    return merged(last, step, "Nudge")


def _step(doc: Document, rng: random.Random, op: str) -> None:
    n = doc.n_frames
    classes = doc.ontology.names
    anns = doc.state.anns
    uid = rng.choice(sorted(anns)) if anns else None
    if len(anns) > 400 and op in ("create", "batch"):
        op = "delete_track"
    if op == "create":
        doc.apply(CreateCuboid(rng.randrange(n), CuboidLabel(_random_box(rng), rng.choice(classes))))
    elif op == "batch":
        frame = rng.randrange(n)
        cmds = tuple(CreateCuboid(frame, CuboidLabel(_random_box(rng), rng.choice(classes)))
                     for _ in range(rng.randrange(5, 60)))
        doc.apply(Batch(cmds, "Create many"))
    elif op == "undo":
        doc.undo()
    elif op == "redo":
        doc.redo()
    elif op == "status":
        doc.apply(SetFrameStatus(rng.randrange(n), rng.choice(FRAME_STATUSES)))
    elif uid is None:
        return
    elif op == "nudge":
        target = min(anns)  # consecutive nudges move one cuboid back and forth
        box = anns[target].box
        dx = rng.choice([-0.05, 0.05])
        doc.apply(SetBox(target, box.with_(center=(box.center[0] + dx, box.center[1], box.center[2])), "Nudge"),
                  merge=_fold_nudges)
    elif op == "move":
        box = anns[uid].box
        doc.apply(SetBox(uid, box.with_(center=(box.center[0] + rng.uniform(-1, 1), box.center[1], box.center[2]))))
    elif op == "rotate":
        cmd = ea.rotate(doc, [uid], rng.choice([-15.0, -1.0, 1.0, 15.0]))
        if cmd is not None:
            doc.apply(cmd)
    elif op == "class":
        doc.apply(SetClass(uid, rng.choice(classes)))
    elif op == "attribute":
        doc.apply(SetAttributes(uid, {"note": f"n{rng.randrange(1000)}"}))
    elif op == "delete":
        doc.apply(ea.delete(doc, [uid]))
    elif op == "copy":
        cmd = ea.copy_to_frame(doc, [uid], rng.randrange(n))
        if cmd is not None:
            doc.apply(cmd)
    elif op == "absent":   # mark a tracked cuboid's object absent, or take its track's marks back
        cmd = ea.mark_absent(doc, [uid]) if rng.random() < 0.7 else ea.unmark_absent(doc, [uid])
        if cmd is not None:
            doc.apply(cmd)
    elif op == "delete_track":
        ann = anns[uid]
        doc.apply(DeleteTrackFrom(ann.track_id, rng.randrange(ann.frame + 1)))


def run_edits(doc: Document, seed: int, steps: int,
              report: Callable[[int, str, str | None], None] | None = None, digests: bool = True) -> list[str]:
    """Run ``steps`` pseudo-random edits (with undo/redo); returns the state digest after each
    step (unless ``digests`` is False) and calls ``report(step, op, digest)`` after each step,
    i.e. after its commit."""
    rng = random.Random(seed)
    doc.state.uid_factory = seeded_uids(seed)
    out = []
    for i in range(steps):
        op = rng.choices(OPS, WEIGHTS)[0]
        _step(doc, rng, op)
        digest = state_digest(doc) if digests else None
        if digests:
            out.append(digest)
        if report is not None:
            report(i, op, digest)
    return out


def main(argv: list[str] | None = None) -> int:
    from .project import Project

    parser = argparse.ArgumentParser(prog="python -m fusionlabel.store.crash_writer",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("project")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--digest", action="store_true", help="print the state digest after every step")
    args = parser.parse_args(argv)
    project = Project.open(args.project)
    if project.read_only:
        print(f"error: {project.read_only_reason}", file=sys.stderr)
        return 2
    out = sys.stdout

    def report(i: int, op: str, digest: str | None) -> None:
        line = {"step": i, "op": op} if digest is None else {"step": i, "op": op, "digest": digest}
        out.write(json.dumps(line) + "\n")
        out.flush()

    out.write(f"READY {state_digest(project.document)}\n")
    out.flush()
    run_edits(project.document, args.seed, args.steps, report, digests=args.digest)
    project.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
