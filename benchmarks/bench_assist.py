"""Pre-labelling figures: speed on one core, detector quality per data set, tracking and
interpolation on real KITTI tracks, propagation, one-click quality. Prints markdown tables (docs/prelabel.md).

    .venv/bin/python benchmarks/bench_assist.py [--only speed,detector,tracked,tracking,propagation,noposes,chained,oneclick]
        [--realdata DIR] [--sim-seeds 1,2,3] [--score 0.5] [--frames 21] [--cluster-check]

``chained`` carries every simulated track along ``--frames`` frames of each seed (V, D, V, D …)
and reports errors and warnings with and without the side check (propagate.pinning);
``--cluster-check`` propagates with the check against the object's cluster (tried, not shipped).
``noposes`` runs V on drives without ego poses (SUSTech; simulated drives with their poses removed,
10 Hz and every 5th frame) from the ego motion estimated between the sweeps and, as before, from
the LiDAR frame.

Real data comes from FUSIONLABEL_REALDATA (default ../shared/realdata); missing sets are skipped.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fusionlabel.assist.builtin import GeometricDetector  # noqa: E402
from fusionlabel.qa import datasets as D  # noqa: E402
from fusionlabel.qa.classes import canonical  # noqa: E402
from fusionlabel.qa.detection import EvalSettings, evaluate  # noqa: E402


def one_core() -> str:
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        return "pinned to one core"
    except (AttributeError, OSError):
        return "not pinned"


def timed(fn, repeat: int) -> np.ndarray:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return np.array(out) * 1000.0


# ------------------------------------------------------------------------------------------ speed
def bench_speed(realdata: Path) -> None:
    from fusionlabel.assist.fit import auto_fit, one_click_box
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    print(f"## Speed ({one_core()}, median of repeated runs)\n")
    print("| what | input | median ms | max ms |\n|---|---|---|---|")
    det = GeometricDetector()
    sweeps = []
    kitti = realdata / "kitti_object" / "training"
    if (kitti / "velodyne" / "000001.bin").is_file():
        from fusionlabel.io.pointcloud import read_points

        sweeps.append(("KITTI 000001", read_points(kitti / "velodyne" / "000001.bin"), kitti))
    sus = realdata / "sustech_sequence" / "lidar" / "000970.pcd"
    if sus.is_file():
        from fusionlabel.io.pointcloud import read_points

        sweeps.append(("SUSTech 000970", read_points(sus), None))
    sim = Simulator(build_scenario(1, 2), points=120_000, cameras=False).frame(0)
    sweeps.append(("simulated", sim.points, None))
    for name, pts, _ in sweeps:
        det.detect(pts)
        t = timed(lambda: det.detect(pts), 15)
        print(f"| builtin detector | {name}, {len(pts):,} points | {np.median(t):.0f} | {t.max():.0f} |")
    # one-click and auto-fit on every labelled object within 50 m
    cases = [("simulated", sim.points, sim.labels)]
    if (kitti / "velodyne").is_dir():
        from fusionlabel.io.kitti import open_kitti_object

        drive = open_kitti_object(kitti)
        cases.append(("KITTI, 4 frames", None, [(drive.points(i), lb) for i in range(len(drive))
                                                 for lb in drive.labels(i)]))
    for name, pts, labels in cases:
        pairs = [(pts, lb) if pts is not None else lb for lb in labels]
        pairs = [(p, lb) for p, lb in pairs if np.hypot(*lb.box.center[:2]) < 50]
        one_click_box(pairs[0][0], pairs[0][1].box.center)
        t1 = np.concatenate([timed(lambda: one_click_box(p, lb.box.center), 3) for p, lb in pairs])
        rough = [(p, lb.box.with_(center=np.add(lb.box.center, [0.3, 0.2, 0.2]), size=np.multiply(lb.box.size, 1.2)))
                 for p, lb in pairs]
        t2 = np.concatenate([timed(lambda: auto_fit(p, r, keep_yaw=False), 3) for p, r in rough])
        print(f"| one-click box | {name}, {len(pairs)} objects | {np.median(t1):.1f} | {t1.max():.1f} |")
        print(f"| auto-fit (re-estimate yaw) | {name}, {len(pairs)} objects | {np.median(t2):.1f} | {t2.max():.1f} |")
    bench_merge()
    print()


def bench_merge() -> None:
    """Storing one frame's new pre-labels (:func:`merge_prelabels`): the boxes of a model without
    suppression, many overlapping, three classes."""
    from fusionlabel.assist.prelabel import merge_prelabels
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel

    rng = np.random.default_rng(0)
    for n in (500, 2000):
        xy, yaw = rng.uniform(-50, 50, (n, 2)), rng.uniform(-np.pi, np.pi, n)
        labs = [CuboidLabel(Cuboid((x, y, -1.0), (4.2, 1.8, 1.5), yaw=float(a)), ("Car", "Pedestrian", "Cyclist")[k % 3],
                            None, float(1 - k / n), "model") for k, ((x, y), a) in enumerate(zip(xy, yaw))]
        t = timed(lambda: merge_prelabels([], [], labs), 3)
        print(f"| storing new pre-labels (merge) | {n:,} overlapping boxes in one frame | {np.median(t):.0f} | {t.max():.0f} |")


# ------------------------------------------------------------------------------------------ detector
def detector_sets(realdata: Path, sim_seeds: list[int]):
    """(name, loader, real?) for every evaluation set found. SUSTech counts a tracked object missing
    from one frame as don't-care; its "reviewed" variant also ignores the unlabelled cars found by
    looking at the false positives (qa.datasets.SUSTECH_EXAMPLE_UNLABELLED)."""
    kitti = realdata / "kitti_object" / "training"
    if (kitti / "velodyne").is_dir():
        yield "KITTI object (4 frames)", lambda: D.kitti_object_frames(kitti), True
    nus = realdata / "nuscenes_mini"
    if (nus / "v1.0-mini").is_dir():
        yield "nuScenes keyframe", lambda: D.nuscenes_frames(nus), True
    sus = realdata / "sustech_sequence"
    if (sus / "lidar").is_dir():
        yield "SUSTech sequence (4 frames)", lambda: D.sustech_frames(sus), True
        yield "SUSTech, reviewed", lambda: D.sustech_frames(sus, reviewed=True), None
    yield (f"simulated ({len(sim_seeds)} drives x 3 frames)",
           lambda: (x for s in sim_seeds for x in D.simulated_frames(s, 30, every=10)), False)


def riderless_as_cyclists(frames):
    """The evaluation as it was before riderless two-wheelers (SUSTech's Motor) became their own,
    non-target class (qa.classes): they count as cyclists again."""
    for points, f in frames:
        f.gt = [g.with_(label="Rider") if canonical(g.label) == "two_wheeler" else g for g in f.gt]
        yield points, f


def _f(v) -> str:
    return "–" if v != v else f"{v:.2f}"


# Per-rig settings for the simulator (see docs/prelabel.md): its pedestrian boxes are drawn tight
# (0.44 m along the heading x 0.63 m across), smaller than KITTI's or nuScenes' (about 0.8 x 0.65).
SIM_RIG = {"priors": {"Pedestrian": {"mean": [0.63, 0.44, 1.75], "min": [0.2, 0.2, 1.2], "max": [1.1, 1.0, 2.0]}}}


# Per-class acceptance, the second edit-cost reading: KITTI's and Waymo's benchmarks call a pedestrian or
# cyclist box correct at IoU 0.5 (vehicles 0.7); see docs/prelabel.md "Edit cost".
PER_CLASS_ACCEPT = {"pedestrian": 0.5, "cyclist": 0.5}


def bench_detector(realdata: Path, sim_seeds: list[int], score: float) -> None:
    from fusionlabel.assist.config import config_from_dict

    print(f"## Built-in detector quality (objects within 40 m with >= 20 points; pre-labels = score >= {score})\n")
    rows, edits = [], []
    sets = [(name, load) for name, load, _ in detector_sets(realdata, sim_seeds)]
    strict = [load for name, load, real in detector_sets(realdata, sim_seeds) if real]
    reviewed = [load for name, load, real in detector_sets(realdata, sim_seeds)
                if real is None or (real and not name.startswith("SUSTech"))]
    sets.append((sets[-1][0] + ", per-rig settings", sets[-1][1]))
    at = next(i for i, (name, _) in enumerate(sets) if name.startswith("simulated"))
    if len(strict) > 1:
        sets[at:at] = [("**all real data**", lambda: (x for load in strict for x in load())),
                       ("**all real data, SUSTech reviewed**", lambda: (x for load in reviewed for x in load())),
                       ("all real data, riderless two-wheelers as cyclists",
                        lambda: riderless_as_cyclists(x for load in strict for x in load()))]
    real_frames, by_class = [], {}
    for name, load in sets:
        det = GeometricDetector(config_from_dict(SIM_RIG) if "per-rig" in name else None)
        frames = []
        for pts, f in load():
            f.pred = det.detect(pts, f.forward)
            frames.append(f)
        if name == "**all real data, SUSTech reviewed**":
            real_frames = frames
        r = evaluate(frames, EvalSettings(score_threshold=score))
        if name == "**all real data**":
            by_class = r["edit_cost"]["by_class"]
        for c, m in r["classes"].items():
            if m["gt"] == 0 and m["predictions"] == 0:
                continue
            rows.append(f"| {name} | {c} | {m['gt']} | {_f(m['recall'])} | {_f(m['precision'])} | {_f(m['ap'])} | "
                        f"{_f(m['mean_bev_iou'])} | {m['iou_threshold']:.2f} |")
        e = r["edit_cost"]
        k = evaluate(frames, EvalSettings(score_threshold=score, accept_iou_by_class=PER_CLASS_ACCEPT))["edit_cost"]
        blind = evaluate(frames, EvalSettings(score_threshold=score, accept_heading_deg=180.0))["edit_cost"]
        edits.append(f"| {name} | {e['gt']} | {e['creates']} | {e['deletes']} | {e['adjustments']} | {e['relabels']} | "
                     f"{e['turns']} | {e['accepted']} | {_f(e['ratio'])} | {_f(e['weighted_ratio'])} | "
                     f"{_f(blind['weighted_ratio'])} | {k['adjustments']} | {k['turns']} | {_f(k['weighted_ratio'])} |")
    print("| data set | class | GT | recall | precision | AP (R40) | mean BEV IoU | IoU for TP |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\nEdit cost (car, truck, pedestrian, cyclist; a pre-label with BEV IoU >= 0.7 and the right class is "
          "accepted when its heading is within 30 deg and its height range overlaps; weighted: create 1, adjust 0.5, "
          "delete 0.2, relabel 0.2, turn (F, facing backwards) 0.2; per-class acceptance: pedestrians and "
          "cyclists accepted at 0.5, KITTI's and Waymo's IoU for a correct box of those classes):\n")
    print("| data set | GT objects | creates | deletes | adjustments | relabels | turns | accepted | actions / GT "
          "| weighted | weighted, headings ignored | adjustments, per-class acceptance | turns, per-class acceptance "
          "| weighted, per-class acceptance |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(edits))
    if by_class:
        print("\nEdit cost by class, all real data (creates, adjustments, accepted by the labelled class; deletes by "
              "the pre-label's class; weighted as above):\n")
        print("| class | GT | creates | adjustments | relabels | turns | deletes | accepted | weighted | share |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for c, b in by_class.items():
            print(f"| {c} | {b['gt']} | {b['creates']} | {b['adjustments']} | {b['relabels']} | {b['turns']} | {b['deletes']} | "
                  f"{b['accepted']} | {b['weighted']:.1f} | {_f(b['share'])} |")
    if real_frames:
        print("\nScore threshold on all real data (SUSTech reviewed): recall / precision per class, weighted "
              "edit cost\n")
        print("| threshold | car | pedestrian | cyclist | edit cost |\n|---|---|---|---|---|")
        for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            r = evaluate(real_frames, EvalSettings(score_threshold=t))
            c = r["classes"]
            cells = " | ".join(f"{_f(c[k]['recall'])} / {_f(c[k]['precision'])}"
                               for k in ("car", "pedestrian", "cyclist"))
            print(f"| {t:.1f} | {cells} | {_f(r['edit_cost']['weighted_ratio'])} |")
    print()


def tracked_simulated_frames(seed: int, n_frames: int = 30, every: int = 10, min_score: float = 0.5,
                             holes: list | None = None):
    """The built-in detector on every frame of a simulated drive, tracked in the world frame
    (ego poses, 10 Hz) as ``prelabel --track`` does (detections under ``min_score`` dropped first,
    the rest linked to tracks), as EvalFrames of every ``every``-th frame: those the per-frame rows use.
    ``holes`` gets the number of frames inside a track's first and last frame without its box."""
    from fusionlabel.assist.heading import face_motion
    from fusionlabel.assist.prelabel import link_to_tracks, merge_prelabels
    from fusionlabel.assist.tracker import track_sequence
    from fusionlabel.qa.detection import EvalFrame
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    sim = Simulator(build_scenario(seed, n_frames), points=120_000, cameras=False)
    det = GeometricDetector()
    frames = [sim.frame(i) for i in range(n_frames)]
    dets = [[d for d in det.detect(f.points) if d.score >= min_score] for f in frames]
    # the pre-labels a tracked run stores (prelabel --track, the app): detections linked to the
    # tracks, of two overlapping boxes the stronger one (merge_prelabels on an empty frame)
    poses = [sim.T_world_lidar(i) for i in range(n_frames)]
    linked = face_motion(link_to_tracks(dets, track_sequence(dets, poses)), poses)
    tracked = [merge_prelabels([], [], f).add for f in linked]
    if holes is not None:
        spans: dict = {}
        for i, labels in enumerate(tracked):
            for lab in labels:
                if lab.track_id is not None:
                    spans.setdefault(lab.track_id, set()).add(i)
        holes.append(sum(max(s) - min(s) + 1 - len(s) for s in spans.values()))
    for i in range(0, n_frames, every):
        f = frames[i]
        counts = np.array([lab.attributes.get("num_lidar_points", 0) for lab in f.labels], np.int64)
        yield EvalFrame(f"sim{seed}-{f.frame_id}", f.labels, tracked[i], counts, None)


def bench_tracked_prelabels(sim_seeds: list[int], score: float) -> None:
    print(f"## Tracked pre-labels: simulated drives, every frame detected and tracked (score >= {score})\n")
    print("| data set | car | pedestrian | cyclist | edit cost (weighted) | holes in tracks* |\n|---|---|---|---|---|---|")
    holes: list[int] = []
    frames = [f for s in sim_seeds for f in tracked_simulated_frames(s, min_score=score, holes=holes)]
    r = evaluate(frames, EvalSettings(score_threshold=score))
    c = r["classes"]
    cells = " | ".join(f"{_f(c[k]['recall'])} / {_f(c[k]['precision'])}" for k in ("car", "pedestrian", "cyclist"))
    print(f"| simulated ({len(sim_seeds)} drives x 3 frames), tracked | {cells} | {_f(r['edit_cost']['weighted_ratio'])} "
          f"| {sum(holes)} |\n")
    print("*frames, over all 30 frames of the drives, inside a track's first and last frame without a box of that track.\n")


# ------------------------------------------------------------------------------------------ tracking
def bench_tracking(realdata: Path) -> None:
    from fusionlabel.assist.tracker import track_sequence
    from fusionlabel.qa.degrade import degrade
    from fusionlabel.qa.mot import clear_mot, keyframe_interpolation_errors

    root = realdata / "kitti_tracking"
    if not (root / "label_02").is_dir():
        print("(KITTI tracking labels not found: tracking skipped)\n")
        return
    seqs = sorted(p.stem for p in (root / "label_02").glob("*.txt"))
    print("## Tracker on degraded real KITTI tracking ground truth\n")
    print("Degradation per sequence (seed = sequence number): drop 10 % of boxes, centre jitter "
          "σ = 0.2 m in x and y, yaw jitter σ = 5°, 5 % false boxes. Match: BEV centre distance <= 1 m.\n")
    print("| sequence | frames | GT boxes | MOTA | ID switches | misses | false positives | MOTA untracked* |")
    print("|---|---|---|---|---|---|---|---|")
    tot = dict(gt=0, misses=0, false_positives=0, id_switches=0)
    errors, t_track, n_frames = [], 0.0, 0
    for seq in seqs:
        gt = D.kitti_tracking_sequence(root, seq)
        dets = degrade(gt, seed=int(seq))
        t0 = time.perf_counter()
        hyp = track_sequence(dets)
        t_track += time.perf_counter() - t0
        n_frames += len(gt)
        m = clear_mot(gt, hyp)
        raw = clear_mot(gt, [[d.with_(track_id=str(k)) for k, d in enumerate(f)] for f in dets])
        raw_mota = 1 - (raw["misses"] + raw["false_positives"]) / raw["gt"]
        for k in tot:
            tot[k] += m[k]
        print(f"| {seq} | {len(gt)} | {m['gt']} | {m['mota']:.3f} | {m['id_switches']} | {m['misses']} | "
              f"{m['false_positives']} | {raw_mota:.3f} |")
        errors += keyframe_interpolation_errors(gt, every=5)
    mota = 1 - (tot["misses"] + tot["false_positives"] + tot["id_switches"]) / tot["gt"]
    print(f"| **all {len(seqs)}** | {n_frames} | {tot['gt']} | **{mota:.3f}** | **{tot['id_switches']}** | "
          f"{tot['misses']} | {tot['false_positives']} | |")
    print("\n*untracked: the degraded detections scored per frame without identities (switches not counted).\n")
    print(f"Tracker speed: {1000 * t_track / n_frames:.2f} ms per frame ({n_frames} frames).\n")
    e = np.array(errors)
    print("## Interpolation of real KITTI tracks (keys every 5th frame of each track)\n")
    print(f"{len(e)} interpolated boxes: median centre error **{np.median(e):.3f} m**, "
          f"90th percentile {np.percentile(e, 90):.3f} m, max {e.max():.2f} m.\n")


# ------------------------------------------------------------------------------------------ propagation
def bench_propagation(realdata: Path, sim_seeds: list[int]) -> None:
    from fusionlabel.assist.propagate import LOOSE, propagate_box
    from fusionlabel.geometry.transforms import invert_T
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    print("## Propagation to the next frame (ICP on the object's points)\n")
    print("| data | objects | median error after | median error before (box left in place) | median ms |")
    print("|---|---|---|---|---|")
    err, before, ms = [], [], []
    for seed in sim_seeds:
        sim = Simulator(build_scenario(seed, 6), points=120_000, cameras=False)
        frames = [sim.frame(i) for i in range(5)]
        for a, b in zip(frames, frames[1:]):
            nxt = {lb.track_id: lb for lb in b.labels}
            for lb in a.labels:
                if lb.track_id not in nxt or lb.attributes["num_lidar_points"] < 50:
                    continue
                t0 = time.perf_counter()
                res = propagate_box(a.points, lb.box, b.points, a.T_world_lidar, b.T_world_lidar)
                ms.append(1000 * (time.perf_counter() - t0))
                truth = nxt[lb.track_id].box
                err.append(np.hypot(*np.subtract(res.box.center[:2], truth.center[:2])))
                pred = lb.box.transformed(invert_T(b.T_world_lidar) @ a.T_world_lidar)
                before.append(np.hypot(*np.subtract(pred.center[:2], truth.center[:2])))
    print(f"| simulated, 10 Hz, with poses | {len(err)} | {np.median(err):.3f} m | {np.median(before):.3f} m | "
          f"{np.median(ms):.1f} |")
    sus = realdata / "sustech_sequence"
    if (sus / "lidar").is_dir():
        from fusionlabel.io.pointcloud import read_points

        err, before, ms, side = [], [], [], []
        for fa, fb in (("000965", "000970"), ("000970", "000975")):
            pa, pb = read_points(sus / "lidar" / f"{fa}.pcd"), read_points(sus / "lidar" / f"{fb}.pcd")
            la = {x.track_id: x for x in D.read_sustech_labels(sus / "label" / f"{fa}.json")}
            lb = {x.track_id: x for x in D.read_sustech_labels(sus / "label" / f"{fb}.json")}
            for tid in set(la) & set(lb):
                t0 = time.perf_counter()
                res = propagate_box(pa, la[tid].box, pb, search=3.0, dt=0.5)
                ms.append(1000 * (time.perf_counter() - t0))
                err.append(np.hypot(*np.subtract(res.box.center[:2], lb[tid].box.center[:2])))
                before.append(np.hypot(*np.subtract(la[tid].box.center[:2], lb[tid].box.center[:2])))
                side.append(res.rotated and res.pinning < LOOSE)
        err, side = np.array(err), np.array(side)
        print(f"| SUSTech, 0.5 s apart, no poses, all classes | {len(err)} | {np.median(err):.3f} m "
              f"({np.mean(err < 0.5):.0%} within 0.5 m) | {np.median(before):.3f} m | {np.median(ms):.1f} |")
        print(f"\nSUSTech: seen from one side only (pinning under {LOOSE}) {side.sum()} of {len(err)}, "
              f"{(side & (err > 0.3)).sum()} of them more than 0.3 m off.")
    print()


def _poseless(drive):
    """``drive`` as recorded without ego poses (every frame's pose the identity)."""
    import copy
    import dataclasses

    out = copy.copy(drive)
    out.frames = [dataclasses.replace(f, T_world_vehicle=np.eye(4), T_world_vehicle_at_camera={}) for f in drive.frames]
    return out


def _v_steps(drive, classes: dict[str, str], min_points: int, ego_motion: bool = True):
    """(class, centre error m, warned, ms) of ``V`` (edit_assist.propagate) of every labelled object of
    ``classes`` ({drive label: class shown}) to the next frame, frame after frame, the labels of the
    frames before in place as human boxes (the track's velocity); objects with fewer than
    ``min_points`` returns in either frame are left out."""
    from fusionlabel.assist import edit_assist as ea
    from fusionlabel.geometry.cuboid import points_in_cuboid
    from fusionlabel.model.commands import CreateCuboid
    from fusionlabel.model.document import Document
    from fusionlabel.model.ontology import Ontology

    ont = Ontology.default()
    for frame in range(len(drive) - 1):
        doc = Document(len(drive), ont)
        pts_a, pts_b = drive.points(frame), drive.points(frame + 1)
        truth = {g.track_id: g.box for g in drive.labels(frame + 1)}
        todo = []
        for f in range(max(frame - 1, 0), frame + 1):
            for g in drive.labels(f):
                if g.label not in classes:
                    continue
                made = doc.apply(CreateCuboid(f, g.with_(label=ont.resolve(g.label) or "car", source="human", score=None)))
                if f == frame and g.track_id in truth and min(points_in_cuboid(pts_a, g.box).sum(),
                                                              points_in_cuboid(pts_b, truth[g.track_id]).sum()) >= min_points:
                    todo.append((made.uid, g))
        for uid, g in todo:
            warnings: list[str] = []
            t0 = time.perf_counter()
            cmd = ea.propagate(doc, drive, frame, [uid], warnings=warnings, ego_motion=ego_motion)
            ms = 1000 * (time.perf_counter() - t0)
            if cmd is None:
                continue
            doc.apply(cmd)
            out = doc.find_track(g.track_id, frame + 1).box
            yield classes[g.label], float(np.hypot(*np.subtract(out.center[:2], truth[g.track_id].center[:2]))), \
                bool(warnings), ms
            doc.undo()


def bench_poseless_propagation(realdata: Path, sim_seeds: list[int]) -> None:
    """V on drives without ego poses: the ego's motion estimated from the sweeps (shipped) against
    the start from the LiDAR frame (before), and the same drives with their poses."""
    import tempfile

    from fusionlabel.assist.ego_motion import motion_between
    from fusionlabel.io.drives import open_drive
    from fusionlabel.sim.writer import simulate_drive

    print("## V without ego poses: the ego's motion estimated from the sweeps\n")
    print("| data | start | steps | > 1 m off | > 0.3 m off | median | > 1 m off without a warning | by class: steps, > 1 m, median |")
    print("|---|---|---|---|---|---|---|---|")

    def row(name, start, steps):
        cls = np.array([s[0] for s in steps])
        err = np.array([s[1] for s in steps])
        warned = np.array([s[2] for s in steps])
        by = ", ".join(f"{c} {np.sum(cls == c)}, {np.sum(err[cls == c] > 1)}, {np.median(err[cls == c]):.3f} m"
                       for c in dict.fromkeys(sorted(cls)))
        print(f"| {name} | {start} | {len(err)} | {np.sum(err > 1)} | {np.sum(err > 0.3)} | {np.median(err):.3f} m | "
              f"{np.sum((err > 1) & ~warned)} | {by} |")
        return [s[1] for s in steps]

    sus = realdata / "sustech_sequence"
    if (sus / "lidar").is_dir():
        drive = open_drive(sus)
        classes = {"Car": "car", "Pedestrian": "pedestrian", "Rider": "cyclist"}
        row("SUSTech (1.5, 0.5, 0.5 s apart)", "LiDAR frame (before)", list(_v_steps(drive, classes, 0, False)))
        row("SUSTech (1.5, 0.5, 0.5 s apart)", "estimated ego motion", list(_v_steps(drive, classes, 0)))
        times = []
        for a in range(len(drive) - 1):
            t0 = time.perf_counter()
            motion_between(open_drive(sus), a, a + 1)
            times.append(time.perf_counter() - t0)
        print(f"\nSUSTech: estimating a pair's ego motion took {', '.join(f'{t:.1f}' for t in times)} s "
              "(not cached; the GUI runs it on a worker thread)")
    with tempfile.TemporaryDirectory() as tmp:
        for every in (1, 5):
            steps = {"poses": [], "before": [], "after": []}
            for seed in sim_seeds:
                n = 5 * every + 1
                path = simulate_drive(Path(tmp) / f"s{seed}-{n}", frames=n, seed=seed, points=120_000, cameras=False,
                                      progress=False)
                posed = open_drive(path.parent).subset(list(range(0, n, every)))
                classes = {g.label: g.label for f in range(len(posed)) for g in posed.labels(f)}
                steps["poses"] += _v_steps(posed, classes, 50)
                steps["before"] += _v_steps(_poseless(posed), classes, 50, False)
                steps["after"] += _v_steps(_poseless(posed), classes, 50)
            name = f"simulated {','.join(map(str, sim_seeds))}, {0.1 * every:.1f} s apart"
            with_poses = row(name, "drive's poses", steps["poses"])
            row(name, "poses removed, LiDAR frame (before)", steps["before"])
            after = row(name, "poses removed, estimated ego motion", steps["after"])
            same = np.array(with_poses) == np.array(after)
            print(f"| {name} | poses removed vs with poses | {len(same)} | results identical: {same.sum()}, "
                  f"differing by more than 0.05 m: {np.sum(np.abs(np.subtract(with_poses, after)) > 0.05)} | | | | |")
    print()


def _chained_steps(seed: int, n_frames: int, min_points: int = 50, cluster_check: bool = False):
    """(result, truth box, ms, whether it was chained) for every step of every track of a simulated
    drive: chained from the true box of the track's first frame with ``min_points`` returns (the
    annotator's box: trusted), the velocity guess fitted to the boxes so far as V does
    (velocity_fit.fitted_velocity, the function edit_assist.track_velocity calls), and each step
    again from the true box with the velocity fitted to the true boxes before it (all trusted).
    ``cluster_check``: propagate_box's check against the object's cluster (tried, not shipped)."""
    from fusionlabel.assist.propagate import propagate_box
    from fusionlabel.assist.velocity_fit import WINDOW_BOXES, fitted_velocity
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    sim = Simulator(build_scenario(seed, n_frames), points=120_000, cameras=False)
    frames = [sim.frame(i) for i in range(n_frames)]
    truth = [{lb.track_id: lb.box for lb in f.labels} for f in frames]
    seconds = [f.timestamp_us * 1e-6 for f in frames]
    start = {}
    for i, f in enumerate(frames):
        for lb in f.labels:
            if lb.attributes["num_lidar_points"] >= min_points:
                start.setdefault(lb.track_id, i)

    def world(i, box):
        return (frames[i].T_world_lidar @ np.append(box.center, 1.0))[:2]

    for tid, s in start.items():
        box, chain = truth[s][tid], []
        for i in range(s, n_frames - 1):
            a, b = frames[i], frames[i + 1]
            if tid not in truth[i + 1]:
                break
            chain.append((seconds[i], world(i, box), i == s))
            v = fitted_velocity(*zip(*chain[-WINDOW_BOXES:]))
            t0 = time.perf_counter()
            res = propagate_box(a.points, box, b.points, a.T_world_lidar, b.T_world_lidar, v,
                                cluster_check=cluster_check)
            yield res, truth[i + 1][tid], 1000 * (time.perf_counter() - t0), True
            box = res.box
            known = [i]                 # the true boxes in consecutive frames behind, as V takes them
            while len(known) < WINDOW_BOXES and known[0] > 0 and tid in truth[known[0] - 1]:
                known.insert(0, known[0] - 1)
            v = fitted_velocity([seconds[k] for k in known], [world(k, truth[k][tid]) for k in known],
                                [True] * len(known))
            t0 = time.perf_counter()
            res = propagate_box(a.points, truth[i][tid], b.points, a.T_world_lidar, b.T_world_lidar, v,
                                cluster_check=cluster_check)
            yield res, truth[i + 1][tid], 1000 * (time.perf_counter() - t0), False


def bench_chained_propagation(sim_seeds: list[int], n_frames: int, cluster_check: bool = False) -> None:
    """Errors and warnings of propagation along whole simulated tracks, without and with a warning
    from the side check (Propagation.pinning under LOOSE; measured, not shipped as a warning): the
    boxes are the same, the warnings differ. ``cluster_check``: with propagate_box's check against
    the object's cluster (tried, not shipped; docs/prelabel.md)."""
    import fusionlabel.assist.propagate as P
    from fusionlabel.geometry.transforms import angle_difference

    measure, snap, check_ms, snap_ms = P.pinning, P.snap_to_cluster, [], []

    def timing(fn, into):                 # a check's own time within each propagation
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            into.append(1000 * (time.perf_counter() - t0))
            return out
        return timed

    rows = {True: [], False: []}
    P.pinning, P.snap_to_cluster = timing(measure, check_ms), timing(snap, snap_ms)
    try:
        steps = [step for seed in sim_seeds for step in _chained_steps(seed, n_frames, cluster_check=cluster_check)]
    finally:
        P.pinning, P.snap_to_cluster = measure, snap
    for res, truth, ms, chained in steps:
        err = float(np.hypot(*np.subtract(res.box.center[:2], truth.center[:2])))
        turn = abs(angle_difference(res.box.yaw, truth.yaw))
        warned = res.problem() is not None
        bottom = abs((res.box.center[2] - res.box.height / 2) - (truth.center[2] - truth.height / 2))
        rows[chained].append((err, np.degrees(min(turn, np.pi - turn)), ms, warned,
                              warned or (res.rotated and res.pinning < P.LOOSE), bottom, res.ground_kept != 0))
    seeds = ",".join(map(str, sim_seeds))
    print(f"## Propagation along simulated tracks (seeds {seeds}, {n_frames} frames, 120k points"
          f"{', with the cluster check' if cluster_check else ''})\n")
    print("| steps | results | centre error median / 95th pct | heading error median / 95th pct | "
          "warned (of them > 0.3 m off) | > 0.3 m off, not warned | median ms |")
    print("|---|---|---|---|---|---|---|")
    for chained, name in ((True, "chained (V, D, V …)"), (False, "each from the true box")):
        a = np.array(rows[chained], dtype=float)
        bad = a[:, 0] > 0.3
        for col, when in ((3, "as shipped"), (4, "with a side warning")):
            w = a[:, col] > 0
            print(f"| {name}, {when} | {len(a)} | {np.median(a[:, 0]):.3f} / {np.percentile(a[:, 0], 95):.2f} m | "
                  f"{np.median(a[:, 1]):.2f} / {np.percentile(a[:, 1], 95):.1f}° | {w.sum()} ({(w & bad).sum()}) | "
                  f"{(bad & ~w).sum()} of {bad.sum()} | {np.median(a[:, 2]):.1f} |")
    for chained, name in ((True, "chained"), (False, "from the true box")):
        a = np.array(rows[chained], dtype=float)
        print(f"\nBottom more than 0.3 m off the true box's, {name}: {(a[:, 5] > 0.3).sum()} of {len(a)} (the ground "
              f"under the box in the next frame too far off its bottom, which was kept: {int(a[:, 6].sum())}).", end="")
    print()
    print(f"\nThe side check takes {np.median(check_ms):.2f} ms a result (median; 95th percentile "
          f"{np.percentile(check_ms, 95):.2f} ms); the rest of a propagation is unchanged.")
    if snap_ms:
        print(f"The check against the object's cluster takes {np.median(snap_ms):.2f} ms a result (median; "
              f"95th percentile {np.percentile(snap_ms, 95):.2f} ms).")
    print()


# ------------------------------------------------------------------------------------------ one-click
def bench_oneclick(realdata: Path, sim_seeds: list[int]) -> None:
    """Share of one-clicks right (BEV IoU >= 0.5, right class) per click kind (qa.oneclick)."""
    from fusionlabel.qa.oneclick import CLICKS, evaluate_clicks, share_right

    print("## One-click quality (objects within 30 m with 20+ returns; share right)\n")
    print("| set | objects | " + " | ".join(CLICKS) + " |\n|---|---|" + "---|" * len(CLICKS))
    sets = [(f"simulated drives {','.join(map(str, sim_seeds))}, frames 0, 10, 20",
             lambda: ((p, f.gt) for s in sim_seeds for p, f in D.simulated_frames(s, 30, every=10)))]
    kitti = realdata / "kitti_object" / "training"
    if (kitti / "velodyne").is_dir():
        sets.append(("KITTI object, 4 frames", lambda: ((p, f.gt) for p, f in D.kitti_object_frames(kitti))))
    sus = realdata / "sustech_sequence"
    if (sus / "lidar").is_dir():
        sets.append(("SUSTech sequence, 4 frames", lambda: ((p, f.gt) for p, f in D.sustech_frames(sus))))
    for name, frames in sets:
        clicks = evaluate_clicks(frames())
        shares = [share_right(clicks, kind) for kind in CLICKS]
        print(f"| {name} | {shares[0][1]} | " + " | ".join(f"{v:.2f}" for v, _ in shares) + " |")
    print()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="speed,detector,tracking,propagation,oneclick")
    ap.add_argument("--realdata", type=Path,
                    default=Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata")))
    ap.add_argument("--sim-seeds", default="1,2,3,4,5")
    ap.add_argument("--score", type=float, default=0.5, help="operating point for precision, recall and edits")
    ap.add_argument("--frames", type=int, default=21, help="frames per simulated drive for --only chained")
    ap.add_argument("--cluster-check", action="store_true",
                    help="--only chained with propagation's check against the object's cluster (tried, not shipped)")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    seeds = [int(s) for s in args.sim_seeds.split(",")]
    if "speed" in only:
        bench_speed(args.realdata)
    if "detector" in only:
        bench_detector(args.realdata, seeds, args.score)
    if "detector" in only or "tracked" in only:
        bench_tracked_prelabels(seeds, args.score)
    if "tracking" in only:
        bench_tracking(args.realdata)
    if "propagation" in only:
        bench_propagation(args.realdata, seeds[:2])
    if "noposes" in only:
        bench_poseless_propagation(args.realdata, seeds[:3])
    if "chained" in only:
        bench_chained_propagation(seeds, args.frames, args.cluster_check)
    if "oneclick" in only:
        bench_oneclick(args.realdata, seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
