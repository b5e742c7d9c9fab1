"""A car or van track marked ``emergency = yes`` exports to nuScenes as ``vehicle.emergency.police``
or ``vehicle.emergency.ambulance`` (the built-in ontology's aliases, read backwards), loaded by the
nuScenes devkit; ``emergency = no`` makes an imported police car a ``vehicle.car``; a nuScenes
dataroot imported into a project and exported again keeps every category; KITTI, OpenLABEL and
COCO exports do not change."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nuscenes")

from nuscenes.nuscenes import NuScenes  # noqa: E402

from conftest import quiet  # noqa: E402
from fusionlabel.cli.main import main  # noqa: E402
from fusionlabel.export import export_drive  # noqa: E402
from fusionlabel.model.edit_actions import set_attribute  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

POLICE, AMBULANCE = "vehicle.emergency.police", "vehicle.emergency.ambulance"
CAR_TRACK, VAN_TRACK, TRUCK_TRACK = "2", "7", "33"       # a car, a van and a truck of the simulated drive


def load(root: Path) -> NuScenes:
    return NuScenes(version="v1.0-mini", dataroot=str(root), verbose=False)


def categories_by_track(nusc: NuScenes, drive) -> dict[str, set[str]]:
    """The devkit's category of every box, by the track of the drive's label at its centre (the
    boxes in each sample's LIDAR_TOP frame, the drive's LiDAR frame)."""
    out: dict[str, set[str]] = defaultdict(set)
    token = nusc.scene[0]["first_sample_token"]
    k = 0
    while token:
        sample = nusc.get("sample", token)
        _, boxes, _ = nusc.get_sample_data(sample["data"]["LIDAR_TOP"])
        labels = drive.labels(k)
        centres = np.array([lab.box.center for lab in labels])
        for box in boxes:
            d = np.linalg.norm(centres - box.center, axis=1)
            assert d.min() < 1e-6
            out[labels[int(d.argmin())].track_id].add(box.name)
        token, k = sample["next"], k + 1
    return dict(out)


def project_of(drive_root: Path, folder: Path) -> Path:
    assert main(["project", "create", str(drive_root), "--out", str(folder), "--import-labels", "--quiet"]) == 0
    return folder


def mark(project: Path, track: str, value) -> None:
    """``emergency`` set on the whole track, as the app's attribute panel does (one command)."""
    with Project.open(project) as p:
        doc = p.document
        frame = next(i for i in range(len(p.drive)) if any(a.track_id == track for a in doc.annotations(i)))
        uid = next(a.uid for a in doc.annotations(frame) if a.track_id == track)
        doc.apply(set_attribute(doc, [uid], "emergency", value))


def export(project: Path, fmt: str, out: Path) -> Path:
    assert main(["export", str(project), "--format", fmt, "--out", str(out), "--quiet", "--labels-only"]) == 0
    return out


def test_emergency_tracks_export_as_police_and_ambulance(small_sim_drive, tmp_path):
    project = project_of(small_sim_drive.root, tmp_path / "p")
    for track in (CAR_TRACK, VAN_TRACK, TRUCK_TRACK):
        mark(project, track, True)
    found = categories_by_track(load(export(project, "nuscenes", tmp_path / "n")), small_sim_drive)
    assert found[CAR_TRACK] == {POLICE}
    assert found[VAN_TRACK] == {AMBULANCE}
    assert found[TRUCK_TRACK] == {"vehicle.truck"}          # nuScenes has no fire engine: a truck stays one
    classes = {lab.track_id: lab.label for i in range(len(small_sim_drive)) for lab in small_sim_drive.labels(i)}
    others = {t for t, c in classes.items() if c in ("car", "van") and t not in (CAR_TRACK, VAN_TRACK)}
    assert len(others) > 10 and all(found[t] == {"vehicle.car"} for t in others)   # emergency = no
    assert sum(len(v) for v in found.values()) == len(found)   # one category per track


