"""Model-assistance keys: one-click box, auto-fit, pre-label, accept/delete pre-labels,
interpolate a track, propagate to the next frame. Qt-free.

Each key is one call into :mod:`fusionlabel.assist.edit_assist` that builds one command, applied
through the session (one undo step). Mixed into :class:`fusionlabel.app.actions.Actions`; the
shortcut table names these methods. The detector is chosen by project settings (see docs/app.md):
``prelabel_detector`` (``builtin``, ``onnx:PATH`` or ``predictions:PATH``), ``prelabel_config``
(a YAML file of detector settings, also used by one-click and auto-fit for the builtin
detector) and ``prelabel_min_score`` (0.5); ``fusionlabel open DRIVE --detector SPEC`` sets them.
"""

from __future__ import annotations

from pathlib import Path

from ..assist import edit_assist
from ..assist.ego_motion import cached_motion, has_poses
from ..assist.prelabel import frames_text, invalid_boxes_text
from ..assist.prelabel_project import prelabel_command
from ..errors import FusionLabelError

ONE_CLICK_TOOL = "one_click"
DETECTOR_SETTING = "prelabel_detector"      # project settings that choose the pre-label detector
CONFIG_SETTING = "prelabel_config"
MIN_SCORE_SETTING = "prelabel_min_score"


def _invalid_counter(detector):
    """A function giving how many boxes ``detector`` dropped as invalid since this call (an ONNX
    model counts them in ``invalid_boxes``; other detectors drop none)."""
    before = getattr(detector, "invalid_boxes", 0)
    return lambda: getattr(detector, "invalid_boxes", 0) - before


def _take_notes(detector) -> list[str]:
    """What ``detector``'s input left out since they were last taken, in words (an ONNX model's
    voxels beyond ``max_voxels``; other detectors leave nothing out)."""
    return detector.take_notes() if hasattr(detector, "take_notes") else []


# Said after I: its boxes are pre-labels, which exports leave out until someone accepts them.
ACCEPT_TRACK_HINT = "; its boxes are pre-labels until accepted (Ctrl+Shift+Y: the whole track)"


