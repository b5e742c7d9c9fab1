"""Progress on stderr: tqdm on a terminal, whole lines (no carriage returns) in a log file."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from fusionlabel.progress import LineProgress, progress

ROOT = Path(__file__).resolve().parents[1]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_at_every_tenth_and_one_final_line():
    out = io.StringIO()
    assert list(progress(range(20), desc="export kitti", stream=out)) == list(range(20))
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[:-1] == [f"export kitti: {n}/20 frames ({5 * n}%)" for n in range(2, 20, 2)]
    assert lines[-1].startswith("export kitti: 20/20 frames (100%) in ") and lines[-1].endswith(" s")


def test_few_frames_and_counting_with_update():
    out = io.StringIO()
    with progress(total=3, desc="estimate poses", stream=out) as bar:
        for _ in range(3):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert [line.split(" in ")[0] for line in lines] == ["estimate poses: 1/3 frames (33%)",
                                                          "estimate poses: 2/3 frames (66%)",
                                                          "estimate poses: 3/3 frames (100%)"]


def test_a_run_stopped_early_says_where_it_stopped():
    out = io.StringIO()
    bar = progress(total=100, desc="prelabel", stream=out)
    bar.update(5)
    bar.close()
    assert out.getvalue() == "prelabel: 5/100 frames (5%)\n"


def test_disabled_writes_nothing_and_a_terminal_gets_tqdm():
    out = io.StringIO()
    assert list(progress([1, 2], desc="x", enabled=False, stream=out)) == [1, 2] and out.getvalue() == ""
    tty = _Terminal()
    bar = progress([1, 2], desc="x", stream=tty)
    assert not isinstance(bar, LineProgress)
    list(bar)
    assert "\r" in tty.getvalue()


def test_cli_progress_in_a_log_file_is_plain_lines(small_sim_drive, tmp_path):
    """stderr into a file: the export's progress is a few whole lines, the last one once."""
    log = tmp_path / "err.log"
    with open(log, "w") as err:
        done = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "export", str(small_sim_drive.root),
                               "--format", "kitti", "--labels-only", "--out", str(tmp_path / "out")],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True, timeout=300)
    assert done.returncode == 0
    text = log.read_text()
    assert "\r" not in text
    lines = [line for line in text.splitlines() if line.startswith("export kitti:")]
    assert [line.split(" in ")[0] for line in lines] == ["export kitti: 1/3 frames (33%)",
                                                          "export kitti: 2/3 frames (66%)",
                                                          "export kitti: 3/3 frames (100%)"]