def test_only_nuscenes_changes(small_sim_drive, tmp_path):
    """KITTI's label files, OpenLABEL's object types and COCO's categories are the same with the
    emergency marks as without them (KITTI has no emergency type; the others write the class)."""
    project = project_of(small_sim_drive.root, tmp_path / "p")

    def written(tag: str) -> dict:
        kitti = export(project, "kitti", tmp_path / f"k{tag}")
        openlabel = json.loads(_openlabel_file(export(project, "openlabel", tmp_path / f"o{tag}")).read_text())
        coco = _coco(export(project, "coco", tmp_path / f"c{tag}"))
        return {"kitti": {p.name: p.read_bytes() for p in sorted((kitti / "label_2").glob("*.txt"))},
                "openlabel": sorted((o["name"], o["type"]) for o in openlabel["openlabel"]["objects"].values()),
                "coco": coco}

    before = written("0")
    for track in (CAR_TRACK, VAN_TRACK, TRUCK_TRACK):
        mark(project, track, True)
    after = written("1")
    assert before["kitti"] and before["openlabel"] and before["coco"][0]
    assert after == before


def _openlabel_file(folder: Path) -> Path:
    [path] = [p for p in folder.glob("*.json") if p.name != "fusionlabel_export.json"]
    return path


def _coco(folder: Path) -> tuple:
    """(categories, category of every annotation) of every COCO file of the export."""
    cats, anns = [], []
    for path in sorted(p for p in folder.rglob("*.json") if p.name != "fusionlabel_export.json"):
        doc = json.loads(path.read_text())
        cats.append(sorted((c["id"], c["name"]) for c in doc["categories"]))
        anns.append([a["category_id"] for a in doc["annotations"]])
    return cats, anns


@pytest.fixture
def emergency_dataroot(small_sim_drive, tmp_path) -> Path:
    """A nuScenes dataroot of the simulated drive whose car track is a police car and van track an
    ambulance (the categories as nuScenes writes them)."""
    names = {CAR_TRACK: POLICE, VAN_TRACK: AMBULANCE}

    def labels_for(i):
        return [lab.with_(label=names.get(lab.track_id, lab.label)) for lab in small_sim_drive.labels(i)]

    out = tmp_path / "source"
    export_drive(small_sim_drive, "nuscenes", out, labels_for, quiet(scene_name="scene-0061", sensor_data=True))
    return out


def test_import_export_keeps_every_category(emergency_dataroot, tmp_path):
    source = load(emergency_dataroot)
    assert {POLICE, AMBULANCE, "vehicle.car"} <= {a["category_name"] for a in source.sample_annotation}
    project = project_of(emergency_dataroot, tmp_path / "p")
    again = export(project, "nuscenes", tmp_path / "again")
    for table in ("category", "instance"):      # every instance with the same token and category token
        assert (again / "v1.0-mini" / f"{table}.json").read_bytes() == \
            (emergency_dataroot / "v1.0-mini" / f"{table}.json").read_bytes(), table
    b = load(again)
    assert {a["token"]: a["category_name"] for a in b.sample_annotation} == \
        {a["token"]: a["category_name"] for a in source.sample_annotation}


def test_the_emergency_mark_wins_over_the_imported_category(emergency_dataroot, small_sim_drive, tmp_path):
    """Unmarking the imported police car makes it a vehicle.car; marking an imported vehicle.car
    makes it a police car; the imported ambulance stays one."""
    project = project_of(emergency_dataroot, tmp_path / "p")
    with Project.open(project, read_only=True) as p:
        police = next(a for a in p.document.annotations(0) if a.attributes.get("source_class") == POLICE)
        plain = next(a for a in p.document.annotations(0) if a.cls == "car" and "source_class" in a.attributes
                     and a.attributes["source_class"] == "vehicle.car")
        assert police.attributes["emergency"] is True and plain.attributes["emergency"] is False
    mark(project, police.track_id, False)
    mark(project, plain.track_id, True)
    nusc = load(export(project, "nuscenes", tmp_path / "n"))
    by_instance = {i["token"]: nusc.get("category", i["category_token"])["name"] for i in nusc.instance}
    source = load(emergency_dataroot)
    first = {a["instance_token"]: a["category_name"] for a in source.sample_annotation}
    changed = {t: (first[t], now) for t, now in by_instance.items() if first[t] != now}
    assert sorted(changed.values()) == sorted([(POLICE, "vehicle.car"), ("vehicle.car", POLICE)])
    assert AMBULANCE in by_instance.values()
