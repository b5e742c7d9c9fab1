"""How many of the cuboids a key deletes were keyframes, as its message says it: Del's "Deleted 1
cuboid (1 keyframe)", H's "Track 7 absent in frame 000012 (its cuboid deleted, 1 keyframe)"."""

from __future__ import annotations

from ..assist.keyframes import KEY_SOURCES, unedited_copies


def keyframes_among(doc, anns) -> int:
    """How many of ``anns`` are keyframes (human or imported boxes other than unedited copies:
    :mod:`fusionlabel.assist.keyframes`)."""
    keyed = [a for a in anns if a.source in KEY_SOURCES]
    return len(keyed) - len(unedited_copies(doc, keyed)) if keyed else 0


def with_keyframes(text: str, doc, anns) -> str:
    """``text`` saying how many of ``anns`` (counted before they go) were keyframes: inside its
    closing parenthesis when it ends with one, else in one of its own; ``text`` when none were."""
    keys = keyframes_among(doc, anns)
    if not keys:
        return text
    note = f"{keys} keyframe{'s' if keys != 1 else ''}"
    return f"{text[:-1]}, {note})" if text.endswith(")") else f"{text} ({note})"