class AssistActions:
    """Needs ``self.s`` (a Session) and ``self._hook`` / ``self._selection`` from Actions."""

    _detector = None
    _detector_key = None
    _assist_config = None
    _assist_config_key = ()

    # ------------------------------------------------------------ settings
    def _settings(self) -> tuple[str, str | None, float]:
        spec = self.s.setting(DETECTOR_SETTING, "builtin")
        config = self.s.setting(CONFIG_SETTING, None)
        min_score = self.s.setting(MIN_SCORE_SETTING, edit_assist.DEFAULT_MIN_SCORE)
        if not isinstance(min_score, (int, float)):
            min_score = edit_assist.DEFAULT_MIN_SCORE
        return str(spec), (str(config) if config else None), float(min_score)

    def detector_text(self, min_score: float | None = None) -> str:
        """The active detector as the annotator chose it, short: ``builtin``, ``onnx:model.onnx``
        (file name only), with the minimum score (the setting's, unless given) when it is not the
        default."""
        spec, _, setting = self._settings()
        min_score = setting if min_score is None else min_score
        kind, _, path = spec.partition(":")
        text = f"{kind}:{Path(path).name or path}" if path else kind
        return text if min_score == edit_assist.DEFAULT_MIN_SCORE else f"{text}, min score {min_score:g}"

    def detector(self):
        """The pre-label detector of the project settings (made once), or None after a message."""
        spec, config, _ = self._settings()
        if self._detector is None or self._detector_key != (spec, config):
            from ..assist.detector import make_detector

            try:
                self._detector = make_detector(spec, config)
            except FusionLabelError as e:
                self.s.notify(f"pre-label: cannot make the detector: {e}", "error")
                return None
            self._detector_key = (spec, config)
        return self._detector

    def assist_config(self):
        """Builtin-detector settings for one-click and auto-fit (the project's file, else defaults)."""
        spec, config, _ = self._settings()
        key = (spec, config)
        if key != self._assist_config_key:
            self._assist_config = None
            if config and spec == "builtin":
                from ..assist.config import load_config

                try:
                    self._assist_config = load_config(config)
                except FusionLabelError as e:
                    self.s.notify(f"detector settings not used: {e}", "warning")
            self._assist_config_key = key
        return self._assist_config

    def _writable(self, what: str) -> bool:
        if self.s.read_only:
            self.s.notify(f"read-only project: cannot {what}", "warning")
            return False
        return True

    def _locked(self, frames=None) -> frozenset:
        """The uids of the cuboids of locked classes in ``frames`` (all frames when None): the model
        commands leave them as they are and apply the rest (the session's guard stays the net)."""
        locked = self.s.class_view.locked
        if not locked:
            return frozenset()
        doc = self.s.document
        frames = range(self.s.n_frames) if frames is None else frames
        return frozenset(a.uid for f in frames for a in doc.annotations(f) if a.cls in locked)

    def _kept_note(self, build, keep) -> str:
        """When the locked cuboids ``keep`` are why a model key changed nothing, says how many it
        kept (" (3 boxes of locked classes kept)"): ``build(keep)`` gives the key's command, and
        built without them it would change that many; else ""."""
        if not keep:
            return ""
        try:
            n = len(self.s.locked_changes_of(build(frozenset())))
        except FusionLabelError:
            return ""
        return f" ({n} box{'es' if n != 1 else ''} of locked classes kept)" if n else ""

    def _build(self, what: str, make):
        """``make()`` (a command or None); bad input (an unreadable sweep ...) becomes a message."""
        try:
            return make(), True
        except FusionLabelError as e:
            self.s.notify(f"{what} failed: {e}", "error")
            return None, False

    def _apply_and_tell(self, cmd, nothing: str, work: bool = True, after: str = ""):
        """Apply ``cmd`` and say what it did (then ``after``), or say ``nothing``; ``work=False`` for
        model runs that only add pre-labels (the frame's status stays: :meth:`Session.apply`)."""
        if cmd is None:
            self.s.notify(nothing)
            return None
        bound = self.s.apply(cmd, work=work)
        if bound is not None:
            self.s.notify(bound.description + after)
        return bound

    # ------------------------------------------------------------ one-click, auto-fit
    def one_click_mode(self):
        """Arm the one-click tool: the next left click in the bird's-eye or 3D view fits a box there."""
        if self.s.tool == ONE_CLICK_TOOL:
            self.s.set_tool(None)
            self.s.notify("one-click off")
        elif self._writable("create"):
            self.s.set_tool(ONE_CLICK_TOOL)
            self.s.notify("one-click: click an object in the bird's-eye or 3D view (Esc cancels)")

    def one_click(self, seed):
        """Fit, classify and create the box of the object at ``seed`` (x, y[, z], LiDAR frame)."""
        self.s.set_tool(None)
        if not self._writable("create"):
            return None
        cmd, ok = self._build("one-click", lambda: edit_assist.one_click(
            self.s.document, self.s.drive, self.s.frame, self.s.selection, seed,
            default_class=self.s.current_class, config=self.assist_config()))
        if not ok:
            return None
        if cmd is None:
            under = self._cuboid_at(seed)
            if under is not None:
                self.s.select((under.uid,))
                self.s.notify("one-click: this object already has a cuboid (selected it: T fits it, Y accepts it)")
            else:
                self.s.notify("one-click: no object within 1 m of the click, or it already has a cuboid")
            return None
        bound = self.s.apply(cmd)
        if bound is not None:
            create = bound.commands[0]
            self.s.select((create.uid,))
            b = create.label.box
            self.s.notify(f"{bound.description}: {b.length:.2f} × {b.width:.2f} × {b.height:.2f} m")
        return bound

    def _cuboid_at(self, seed):
        """The smallest cuboid of the frame whose footprint holds the seed's xy, or None."""
        from ..geometry.cuboid import points_in_cuboid

        hits = []
        for ann in self.s.annotations():
            box = ann.box
            probe = [[seed[0], seed[1], box.center[2]]]
            if points_in_cuboid(probe, box)[0]:
                hits.append((box.length * box.width, ann.uid, ann))
        return min(hits)[2] if hits else None

    def auto_fit(self, keep_yaw: bool = True):
        """Tighten the selected cuboids to their points (Shift: re-estimate the heading)."""
        sel = self._selection()
        if not sel:
            return
        cmd, ok = self._build("auto-fit", lambda: edit_assist.auto_fit(
            self.s.document, self.s.drive, self.s.frame, sel, keep_yaw, config=self.assist_config()))
        if ok:
            self._apply_and_tell(cmd, self._why_no_fit(sel))

    def _why_no_fit(self, sel) -> str:
        """Why auto-fit changed nothing: the cuboids hold (almost) no points, or already fit them."""
        from ..geometry.cuboid import points_in_cuboid

        pts = self.s.drive.points(self.s.frame)
        chosen = set(sel)
        anns = [a for a in self.s.annotations() if a.uid in chosen]
        empty = sum(int(points_in_cuboid(pts, a.box).sum()) < 3 for a in anns)
        if empty == len(anns):
            return "auto-fit: no LiDAR points in the selection to fit to"
        if empty:
            return f"auto-fit: the others already fit their points; {empty} hold no LiDAR points"
        return "auto-fit: the selection already fits its points"

    # ------------------------------------------------------------ pre-labels
    def prelabel_frame(self):
        """Run the detector on this frame and store its boxes as pre-labels (one undo step): they
        replace the frame's untouched pre-labels; human work and edited pre-labels stay. In the
        window the detector runs in the background (the window keeps working) and the boxes are
        stored in that frame when it is done, against the annotations as they are then."""
        if not self._writable("pre-label"):
            return
        detector = self.detector()
        if detector is None:
            return
        invalid = _invalid_counter(detector)
        start = getattr(self.hooks, "start_prelabel", None) if self.hooks is not None else None
        if start is not None:
            min_score = self._settings()[2]
            def done(found, cancelled, skipped, prepared, notes):
                if skipped and not found:   # the frame's input could not be read: as when run here
                    self.s.notify(f"pre-label failed: {skipped[0][1]}", "error")
                    return
                self.store_prelabels(found, cancelled, skipped, invalid(), prepared, min_score, notes)

            start(detector, [self.s.frame], done, min_score, quick=True)
            return
        try:
            detections = edit_assist.detect_frames(self.s.drive, detector, [self.s.frame])
        except FusionLabelError as e:
            self.s.notify(f"pre-label failed: {e}", "error")
            return
        self.store_prelabels(detections, invalid=invalid(), notes=_take_notes(detector))

    def prelabel_all(self):
        """Pre-label every frame; in the window the detector runs in the background with a
        progress dialog, and the boxes are stored as one undo step when it finishes."""
        if not self._writable("pre-label"):
            return
        detector = self.detector()
        if detector is None:
            return
        frames = list(range(self.s.n_frames))
        invalid = _invalid_counter(detector)
        min_score = self._settings()[2]  # the run filters with it: its message must say the same one
        start = getattr(self.hooks, "start_prelabel", None) if self.hooks is not None else None
        if start is not None:  # the run also tracks its detections in the background
            start(detector, frames, lambda found, cancelled, skipped, prepared, notes:
                  self.store_prelabels(found, cancelled, skipped, invalid(), prepared, min_score, notes), min_score)
            return
        skipped: list = []
        detections = edit_assist.detect_frames(self.s.drive, detector, frames, errors=skipped)
        self.store_prelabels(detections, False, skipped, invalid(), min_score=min_score, notes=_take_notes(detector))

    def store_prelabels(self, detections: dict, cancelled: bool = False, skipped=(), invalid: int = 0,
                        prepared=None, min_score: float | None = None, notes=()):
        """Store detections ({frame: labels}) as pre-labels, replacing the frames' untouched ones
        (:func:`fusionlabel.assist.edit_assist.prelabel`); several frames of a sequence are tracked.
        ``skipped``: (frame, message) of frames the detector could not read, reported as warnings;
        ``invalid``: boxes the detector dropped as invalid (an ONNX model), said in the message;
        ``prepared``: the labels to store, tracked already (:func:`edit_assist.prelabels_to_store`);
        ``min_score``: the one they were chosen with (default: the project's setting now);
        ``notes``: what the detector's input left out (voxels beyond ``max_voxels``), said in the message."""
        for frame, message in list(skipped)[:5]:
            self.s.notify(f"pre-label skipped frame {self.s.drive.frames[frame].frame_id}: {message}", "warning")
        if len(skipped) > 5:
            self.s.notify(f"pre-label skipped {len(skipped)} frames in all", "warning")
        if min_score is None:
            min_score = self._settings()[2]
        track = edit_assist.tracked_run(self.s.drive, detections)
        if track:
            from ..assist.prelabel import tracking_caveat

            caveat = tracking_caveat(self.s.drive, sorted(detections))
            if caveat:
                self.s.notify(f"pre-label: {caveat}", "warning")
        if prepared is None and detections:
            prepared = edit_assist.prelabels_to_store(self.s.drive, detections, min_score, track)
        what = f"{frames_text(self.s.drive, sorted(detections))} ({self.detector_text(min_score)})" if detections else ""

        def build(keep):     # the command (as edit_assist.prelabel makes it) and its report
            return prelabel_command(self.s.document, prepared, what, keep=keep) if detections else (None, None)

        keep = self._locked(detections)
        cmd, report = build(keep)
        found = sum(len(v) for v in detections.values())
        note = " (cancelled: the frames done are kept)" if cancelled else ""
        dropped = f"; {invalid_boxes_text(invalid)}" if invalid else ""
        absent = report.absent if report is not None else 0
        dropped += (f"; {absent} left out in frames where their track is marked absent (H)" if absent else "")
        dropped += "".join(f"; {text}" for text in notes)
        if cmd is None:
            self.s.notify(f"pre-label ({self.detector_text(min_score)}): nothing to change ({found} detections, each "
                          f"below score {min_score:g}, of an unknown class, on a cuboid kept there, or the same "
                          f"as the pre-label already there){self._kept_note(lambda k: build(k)[0], keep)}"
                          f"{dropped}{note}")
            return None
        bound = self.s.apply(cmd, work=False)  # model output: no frame becomes "in progress"
        if bound is not None:
            below = sum((1.0 if d.score is None else d.score) < min_score for v in detections.values() for d in v)
            left_out = f"; {below} scoring below {min_score:g} left out" if below else ""
            self.s.notify(bound.description + left_out + dropped + note)
        return bound

    def accept_all_prelabels(self):
        cmd = edit_assist.accept_all_prelabels(self.s.document, self.s.drive, self.s.frame, self.s.selection)
        self._apply_and_tell(cmd, "no pre-labels in this frame")

    def delete_prelabels(self):
        cmd = edit_assist.delete_prelabels(self.s.document, self.s.drive, self.s.frame, self.s.selection,
                                           keep=self._locked([self.s.frame]))
        self._apply_and_tell(cmd, "no pre-labels to delete in this frame (pre-labels you edited stay: Y accepts them)")

    # ------------------------------------------------------------ tracks
    def interpolate_track(self):
        """Fill the selected tracks between their keyframes (human and imported boxes; copies made
        with C that nobody changed are replaced, and the selection stays on the selected tracks).
        With nothing selected, the tracks H remembers (a gap chosen in the label checks, a track H
        just marked): I fills the gap on screen at once, and its new box is selected."""
        remembered = not self.s.selection and self._remembered_track_boxes()
        sel = remembered or self._selection()
        if not sel:
            return
        cmd, ok = self._build("interpolate", lambda: edit_assist.interpolate(self.s.document, self.s.drive,
                                                                             self.s.frame, sel, keep=self._locked()))
        if ok:
            doc = self.s.document
            tracks = {doc.get(u).track_id for u in sel if u in doc and doc.get(u).track_id is not None}
            keyed = [t for t in tracks if len(edit_assist.keyframes(self.s.document, t)) >= 2]
            absent = sum(len(self.s.document.absent_frames(t)) for t in keyed)
            absent_text = f"; {absent} frame{'s' if absent != 1 else ''} marked absent (H) stay{'s' * (absent == 1)} empty"
            bound = self._apply_and_tell(cmd, "interpolate: the frames between the keyframes already hold the "
                                              "interpolated boxes (or human or imported ones and pre-labels you "
                                              "edited, which stay)" + (absent_text if absent else "") if keyed else
                                              "interpolate: a track needs keyframes (human or imported boxes) in "
                                              "two frames with frames between them (draw, edit or accept one, "
                                              "then press I)", work=False, after=ACCEPT_TRACK_HINT)
            if bound is not None and (remembered or any(u not in self.s.document for u in sel)):
                # a selected copy was replaced, or the remembered tracks' gap filled: select them here
                found = [a for a in (self.s.document.find_track(t, self.s.frame) for t in tracks) if a is not None]
                if found:
                    self.s.select(tuple(a.uid for a in found))

    def _remembered_track_boxes(self) -> tuple[str, ...]:
        """One cuboid (any frame) of each track H remembers (:meth:`Session.followed_tracks` with
        nothing selected), for the keys that act on a track from a frame where it has no box."""
        doc = self.s.document
        boxes = []
        for track in self.s.followed_tracks():
            frames = doc.track_frames(track)
            if frames:
                boxes.append(doc.find_track(track, frames[0]).uid)
        return tuple(boxes)

    def propagate(self):
        """Carry the selected cuboids to the next frame by registering their points (ICP). On a
        drive without ego poses the ego's motion between the two sweeps is estimated first; in the
        window on a worker thread (:meth:`start_ego_motion` hook: the window keeps working), and
        the cuboids are carried when it is done."""
        sel = self._selection()
        if not sel:
            return
        if self.s.frame + 1 >= self.s.n_frames:
            self.s.notify("this is the last frame")
            return
        if not edit_assist.is_sequence(self.s.drive):
            self.s.notify("propagate: this drive's frames are not a sequence (their capture times do not "
                          "increase, as in a KITTI object folder), so there is no next view of the object")
            return
        frame = self.s.frame
        start = getattr(self.hooks, "start_ego_motion", None) if self.hooks is not None else None
        pairs = edit_assist.ego_motions_needed(self.s.document, self.s.drive, frame, sel) if start else []
        if pairs:
            ids = self.s.drive.frames
            if start(pairs, lambda: self._propagate(frame, sel)):
                self.s.notify(f"propagate: the drive has no ego poses: estimating the ego's motion from frame "
                              f"{ids[frame].frame_id} to {ids[frame + 1].frame_id} from the sweeps (a few seconds) …")
            return
        self._propagate(frame, sel)

    def _propagate(self, frame: int, sel):
        """V's command for the cuboids ``sel`` of ``frame``, built and applied, and its message."""
        def build(keep, warnings=None):
            return edit_assist.propagate(self.s.document, self.s.drive, frame, sel, keep=keep,
                                         warnings=warnings)

        keep = self._locked([frame + 1])
        warnings: list[str] = []
        cmd, ok = self._build("propagate", lambda: build(keep, warnings))
        if not ok:
            return
        if cmd is None and warnings:
            self.s.notify(f"propagate: {'; '.join(warnings)}", "warning")
            return
        nothing = "" if cmd is not None else self._kept_note(build, keep)
        self._apply_and_tell(cmd, "propagate: the selected tracks already have human or imported cuboids or pre-labels "
                                  f"you edited in the next frame (they stay){nothing}", work=False)
        if cmd is not None and warnings:   # the other boxes are placed; these need a look
            self.s.notify(f"propagate: {'; '.join(warnings)}", "warning")
        self._estimate_ahead(frame + 1)

    def _estimate_ahead(self, frame: int):
        """On a drive without poses, in the window: start estimating the ego's motion from ``frame``
        to the next one now, so that V, D, V … finds it at hand."""
        start = getattr(self.hooks, "start_ego_motion", None) if self.hooks is not None else None
        pair = (frame, frame + 1)
        if start and pair[1] < self.s.n_frames and not has_poses(self.s.drive) and cached_motion(self.s.drive, *pair) is None:
            start([pair], None)
