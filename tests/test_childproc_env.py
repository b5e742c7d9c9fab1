"""The environment background children (detector, label check, export) start with: this copy of
fusionlabel on their path, and the math libraries on one thread, unless the user set them."""

from __future__ import annotations

import json
import subprocess
import sys

from fusionlabel.childproc.process import child_env
from fusionlabel.childproc.threads import ONE_THREAD

SHOW = "import json, os, sys; print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))"


def _seen_by_a_child(monkeypatch, **env) -> dict:
    for name in ONE_THREAD:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = subprocess.run([sys.executable, "-c", SHOW, *ONE_THREAD], env=child_env(), capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def test_a_child_runs_its_math_libraries_on_one_thread(monkeypatch):
    assert _seen_by_a_child(monkeypatch) == {name: "1" for name in ONE_THREAD}


def test_a_thread_count_the_user_set_is_kept(monkeypatch):
    seen = _seen_by_a_child(monkeypatch, OMP_NUM_THREADS="4")
    assert seen["OMP_NUM_THREADS"] == "4" and seen["OPENBLAS_NUM_THREADS"] == "1"
