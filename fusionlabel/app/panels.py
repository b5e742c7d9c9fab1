"""Timeline (frame slider, status and keyframe marks) and attribute editor (the object list is
in :mod:`.object_list`).

Both re-read the document and the session on their events, with their own widget signals
blocked while they do, so there are no feedback loops; user input becomes a session call or a
command.
"""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..assist.keyframes import frames_with_keyframes
from ..model import edit_actions
from ..model.document import FRAME_STATUSES
from ..model.track_attributes import mixed_values, value_text
from ..wording import counted, track_text
from .input_widgets import ComboBox, DoubleSpinBox, SpinBox
from .remembered_note import finding_elsewhere, remembered_note
from .retype_confirm import cancelled_text, plan_retype, say_done
from .retype_question import ask_retype
from .session import Session
from .track_actions import frame_namer, retype, set_track

STATUSES = FRAME_STATUSES
ABSENT_COLOR = QColor(255, 70, 70)   # timeline cross on a frame where the followed track is marked absent
TRACK_COLOR = QColor(0, 220, 255)    # timeline dot under a frame holding the followed track
MIXED = "mixed"                      # a per-track attribute on which the track's cuboids disagree
MIXED_COLOR = "#ffb040"
STATUS_COLORS = {"new": QColor(70, 70, 76), "in_progress": QColor(225, 160, 40),
                 "done": QColor(60, 180, 80), "reviewed": QColor(70, 130, 235)}


def paint_cross(p: QPainter, x: float, y: float, half: float) -> None:
    """A red × centred at (x, y), ``half`` pixels each way, outlined in black so that it shows on
    every status colour."""
    for color, width in ((QColor(0, 0, 0), 4), (ABSENT_COLOR, 2)):
        p.setPen(QPen(color, width))
        p.drawLine(QPointF(x - half, y - half), QPointF(x + half, y + half))
        p.drawLine(QPointF(x - half, y + half), QPointF(x + half, y - half))
    p.setPen(Qt.PenStyle.NoPen)


