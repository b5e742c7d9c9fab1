"""`fusionlabel check FOLDER` on a KITTI tracking folder of several sequences without ``--scene``:
every sequence is checked in turn (a label delivery is checked whole), with a progress bar over
the sequences. The text output has one section per sequence and a closing line; ``--json`` prints
a list with each sequence's report; the exit code is the worst of the sequences' (bad input 2, then
findings 3, then 0). A sequence that cannot be checked (a missing calibration file) is reported
in its section and the others are still checked."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from ..errors import FusionLabelError
from ..progress import progress
from ..wording import counted
from .main import INPUT_ERROR_STATUS
from .options import SKIPPED_FRAMES_EXIT as FINDINGS_EXIT
from .run_json import print_json

_RANK = {0: 0, FINDINGS_EXIT: 1, INPUT_ERROR_STATUS: 2}    # exit codes from the best to the worst


def unchosen_sequences(path: Path, scene: str | None) -> list[str] | None:
    """The sequences of the KITTI tracking folder ``path`` (with sweeps or labels only) when it holds
    more than one and ``scene`` chose none; None otherwise."""
    from ..io.kitti_tracking import find_tracking_root, tracking_sequences
    from ..io.kitti_tracking_labels import label_sequences, labels_only_root

    if scene is not None or not path.is_dir():
        return None
    if (root := find_tracking_root(path)) is not None:
        sequences = tracking_sequences(root)
    elif (root := labels_only_root(path)) is not None:
        sequences = label_sequences(root)
    else:
        return None
    return sequences if len(sequences) > 1 else None


def worst(codes) -> int:
    """The worst of exit codes ``codes`` (0 for none)."""
    return max(codes, key=lambda c: _RANK.get(c, 2), default=0)


def check_sequences(args: argparse.Namespace, sequences: list[str],
                    checked: Callable[[argparse.Namespace, str, bool], tuple[int, dict | str]]) -> int:
    """Check every one of ``sequences`` of ``args.drive`` with ``checked(args, sequence,
    show_progress)`` (:func:`~.cmd_check.checked`), print the sections (or the JSON list) and return
    the worst exit code."""
    from ..io.kitti_tracking_labels import labels_only_root
    from .cmd_check import refuse_sweep_options

    if (root := labels_only_root(args.drive)) is not None:
        refuse_sweep_options(args, root)        # once for the folder, not once per sequence
    results: list[tuple[str, int, dict | str]] = []
    with progress(total=len(sequences), desc="check", unit="sequence", enabled=not args.quiet) as bar:
        for seq in sequences:
            try:
                code, out = checked(args, seq, False)
            except FusionLabelError as e:
                code, out = INPUT_ERROR_STATUS, f"error: {e}"
            results.append((seq, code, out))
            bar.update(1)
    if args.json:
        print_json([_json_entry(seq, code, out) for seq, code, out in results])
    else:
        for seq, _, out in results:
            print(f"== sequence {seq} ==\n{out}\n")
        print(closing_line(results))
    return worst(code for _, code, _ in results)


def _json_entry(seq: str, code: int, out: dict | str) -> dict:
    """One sequence in ``--json``: its sequence and exit code, then its report, or its ``error``."""
    entry: dict = {"sequence": seq, "exit": code}
    if isinstance(out, dict):
        return entry | out
    return entry | {"error": out.removeprefix("error: ")}


def closing_line(results: list[tuple[str, int, dict | str]]) -> str:
    """``21 sequences checked: 19 without findings; findings in 0003, 0011`` (and the sequences that
    could not be checked)."""
    clean = [s for s, c, _ in results if c == 0]
    found = [s for s, c, _ in results if c == FINDINGS_EXIT]
    failed = [s for s, c, _ in results if c not in (0, FINDINGS_EXIT)]
    parts = [f"{counted(len(results), 'sequence')} checked: {len(clean)} without findings"]
    if found:
        parts.append(f"findings in {', '.join(found)}")
    if failed:
        parts.append(f"could not check {', '.join(failed)} (see their sections)")
    return "; ".join(parts)
