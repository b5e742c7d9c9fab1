"""A value derived from the commands in effect of a document, kept until those commands change.

Asking about one frame (the app does at every repaint: which pre-labels are edited, which boxes
are keyframes) must not walk every command of a long drive's history each time.
"""

from __future__ import annotations

import weakref
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class DoneCommandsMemo(Generic[T]):
    """``memo(doc)`` is ``build(commands)`` over the document's commands in effect whose description
    starts with ``prefix`` (a string or a tuple of them, as :meth:`Document.done_commands` takes),
    built again only when those commands change (one done, undone or redone)."""

    def __init__(self, prefix: str | tuple[str, ...], build: Callable[[list], T]):
        self.prefix, self.build = prefix, build
        # doc -> (the commands the value was built from, the value); the commands themselves are
        # kept, so an id compared here never names another command
        self._cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    def __call__(self, doc) -> T:
        runs = doc.done_commands(self.prefix)
        cached = self._cache.get(doc)
        if cached is None or len(cached[0]) != len(runs) or any(a is not b for a, b in zip(cached[0], runs)):
            cached = self._cache[doc] = (runs, self.build(runs))
        return cached[1]