class TimelineStrip(QWidget):
    """One cell per frame coloured by its status; white ticks = keyframes (frames holding human or
    imported cuboids other than unedited copies: :mod:`fusionlabel.assist.keyframes`), cyan dots =
    frames holding the followed track (the selected cuboid's, else the one H just marked:
    :meth:`Session.followed_tracks`), red crosses = frames where its object is marked absent (H);
    click or drag to go there."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.keyframes: set[int] = set()
        self.painted_frame: int | None = None
        self.setMinimumHeight(26)
        self.setMouseTracking(False)
        self.refresh()

    def refresh(self, frames=None) -> None:
        n = self.session.n_frames
        frames = [f for f in (range(n) if frames is None else frames) if 0 <= f < n]
        keyed = frames_with_keyframes(self.session.document, frames)
        self.keyframes = (self.keyframes - set(frames)) | keyed
        self.update()

    def _cell(self) -> float:
        return self.width() / max(self.session.n_frames, 1)

    def frame_at(self, x: float) -> int:
        return int(min(max(x // self._cell(), 0), self.session.n_frames - 1))

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(28, 28, 32))  # dark, so the white keyframe ticks show on any style
        n, cw, h = self.session.n_frames, self._cell(), self.height()
        doc = self.session.document
        followed = self.session.followed_tracks()
        track_frames = set(doc.track_frames(followed[0])) if followed else set()
        absent_frames = set(doc.absent_frames(followed[0])) if followed else set()
        for f in range(n):
            r = QRectF(f * cw, 6, max(cw - (1 if cw > 4 else 0), 1), h - 12)
            p.fillRect(r, STATUS_COLORS.get(doc.frame_status(f), STATUS_COLORS["new"]))
            if f in self.keyframes:
                p.fillRect(QRectF(f * cw + cw / 2 - 1, 0, 2, 6), QColor(255, 255, 255))
            if f in track_frames:
                p.fillRect(QRectF(f * cw + cw / 2 - 1.5, h - 5, 3, 4), TRACK_COLOR)
        for f in absent_frames & set(range(n)):     # over the cells, also over a cyan dot (a cuboid there)
            paint_cross(p, f * cw + cw / 2, h / 2, max(2.0, min(cw / 2 - 1.5, (h - 12) / 2 - 1)))
        cur = self.session.frame
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.drawRect(QRectF(cur * cw, 5, max(cw, 2), h - 10))
        p.end()
        self.painted_frame = cur

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        self.session.set_frame(self.frame_at(ev.position().x()))

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802
        if ev.buttons() & Qt.MouseButton.LeftButton:
            self.session.set_frame(self.frame_at(ev.position().x()))


class Timeline(QWidget):
    """Frame label, status chooser, the strip and a slider."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.label = QLabel()
        self.label.setMinimumWidth(220)
        self.status = ComboBox()
        for status in STATUSES:       # shown in words ("in progress"), the stored value kept as data
            self.status.addItem(status.replace("_", " "), status)
        self.status.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.status.currentIndexChanged.connect(lambda i: self._status_chosen(self.status.itemData(i)))
        self.track_note = QLabel()    # the followed track's absent mark in this frame
        self.strip = TimelineStrip(session)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, session.n_frames - 1)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(session.set_frame)
        top = QHBoxLayout()
        top.addWidget(self.label)
        top.addWidget(QLabel("status:"))
        top.addWidget(self.status)
        top.addWidget(self.track_note)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(1)
        layout.addLayout(top)
        layout.addWidget(self.strip)
        layout.addWidget(self.slider)
        session.subscribe(self._on_session)
        self.refresh()

    def refresh(self) -> None:
        s = self.session
        frame = s.drive.frames[s.frame]
        # a long frame id (a nuScenes token) is elided in the middle; the tooltip gives it whole
        count = f"  ({s.frame + 1}/{s.n_frames})"
        fm = self.label.fontMetrics()
        room = self.label.minimumWidth() - fm.horizontalAdvance(f"frame {count}") - 8
        self.label.setText(f"frame {fm.elidedText(str(frame.frame_id), Qt.TextElideMode.ElideMiddle, room)}{count}")
        self.label.setToolTip(f"frame {frame.frame_id}")
        for widget, value in ((self.slider, s.frame), (self.status, s.document.frame_status(s.frame))):
            widget.blockSignals(True)
            if widget is self.slider:
                widget.setValue(value)
            else:
                widget.setCurrentIndex(widget.findData(value))
            widget.blockSignals(False)
        self._show_track_note()
        self.strip.update()

    def _show_track_note(self) -> None:
        """Next to the status: "track 7 marked absent here" (red) when the followed track is marked
        absent in the frame shown; with nothing selected, which track H marks next."""
        s = self.session
        followed = s.followed_tracks()
        absent = [t for t in followed if s.document.is_absent(t, s.frame)]
        if absent:
            text, color = f"track {', '.join(absent)} marked absent here (H)", "#ff5050"
        elif followed and not s.selection and finding_elsewhere(s):
            text, color = (f"H marks track {', '.join(followed)} absent in frame "
                           f"{s.drive.frames[s.marked_for].frame_id} only, the finding's (Esc forgets it)"), "#9a9aa0"
        elif followed and not s.selection:
            text, color = f"H marks track {', '.join(followed)} absent here too (Esc forgets it)", "#9a9aa0"
        else:
            text, color = "", "#9a9aa0"
        self.track_note.setText(text)
        self.track_note.setStyleSheet(f"color: {color}")

    def _status_chosen(self, status: str) -> None:
        if status != self.session.document.frame_status(self.session.frame):
            s = self.session
            if not s.apply(edit_actions.set_frame_status(s.document, s.frame, status, frame_namer(s))):
                self.refresh()

    def _on_session(self, kind, payload) -> None:
        if kind == "document":
            self.strip.refresh(payload.frames)
            self.refresh()
        elif kind in ("frame", "selection", "marked_tracks"):
            self.refresh()


FIXED_ROWS = 2   # the attribute panel's form starts with the class and track rows


