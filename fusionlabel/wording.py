"""Small wording helpers that the CLI, the renderer and the app share: counted nouns, short
listings, track IDs as the views show them, and what a run says when every frame was unreadable."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """``1 frame``, ``2 frames``; ``1 box``, ``2 boxes``."""
    return f"{count} {noun}{'' if count == 1 else ('es' if noun.endswith(('x', 's', 'ch', 'sh')) else 's')}"


def listing(names, most: int = 5) -> str:
    """The first ``most`` names, comma-separated, with ``, ...`` when there are more."""
    names = list(names)
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")


TRACK_SHOWN = 6   # characters shown of a long track ID


def track_text(track_id, ellipsis: str = "…") -> str:
    """How a track ID is shown in the views and renders: as it is when short (the app's own IDs,
    KITTI's and a nuScenes import's numbers), else its first :data:`TRACK_SHOWN` characters and
    ``ellipsis`` (an older project's nuScenes instance token is 32 hex digits: "9314ca…"); "" for
    none. The app's tooltips give it whole."""
    if track_id is None:
        return ""
    text = str(track_id)
    return text if len(text) <= TRACK_SHOWN + 2 else text[:TRACK_SHOWN] + ellipsis


def waived_note(fid: str, subject: str, check: str, reason: str) -> str:
    """What the CLI's ``--waive`` and the app's ``W`` say of a finding just waived:
    ``waived [3f9a1c02] track 7 (car) (label-size): a real wide load``."""
    return f"waived [{fid}] {subject} ({check}): {reason.strip()}"


def taken_back_note(ids: list[str]) -> str:
    """What ``--unwaive`` and the app's ``W`` on a waived finding say: ``1 waiver taken back: 3f9a1c02``."""
    return f"{counted(len(ids), 'waiver')} taken back: {', '.join(ids)}"


def stale_note(n: int) -> str:
    """The app's and ``--waived``'s count of waivers whose finding the checks no longer find:
    ``2 stale waivers (their finding is no longer found)``; "" for none."""
    return f"{counted(n, 'stale waiver')} (their finding is no longer found)" if n else ""


def read_only_problem(reason: str | None) -> str:
    """A read-only project's reason as the waiver messages give it (without "; opened read-only")."""
    return (reason or "the project is open read-only").removesuffix("; opened read-only")


def waivers_read_only(problem: str, here: bool = False) -> str:
    """Why waivers cannot be changed now, in the CLI and the app: ``problem`` (the project is open
    in another fusionlabel process, or read-only; ``here``: in another window of this process),
    nothing changed, and what to do."""
    other = "the other window of this project" if here else "the other fusionlabel"
    return (f"waivers not changed: {problem}; close {other} first, or change them there "
            "(its label-check dock: Ctrl+K, then W on the finding)")


def every_frame_unreadable(skipped: list[tuple[str, str]], nothing: str) -> str:
    """What a ``--skip-bad-frames`` run says when it skipped every frame: ``skipped`` holds
    (frame ID, error naming the file); ``nothing`` says what was not done ("nothing was exported")."""
    fid, error = skipped[0]
    return f"every one of the {len(skipped)} frames could not be read, {nothing} (first: frame {fid}: {error})"
