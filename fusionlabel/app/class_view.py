"""Hidden and locked classes: which classes the views leave out, and which ones may not be edited.

Qt-free. A hidden class is drawn in no view, cannot be picked or selected and is left out of the
object list (like every cuboid while the box layer is off). A locked class is drawn and selectable,
but an edit that would move, resize, turn, retype or delete one of its cuboids is refused as a
whole (:func:`locked_changes`, the document's ``guard``), and so is an undo or redo step that
would; the model commands (pre-label, Shift+X, I, V) are given the locked cuboids to keep instead
and do the rest. The views mark locked cuboids with a padlock (:mod:`.styles`). The state is a
project setting (``class_view``), read back when the project opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import FusionLabelError

SETTING = "class_view"


class LockedEdit(FusionLabelError):
    """An edit refused because it would change cuboids of a locked class."""


@dataclass
class ClassView:
    hidden: set[str] = field(default_factory=set)
    locked: set[str] = field(default_factory=set)

    @classmethod
    def from_setting(cls, value, known) -> "ClassView":
        """From the saved setting; classes the ontology no longer has are dropped."""
        if not isinstance(value, dict):
            return cls()
        pick = (lambda key: {c for c in value.get(key) or () if isinstance(c, str) and c in known})
        return cls(pick("hidden"), pick("locked"))

    def to_setting(self) -> dict:
        return {"hidden": sorted(self.hidden), "locked": sorted(self.locked)}

    def summary(self) -> str:
        """One line for the object list and the status bar ("" when nothing is hidden or locked)."""
        parts = []
        if self.hidden:
            parts.append("hidden: " + ", ".join(sorted(self.hidden)))
        if self.locked:
            parts.append("locked: " + ", ".join(sorted(self.locked)))
        return "  ·  ".join(parts)


def _frozen_part(ann) -> tuple:
    """What a lock keeps: the box and the class (attributes, track and source may change)."""
    return (ann.box, ann.cls)


def locked_changes(changed: dict, locked: set[str]) -> list:
    """The cuboids of a ``locked`` class that a step would move, resize, turn, retype or delete:
    ``changed`` is uid -> (before, after) (:meth:`DocState.changed`). New cuboids are allowed."""
    out = []
    for before, after in changed.values():
        if before is None or before.cls not in locked:
            continue
        if after is None or _frozen_part(after) != _frozen_part(before):
            out.append(before)
    return out


def refusal_text(description: str, anns, removed: int = 0) -> str:
    """The message of a refused edit, naming the locked classes and how to unlock them; ``removed``
    of the ``anns`` it refused are cuboids it would delete (an undone create, for instance)."""
    classes = sorted({a.cls for a in anns})
    n = len(anns)
    what = [f"remove {removed}"] * bool(removed) + [f"change {n - removed}"] * bool(n - removed)
    return (f"{description} refused: it would {' and '.join(what)} locked {', '.join(classes)} "
            f"cuboid{'s' if n != 1 else ''} (untick {' and '.join(classes)} in Classes > Lock class to go on)")
