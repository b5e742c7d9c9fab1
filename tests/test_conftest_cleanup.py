"""The test run keeps the app's settings in a folder of its own: that folder goes when the run ends,
so that repeated runs do not fill the temporary folder."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_settings_folder_removed_after_run(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    env.pop("FUSIONLABEL_SETTINGS_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:dash", "-p", "no:cacheprovider", "--collect-only",
         str(REPO / "tests" / "test_conftest_cleanup.py")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("fusionlabel-settings-"))
    assert left == []
