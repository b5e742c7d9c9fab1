"""Small wording helpers that the CLI and the app share: counted nouns and short listings."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """``1 frame``, ``2 frames``; ``1 box``, ``2 boxes``."""
    return f"{count} {noun}{'' if count == 1 else ('es' if noun.endswith(('x', 's', 'ch', 'sh')) else 's')}"


def listing(names, most: int = 5) -> str:
    """The first ``most`` names, comma-separated, with ``, ...`` when there are more."""
    names = list(names)
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")
