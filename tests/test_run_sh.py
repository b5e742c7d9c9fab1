"""``./run.sh app ARGS`` without a display runs the app on Xvfb, as a bare ``./run.sh app`` does; and
``fusionlabel open``'s own no-display error says what gives the full view."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_no_display_error_names_the_ways_to_the_full_view(monkeypatch):
    from fusionlabel.app.main import check_display
    from fusionlabel.errors import FusionLabelError

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("the check is for Linux")
    with pytest.raises(FusionLabelError) as e:
        check_display()
    text = str(e.value)
    assert "xvfb-run" in text and "./run.sh app open" in text
    assert "QT_QPA_PLATFORM=offscreen" in text and "3D view blank" in text


def test_run_sh_app_open_with_arguments_starts_xvfb(tmp_path, small_sim_drive):
    venv = Path(sys.executable).parents[1]
    if not (venv / "bin" / "fusionlabel").exists() or not (venv / ".fusionlabel-installed").is_file():
        pytest.skip("needs the set-up .venv that run.sh uses")
    if shutil.which("Xvfb") is None:
        pytest.skip("needs Xvfb")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(FUSIONLABEL_VENV=str(venv), PYTHONPATH=str(REPO))
    shot = tmp_path / "shot.png"
    out = subprocess.run([str(REPO / "run.sh"), "app", "open", str(small_sim_drive.root), "--project",
                          str(tmp_path / "proj"), "--screenshot", str(shot)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "no display" not in out.stderr.replace("no display: running on a virtual screen", "")
    assert "virtual screen" in out.stderr
    assert shot.is_file() and shot.stat().st_size > 10_000


FAKE_XVFB = """#!/bin/sh
# Xvfb on a machine where every display number given to it is another server's already:
# only a server that picks its own number (-displayfd FD) starts, on display 4242.
fd=""
prev=""
for a in "$@"; do
    [ "$prev" = "-displayfd" ] && fd=$a
    prev=$a
done
if [ -z "$fd" ]; then echo "Server is already active for display" >&2; exit 1; fi
eval "echo 4242 >&$fd"
exec sleep 120
"""


def test_run_sh_test_never_takes_another_servers_display(tmp_path):
    """``./run.sh test`` without a display starts its own Xvfb on a display number Xvfb found free
    (another job's server on a number picked at random took the keyboard focus from the GL
    tests' windows), and the tests see that display."""
    venv = Path(sys.executable).parents[1]
    if not (venv / "bin" / "fusionlabel").exists() or not (venv / ".fusionlabel-installed").is_file():
        pytest.skip("needs the set-up .venv that run.sh uses")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "Xvfb").write_text(FAKE_XVFB)
    (bin_dir / "Xvfb").chmod(0o755)
    seen = tmp_path / "display.txt"
    (tmp_path / "test_display.py").write_text(
        f"import os\n\ndef test_display():\n    open({str(seen)!r}, 'w').write(os.environ.get('DISPLAY', ''))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(FUSIONLABEL_VENV=str(venv), PYTHONPATH=str(REPO), PATH=f"{bin_dir}:{env['PATH']}")
    out = subprocess.run([str(REPO / "run.sh"), "test", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                          str(tmp_path / "test_display.py")], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert seen.read_text() == ":4242"


def test_run_sh_test_stops_when_its_xvfb_does_not_start(tmp_path):
    """An Xvfb that cannot start stops ``./run.sh test`` with a clear line and a failing exit
    status: the OpenGL tests must not be skipped quietly for want of a screen."""
    venv = Path(sys.executable).parents[1]
    if not (venv / "bin" / "fusionlabel").exists() or not (venv / ".fusionlabel-installed").is_file():
        pytest.skip("needs the set-up .venv that run.sh uses")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "Xvfb").write_text("#!/bin/sh\necho 'no screens found' >&2\nexit 1\n")
    (bin_dir / "Xvfb").chmod(0o755)
    ran = tmp_path / "ran.txt"
    (tmp_path / "test_display.py").write_text(f"def test_display():\n    open({str(ran)!r}, 'w').write('ran')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(FUSIONLABEL_VENV=str(venv), PYTHONPATH=str(REPO), PATH=f"{bin_dir}:{env['PATH']}")
    out = subprocess.run([str(REPO / "run.sh"), "test", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                          str(tmp_path / "test_display.py")], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "Xvfb did not start" in out.stderr
    assert not ran.exists()
