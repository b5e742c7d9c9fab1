"""`fusionlabel check` runs its math libraries on one thread unless the user set their thread
counts (its work is many small arrays, where a pool per core only spins); other commands keep
theirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fusionlabel.childproc.threads import ONE_THREAD

REPO = Path(__file__).resolve().parents[1]
# runs a command line in-process (as the `fusionlabel` script does), then says what the math
# libraries were told and, where threadpoolctl is at hand, how many threads BLAS has
SHOW = """
import json, os, sys
from fusionlabel.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
try:
    from threadpoolctl import threadpool_info
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"] or None
except ImportError:
    blas = None
print(json.dumps({"env": {k: os.environ.get(k) for k in %r}, "blas": blas}))
""" % (ONE_THREAD,)


def _run(args: list[str], **env) -> dict:
    environ = {k: v for k, v in os.environ.items() if k not in ONE_THREAD}
    environ.update(env, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", SHOW, *args], env=environ, capture_output=True, text=True,
                         timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_check_runs_on_one_thread(tmp_path):
    seen = _run(["check", str(tmp_path / "no such drive")])
    assert seen["env"] == {name: "1" for name in ONE_THREAD}
    assert seen["blas"] is None or set(seen["blas"]) == {1}   # numpy's and scipy's


def test_a_thread_count_the_user_set_is_kept(tmp_path):
    seen = _run(["check", str(tmp_path / "no such drive")], OPENBLAS_NUM_THREADS="2")
    assert seen["env"]["OPENBLAS_NUM_THREADS"] == "2" and seen["env"]["OMP_NUM_THREADS"] == "1"


def test_other_commands_keep_the_libraries_defaults(tmp_path):
    seen = _run(["render", str(tmp_path / "no such drive"), "--out", str(tmp_path / "frame.png")])
    assert seen["env"] == {name: None for name in ONE_THREAD}
