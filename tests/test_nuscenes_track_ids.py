"""nuScenes track ids: short numbers per scene ("1", "2", ...) in order of first appearance, the
instance token of each kept with the drive (and in a native copy), written again on export; 32-hex
track ids of projects made before still export as themselves."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("nuscenes")

from nuscenes.nuscenes import NuScenes  # noqa: E402

from conftest import native_copy, quiet  # noqa: E402
from fusionlabel.cli.main import main  # noqa: E402
from fusionlabel.errors import DriveError  # noqa: E402
from fusionlabel.export import export_drive  # noqa: E402
from fusionlabel.io.native import open_native_drive  # noqa: E402
from fusionlabel.io.nuscenes import open_nuscenes  # noqa: E402
from fusionlabel.model.commands import Batch, CreateCuboid  # noqa: E402
from fusionlabel.model.source_class import project_label  # noqa: E402
from fusionlabel.store.label_import import import_description  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

HEX32 = re.compile(r"[0-9a-f]{32}")


def load(root) -> NuScenes:
    return NuScenes(version="v1.0-mini", dataroot=str(root), verbose=False)


def instances_by_sample(nusc: NuScenes) -> list[set[str]]:
    """The instance tokens annotated in each sample of the (one) scene, in time order (devkit's view)."""
    out, token = [], nusc.scene[0]["first_sample_token"]
    while token:
        sample = nusc.get("sample", token)
        out.append({nusc.get("sample_annotation", a)["instance_token"] for a in sample["anns"]})
        token = sample["next"]
    return out


def instance_of(nusc: NuScenes, label) -> str:
    return nusc.get("sample_annotation", label.attributes["nuscenes_token"])["instance_token"]


@pytest.fixture(scope="module")
def sim_dataroot(tmp_path_factory):
    """A nuScenes dataroot of three keyframes written from a simulated drive: one track (19) first
    appears in the last keyframe. (Seed 4: in seed 1's three frames every track is labelled from the
    first, as the simulator labels every agent whose footprint is within the LiDAR's range.)"""
    from conftest import simulated_drive

    sim = simulated_drive(tmp_path_factory, name="sim3-seed4", seed=4)
    first_seen = [{lab.track_id for lab in sim.labels(i)} for i in range(3)]
    assert "19" not in first_seen[0] | first_seen[1] and "19" in first_seen[2]
    out = tmp_path_factory.mktemp("nusc") / "sim"
    export_drive(sim, "nuscenes", out, options=quiet(scene_name="scene-0061"))
    return out


# ------------------------------------------------------------------------------------ reading
def test_real_keyframe_ids_are_short_numbers_in_token_order(nusc_root):
    drive = open_nuscenes(nusc_root)
    nusc = drive.nusc
    (first,) = instances_by_sample(nusc)      # one keyframe: every instance appears first there
    expected = {token: str(n) for n, token in enumerate(sorted(first), start=1)}
    labels = drive.labels(0)
    assert sorted(lab.track_id for lab in labels) == sorted(str(n) for n in range(1, 70))
    for lab in labels:
        assert lab.track_id == expected[instance_of(nusc, lab)]
    assert drive.instance_tokens == {track: token for token, track in expected.items()}


def test_synthetic_scene_ids_follow_first_appearance(sim_dataroot):
    drive = open_nuscenes(sim_dataroot)
    nusc = drive.nusc
    seen, expected = set(), {}
    for tokens in instances_by_sample(nusc):
        for token in sorted(tokens - seen):
            expected[token] = str(len(expected) + 1)
        seen |= tokens
    assert len(expected) == 51
    late = next(iter(instances_by_sample(nusc)[2] - instances_by_sample(nusc)[0]))
    assert expected[late] == "51"                         # first seen in the last keyframe: numbered last
    for i in range(len(drive)):
        for lab in drive.labels(i):
            assert lab.track_id == expected[instance_of(nusc, lab)]
    assert drive.instance_tokens == {track: token for token, track in expected.items()}


# ------------------------------------------------------------------------------------ export
def test_export_writes_the_source_instance_tokens(nusc_root, tmp_path):
    drive = open_nuscenes(nusc_root)
    export_drive(drive, "nuscenes", tmp_path / "out", options=quiet())
    a, b = load(nusc_root), load(tmp_path / "out")
    assert len(b.instance) == 69
    for ann in a.sample_annotation:
        assert b.get("sample_annotation", ann["token"])["instance_token"] == ann["instance_token"]


def test_project_export_keeps_instances_and_mints_drawn_tracks(nusc_root, tmp_path):
    """Imported tracks keep their instance token; a track drawn in the project with the next id, and a
    track drawn with an id of the source's (a project made without its labels), get new tokens."""
    with Project.create(tmp_path / "proj", nusc_root, import_labels=True, progress=False) as p:
        doc = p.document
        source = doc.annotations(0)[0]
        drawn = source.label.with_(box=source.box.with_(center=(40.0, -30.0, 0.0)), source="human", attributes={})
        new_id = doc.new_track_id()
        assert new_id == "70"
        doc.apply(CreateCuboid(0, drawn.with_(track_id=new_id)))
    with Project.create(tmp_path / "empty", nusc_root, progress=False) as p:
        p.document.apply(CreateCuboid(0, drawn.with_(track_id="1")))
    for name in ("proj", "empty"):
        assert main(["export", str(tmp_path / name), "--format", "nuscenes", "--out", str(tmp_path / f"{name}_out"),
                     "--quiet"]) == 0
    a, b = load(nusc_root), load(tmp_path / "proj_out")
    source_instances = {i["token"] for i in a.instance}
    for ann in a.sample_annotation:
        assert b.get("sample_annotation", ann["token"])["instance_token"] == ann["instance_token"]
    assert len(b.instance) == 70
    minted = {i["token"] for i in b.instance} - source_instances
    assert len(minted) == 1 and HEX32.fullmatch(minted.pop())
    (only,) = load(tmp_path / "empty_out").instance
    assert only["token"] not in source_instances


def test_hex_track_ids_of_older_projects_export_as_themselves(nusc_root, tmp_path):
    """A project made before short ids holds the instance tokens as track ids: they are written as
    the instance tokens, and a short id whose source token a hex track holds gets a new one."""
    drive = open_nuscenes(nusc_root)
    nusc = drive.nusc
    labels = drive.labels(0)
    by_id = {lab.track_id: lab for lab in labels}
    with Project.create(tmp_path / "old", nusc_root, progress=False) as p:
        for lab in labels:     # as the import of an older version made them
            if lab.track_id != "2":
                p.document.apply(CreateCuboid(0, project_label(p.ontology, lab.with_(track_id=instance_of(nusc, lab)))))
        # track "1" now: a box of instance 2 split off into a track with the next free id
        p.document.apply(CreateCuboid(0, project_label(p.ontology, by_id["2"].with_(track_id="1"))))
    assert main(["export", str(tmp_path / "old"), "--format", "nuscenes", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    a, b = load(nusc_root), load(tmp_path / "o")
    assert len(b.instance) == 69
    for ann in a.sample_annotation:
        written = b.get("sample_annotation", ann["token"])["instance_token"]
        if ann["instance_token"] == drive.instance_tokens["2"]:
            assert written not in {i["token"] for i in a.instance}      # not instance 1's, held by its hex track
        else:
            assert written == ann["instance_token"]


def test_older_project_imports_later_frames_into_its_token_named_tracks(sim_dataroot, tmp_path):
    """A project made before short ids, with the labels of the first keyframe imported under their
    instance tokens: importing the other keyframes continues those tracks (one object, one track),
    and the export writes the source's instance of every box."""
    drive = open_nuscenes(sim_dataroot)
    nusc = drive.nusc
    with Project.create(tmp_path / "old", sim_dataroot, progress=False) as p:
        first = [project_label(p.ontology, lab.with_(track_id=instance_of(nusc, lab))) for lab in drive.labels(0)]
        p.document.apply(Batch(tuple(CreateCuboid(0, lab) for lab in first), import_description(len(first))))
        report = p.import_drive_labels()
        assert report.already == len(first) and report.created == sum(len(drive.labels(i)) for i in (1, 2))
        for a in p.document.all_annotations():
            expected = instance_of(nusc, a.label)
            assert a.label.track_id in (expected, *(t for t, tok in drive.instance_tokens.items() if tok == expected))
        assert len(p.document.track_ids()) == len(drive.instance_tokens)
    assert main(["export", str(tmp_path / "old"), "--format", "nuscenes", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    a, b = load(sim_dataroot), load(tmp_path / "o")
    for ann in a.sample_annotation:
        assert b.get("sample_annotation", ann["token"])["instance_token"] == ann["instance_token"]


# ------------------------------------------------------------------------------------ native copy
def test_native_import_keeps_the_instance_of_each_track(nusc_root, tmp_path):
    source = open_nuscenes(nusc_root)
    assert main(["import", str(nusc_root), "--out", str(tmp_path / "native"), "--quiet"]) == 0
    native = open_native_drive(tmp_path / "native")
    assert native.instance_tokens == source.instance_tokens
    assert sorted(lab.track_id for lab in native.labels(0)) == sorted(lab.track_id for lab in source.labels(0))
    assert "instances:" in (tmp_path / "native" / "drive.yaml").read_text()
    export_drive(native, "nuscenes", tmp_path / "out", options=quiet())
    a, b = load(nusc_root), load(tmp_path / "out")
    for ann in a.sample_annotation:
        assert b.get("sample_annotation", ann["token"])["instance_token"] == ann["instance_token"]


def test_native_import_of_synthetic_scene_keeps_instances(sim_dataroot, tmp_path):
    assert main(["import", str(sim_dataroot), "--out", str(tmp_path / "native"), "--quiet"]) == 0
    native = open_native_drive(tmp_path / "native")
    assert native.instance_tokens == open_nuscenes(sim_dataroot).instance_tokens
    export_drive(native, "nuscenes", tmp_path / "out", options=quiet())
    a, b = load(sim_dataroot), load(tmp_path / "out")
    assert {i["token"] for i in a.instance} == {i["token"] for i in b.instance}
    for ann in a.sample_annotation:
        assert b.get("sample_annotation", ann["token"])["instance_token"] == ann["instance_token"]


def test_native_instances_are_checked_and_optional(small_sim_drive, tmp_path):
    assert getattr(native_copy(small_sim_drive, tmp_path / "d"), "instance_tokens", None) is None   # no records
    index = tmp_path / "d" / "drive.yaml"
    text = index.read_text()
    records = "nuscenes:\n  scene: {token: s, name: x}\n  log: {token: l}\n"
    index.write_text(text.replace("frames:\n", records + "frames:\n", 1))   # an import made before instances
    assert open_native_drive(tmp_path / "d").instance_tokens == {}
    index.write_text(text.replace("frames:\n", records + "  instances: {'1': aa, '2': bb}\nframes:\n", 1))
    assert open_native_drive(tmp_path / "d").instance_tokens == {"1": "aa", "2": "bb"}
    index.write_text(text.replace("frames:\n", records + "  instances: {1: aa}\nframes:\n", 1))
    with pytest.raises(DriveError, match=r"nuscenes\.instances\.1: track ids are strings; quote it"):
        open_native_drive(tmp_path / "d")
    index.write_text(text.replace("frames:\n", records + "  instances: {'1': aa, '2': aa}\nframes:\n", 1))
    with pytest.raises(DriveError, match=r"nuscenes\.instances\.2: instance token aa is also track 1's"):
        open_native_drive(tmp_path / "d")
