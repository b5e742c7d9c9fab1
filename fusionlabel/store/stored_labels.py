"""What a report asks of a stored project's document, read from the database as it is asked
(``project status``): the commands in effect and single cuboids, without building the document
(a long drive's holds tens of thousands of cuboids and a label import of all of them)."""

from __future__ import annotations

from ..model.commands import Command
from ..model.document import Annotation


class StoredLabels:
    """A read-only stand-in for :class:`~fusionlabel.model.document.Document` with the queries
    :func:`~fusionlabel.assist.prelabel_project.prelabel_outcomes` makes: :meth:`done_commands`,
    ``uid in labels`` and :meth:`get`. ``store``: a :class:`~.db.ProjectStore`."""

    def __init__(self, store):
        self.store = store
        self._in_effect: list[tuple[int, str]] | None = None   # (id, description) of the done commands
        self._commands: dict[int, Command] = {}   # decoded once: the same object each time it is asked
        self._annotations: dict[str, Annotation | None] = {}

    def done_commands(self, description_prefix: str | tuple[str, ...] = "") -> list[Command]:
        """The commands in effect, oldest first, whose description starts with ``description_prefix``
        (or one of a tuple of them); only those are decoded."""
        if self._in_effect is None:
            self._in_effect = [(i, d) for i, state, d in self.store.command_descriptions() if state == "done"]
        wanted = [i for i, d in self._in_effect if d.startswith(description_prefix)]
        self._commands.update(self.store.commands(i for i in wanted if i not in self._commands))
        return [self._commands[i] for i in wanted]

    def _annotation(self, uid: str) -> Annotation | None:
        if uid not in self._annotations:
            self._annotations[uid] = self.store.annotation(uid)
        return self._annotations[uid]

    def __contains__(self, uid: object) -> bool:
        return isinstance(uid, str) and self._annotation(uid) is not None

    def get(self, uid: str) -> Annotation:
        """The cuboid with this uid; KeyError if there is none."""
        ann = self._annotation(uid)
        if ann is None:
            raise KeyError(f"no annotation with uid {uid}")
        return ann
