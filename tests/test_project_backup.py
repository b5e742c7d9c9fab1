"""A project's database is copied when the project opens for writing (at most every 12 hours,
the newest 3 kept, never a damaged one), and a damaged database is refused naming the copy and
`fusionlabel project restore`, which puts it back with the work it held."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from conftest import held_by_another_process
from fusionlabel.cli.main import main
from fusionlabel.errors import FusionLabelError
from fusionlabel.store import backup
from fusionlabel.store.project import DB_NAME, Project

HOUR = 3600.0


@pytest.fixture
def project(tmp_path, small_sim_drive) -> Path:
    """A project holding the drive's labels, opened once (so it has one copy) and closed."""
    folder = tmp_path / "project"
    Project.create(folder, small_sim_drive.root, import_labels=True, progress=False).close()
    Project.open(folder).close()
    return folder


def count_labels(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*) FROM annotations").fetchone()[0]
    finally:
        con.close()


def damage_a_page(db: Path) -> None:
    """Overwrite every page but the first with noise: the file still opens (its header is whole),
    but SQLite's check finds it damaged."""
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    noise = bytes((k * 37 + 11) % 256 for k in range(page))
    for start in range(page, len(data) - page + 1, page):
        data[start:start + page] = noise
    db.write_bytes(bytes(data))


def test_opening_for_writing_copies_the_database_at_most_every_12_hours(project):
    (first,) = backup.backups(project)
    assert count_labels(first) == count_labels(project / DB_NAME) > 0
    Project.open(project).close()                         # an hour later or less: no new copy
    assert backup.backups(project) == [first]
    Project.open(project, read_only=True).close()
    assert backup.backups(project) == [first]
    con = sqlite3.connect(project / DB_NAME)
    try:
        now = time.time()
        made = [backup.back_up(con, project, now=now + k * 13 * HOUR) for k in (1, 2, 3)]
        assert None not in made and backup.back_up(con, project, now=now + 3 * 13 * HOUR + HOUR) is None
    finally:
        con.close()
    assert backup.backups(project) == made[::-1]          # the newest 3; the first one went


def test_a_damaged_database_is_never_copied(project):
    db = project / DB_NAME
    damage_a_page(db)
    con = sqlite3.connect(db)
    try:
        assert not backup.sound(con)
        assert backup.back_up(con, project, now=time.time() + 13 * HOUR) is None
    finally:
        con.close()
    assert len(backup.backups(project)) == 1


def test_a_cut_database_is_refused_naming_the_copy_and_restore_brings_the_work_back(project, capsys):
    db = project / DB_NAME
    labels = count_labels(db)
    db.write_bytes(db.read_bytes()[:5000])
    with pytest.raises(FusionLabelError) as e:
        Project.open(project)
    assert str(backup.backups(project)[0]) in str(e.value) and "fusionlabel project restore" in str(e.value)
    with held_by_another_process(project):                # another process has it open: refused, nothing moved
        assert main(["project", "restore", str(project)]) == 2
        assert "another fusionlabel process has this project open" in capsys.readouterr().err
    assert main(["project", "restore", str(project)]) == 0
    out = capsys.readouterr().out
    (kept,) = project.glob(f"{DB_NAME}.broken-*")
    assert str(kept) in out and kept.stat().st_size == 5000
    with Project.open(project) as p:
        assert len(p.document.all_annotations()) == labels


def test_restore_without_a_sound_copy_changes_nothing(project, capsys):
    for copy in backup.backups(project):
        damage_a_page(copy)
    before = (project / DB_NAME).read_bytes()
    assert main(["project", "restore", str(project)]) == 2
    assert "no sound copy" in capsys.readouterr().err
    assert (project / DB_NAME).read_bytes() == before


def test_a_replaced_project_takes_its_copies_with_it(project, small_sim_drive):
    from fusionlabel.model.edit_actions import set_frame_status

    with Project.open(project) as p:                      # work, so the old project is kept aside
        p.document.apply(set_frame_status(p.document, 0, "done"))
    assert main(["project", "create", str(small_sim_drive.root), "--out", str(project), "--force", "--quiet"]) == 0
    (aside,) = project.parent.glob("project.replaced-*")
    assert len(backup.backups(aside)) == 1 and backup.backups(project) == []