class AttributePanel(QWidget):
    """Class and attributes of the primary selected cuboid; every change is one command. An
    attribute the ontology declares per track is labelled ``(track)`` and set on the whole track
    (the status bar says where); while the track's cuboids disagree on it, it shows as mixed."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.title = QLabel("no selection")
        self.cls = ComboBox()
        self.cls.addItems(list(session.ontology.classes))
        self.cls.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.cls.currentTextChanged.connect(self._class_chosen)
        # whether a class chosen here for several tracks reaching other frames goes ahead (a
        # message box: :func:`.retype_question.ask_retype`)
        self.confirm_retype = lambda reach: ask_retype(self, reach)
        self.form = QFormLayout()
        # with no cuboid selected, what the app remembers (a track marked absent here: Shift+H ...)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        self.fields = QWidget()          # disabled while no cuboid is selected (the note stays readable)
        fields = QVBoxLayout(self.fields)
        fields.setContentsMargins(0, 0, 0, 0)
        # class and track head the attributes' form: one label column, so every field starts at
        # the same x (two layouts gave them two label widths)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.addRow(QLabel("class"), self.cls)
        self.track = self._track_field()
        self.form.addRow(QLabel("track"), self.track)
        fields.addLayout(self.form)
        layout.addWidget(self.fields)
        layout.addStretch(1)
        self._editors: dict[str, QWidget] = {}
        self._row_labels: dict[str, QLabel] = {}
        self._shown = None
        session.subscribe(self._on_session)
        self.refresh()

    def annotation(self):
        sel = self.session.selection
        if not sel:
            return None
        try:
            return self.session.document.get(sel[0])
        except KeyError:
            return None

    def refresh(self) -> None:
        ann = self.annotation()
        self._show_track(ann)
        self.fields.setEnabled(ann is not None)
        self._show_note(ann)
        if ann is None:
            self.cls.blockSignals(True)
            self.cls.setCurrentIndex(-1)     # greyed but empty: no cuboid's class to show
            self.cls.blockSignals(False)
            self._rebuild(None)
            return
        b = ann.box
        self.title.setText(f"track {track_text(ann.track_id) or '-'}   {b.length:.2f} × {b.width:.2f} × "
                           f"{b.height:.2f} m   yaw {b.yaw * 57.29578:.1f}°")
        self.title.setToolTip(f"track {ann.track_id}" if ann.track_id is not None else "no track")
        self.cls.blockSignals(True)
        if self.cls.findText(ann.cls) < 0:
            self.cls.addItem(ann.cls)
        self.cls.setCurrentText(ann.cls)
        self.cls.blockSignals(False)
        self._rebuild(ann)

    def _show_note(self, ann) -> None:
        """With no cuboid selected: "no selection", or the tracks the app remembers (an absent
        entry chosen in the object list, H's track) and what the keys do with them
        (:func:`.remembered_note.remembered_note`) in a note under the title."""
        note = None if ann is not None else remembered_note(self.session)
        self.note.setVisible(note is not None)
        self.title.setEnabled(ann is not None or note is not None)    # "no selection" greyed
        if ann is not None:
            return
        self.title.setText("no selection" if note is None else note[0])
        self.title.setToolTip("" if note is None else
                              ", ".join(f"track {t}" for t in self.session.followed_tracks()))
        self.note.setText("" if note is None else "\n".join(note[1]))

    def _rebuild(self, ann) -> None:
        spec = self.session.ontology.classes.get(ann.cls) if ann is not None else None
        key = (None if ann is None else ann.cls)
        if key != self._shown:
            while self.form.rowCount() > FIXED_ROWS:     # the attributes' rows, after class and track
                self.form.removeRow(FIXED_ROWS)
            self._editors = {}
            self._row_labels = {}
            for name, a in (spec.attributes.items() if spec is not None else []):
                editor = self._editor(a)
                self._editors[name] = editor
                self._row_labels[name] = QLabel(name)
                self.form.addRow(self._row_labels[name], editor)
            self._shown = key
        if ann is None or spec is None:
            return
        mixed = mixed_values(self.session.document, ann)
        for name, editor in self._editors.items():
            a = spec.attributes[name]
            value = ann.label.attributes.get(name, a.default)
            self._show_scope(name, a, ann, mixed.get(name))
            editor.blockSignals(True)
            if isinstance(editor, QCheckBox):       # null (unknown, e.g. an import that does not say): half-checked
                unsure = value is None or name in mixed
                editor.setTristate(unsure)
                editor.setCheckState(Qt.CheckState.PartiallyChecked if unsure else
                                     Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)
                editor.setText(MIXED if name in mixed else "")
            elif isinstance(editor, QComboBox):     # null or mixed: no choice shown
                editor.setPlaceholderText(MIXED if name in mixed else "")
                editor.setCurrentIndex(-1 if value is None or name in mixed else editor.findText(str(value)))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value if isinstance(value, (int, float)) else 0)
            elif editor.text() != ("" if value is None else str(value)):   # as typed: keep the cursor
                editor.setText("" if value is None else str(value))
            editor.blockSignals(False)

    def _show_scope(self, name: str, a, ann, mixed) -> None:
        """The row's label: ``emergency (track)`` for an attribute of the whole track, ``emergency
        (track: mixed)`` in amber while its cuboids disagree; the tooltip says how many have which."""
        label = self._row_labels[name]
        if not a.per_track or ann.track_id is None:
            label.setText(name)
            label.setStyleSheet("")
            label.setToolTip("")
            return
        track = track_text(ann.track_id)
        if mixed:
            counts = ", ".join(f"{value_text(v)} on {counted(n, 'cuboid')}" for v, n in mixed.most_common())
            label.setText(f"{name} (track: {MIXED})")
            label.setStyleSheet(f"color: {MIXED_COLOR}")
            label.setToolTip(f"the cuboids of track {track} disagree: {counts}; setting a value gives it to "
                             f"all {sum(mixed.values())}")
        else:
            label.setText(f"{name} (track)")
            label.setStyleSheet("")
            label.setToolTip(f"one value for the whole track: setting it sets every cuboid of track {track}")

    def _editor(self, a) -> QWidget:
        def commit(value, name=a.name, merge=None):
            if self.annotation() is not None:
                s = self.session
                bound = s.apply(edit_actions.set_attribute(s.document, s.selection, name, value), merge=merge)
                if bound is not None and a.per_track:
                    s.notify(bound.description)    # "emergency = yes on track 29, 20 frames"

        if a.kind == "bool":
            w = QCheckBox()
            # clicked, not toggled: from half-checked (unknown) a click goes to checked without a toggle
            w.clicked.connect(lambda: commit(w.checkState() == Qt.CheckState.Checked))
        elif a.kind == "enum":
            w = ComboBox()
            w.addItems([str(c) for c in (a.choices or ())])
            w.currentTextChanged.connect(commit)
        elif a.kind == "int":
            w = SpinBox()
            w.setRange(-1_000_000, 1_000_000)
            w.valueChanged.connect(lambda v: commit(int(v)))
        elif a.kind == "float":
            w = DoubleSpinBox()
            w.setRange(-1e9, 1e9)
            w.setDecimals(3)
            w.valueChanged.connect(lambda v: commit(float(v)))
        else:
            w = QLineEdit()
            # saved as typed (a burst of typing is one undo step): nothing waits for Enter or a focus
            # change, so selecting another cuboid, changing frame or closing loses no text
            w.textEdited.connect(lambda text: commit(text, merge=f"Set {a.name}"))
        w.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        return w

    def _track_field(self) -> QLineEdit:
        """The track of the selected cuboid: type an existing or a new id, Enter (or leaving the
        field, or selecting another cuboid) moves the cuboid it was typed for there (one command);
        a refusal is a message and the field shows the cuboid's track again. Disabled while
        several cuboids are selected (a track holds one cuboid per frame)."""
        w = QLineEdit()
        w.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        w.setToolTip("track of the selected cuboid: type an existing or a new id and press Enter "
                     "(J joins whole tracks, K splits one)")
        w.editingFinished.connect(self._track_entered)
        w.returnPressed.connect(w.clearFocus)     # back to the keys of the views
        self._track_uid = None                    # the cuboid the field shows
        return w

    def _show_track(self, ann) -> None:
        if ann is None:
            self._track_uid = None
            self.track.clear()
            return
        self.track.setEnabled(len(self.session.selection) == 1)
        if not (self.track.hasFocus() and self._track_uid == ann.uid):   # never replace what is typed
            self._track_uid = ann.uid
            self.track.setText(ann.track_id or "")

    def _track_entered(self) -> None:
        uid = self._track_uid
        if uid is None or uid not in self.session.document:
            return
        if self.track.text().strip() != (self.session.document.get(uid).track_id or ""):
            set_track(self.session, self.track.text(), uid)
        if uid == self._track_uid:
            self.track.setText(self.session.document.get(uid).track_id or "")   # what the cuboid now has

    def _class_chosen(self, cls: str) -> None:
        """Retype the selection's whole tracks, as the class keys do; on several tracks reaching
        other frames (:func:`.retype_confirm.plan_retype`), only once ``confirm_retype`` says yes."""
        ann = self.annotation()
        if ann is None or not cls:
            return
        s = self.session
        plan = plan_retype(s, cls)
        if plan.asks and not self.confirm_retype(plan.reach):
            s.notify(cancelled_text(plan.reach))
            self.refresh()       # the class box shows the class the cuboid kept
            return
        if retype(s, cls, plan.cmd, say_done(plan.reach)) is None:
            self.refresh()   # refused (a locked class, a read-only project): show the class it kept

    def _on_session(self, kind, payload) -> None:
        if kind in ("selection", "frame") and self.track.hasFocus():
            self._track_entered()           # what was typed goes to the cuboid it was typed for
        if kind in ("selection", "document", "frame", "marked_tracks"):
            self.refresh()
