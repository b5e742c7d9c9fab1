"""The keyboard map: one table drives the Qt shortcuts, the help overlay (``?``) and docs/app.md.

Each entry: action name (a method of :class:`fusionlabel.app.actions.Actions`), key sequences in
Qt's portable text form, a description, and a group. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from .styles import GHOST_MARK, LOCK_MARK, OUTLINE_OF_STATE


@dataclass(frozen=True)
class Shortcut:
    action: str
    keys: tuple[str, ...]
    description: str
    group: str
    args: tuple = ()


S = Shortcut
SHORTCUTS: tuple[Shortcut, ...] = (
    S("export", ("Ctrl+E",), "export… the labels to KITTI, KITTI tracking, nuScenes, OpenLABEL or COCO "
      "(in the background)", "File"),
    S("next_frame", ("D", "."), "next frame", "Frames"),
    S("previous_frame", ("A", ","), "previous frame", "Frames"),
    S("step_frames", ("Shift+D",), "10 frames forward", "Frames", (10,)),
    S("step_frames", ("Shift+A",), "10 frames back", "Frames", (-10,)),
    S("first_frame", ("Home",), "first frame", "Frames"),
    S("last_frame", ("End",), "last frame", "Frames"),
    S("jump_track", ("]", "Alt+Right"), "next frame holding the selected (or H's) track", "Frames", (1,)),
    S("jump_track", ("[", "Alt+Left"), "previous frame holding the selected (or H's) track", "Frames", (-1,)),
    S("set_frame_status", ("Ctrl+Return",), "mark frame done", "Frames", ("done",)),
    S("set_frame_status", ("Ctrl+Shift+Return",), "mark frame reviewed", "Frames", ("reviewed",)),
    S("cycle_selection", ("Tab",), "select next cuboid: nearest in view first (a sorted list: as listed)",
      "Selection", (1,)),
    S("cycle_selection", ("Shift+Tab", "Backtab"), "select previous cuboid (the order of Tab)", "Selection", (-1,)),
    S("select_all", ("Ctrl+A",), "select all cuboids in the object list", "Selection"),
    S("focus_filter", ("Ctrl+F",), "filter the object list (type; Enter back to the views, Esc clears)",
      "Selection"),
    S("clear_selection", ("Esc",), "clear selection and H's track / cancel a drag, G or J", "Selection"),
    S("create", ("N",), "new cuboid of the current class at the mouse (BEV)", "Edit"),
    S("delete", ("Del", "Backspace"), "delete selected cuboids", "Edit"),
    S("delete_track_from_here", ("Shift+Del", "Shift+Backspace"), "delete selected tracks from this frame on", "Edit"),
    S("rotate", ("Q",), "rotate +1° (counter-clockwise seen from above)", "Edit", (1.0,)),
    S("rotate", ("E",), "rotate −1°", "Edit", (-1.0,)),
    S("rotate", ("Shift+Q",), "rotate +15°", "Edit", (15.0,)),
    S("rotate", ("Shift+E",), "rotate −15°", "Edit", (-15.0,)),
    S("flip", ("F",), "flip heading 180°", "Edit"),
    S("nudge", ("Up",), "nudge 5 cm forward (along the heading)", "Edit", (0, 0.05)),
    S("nudge", ("Down",), "nudge 5 cm back", "Edit", (0, -0.05)),
    S("nudge", ("Left",), "nudge 5 cm to the cuboid's left", "Edit", (1, 0.05)),
    S("nudge", ("Right",), "nudge 5 cm to the cuboid's right", "Edit", (1, -0.05)),
    S("nudge", ("PgUp",), "nudge 5 cm up", "Edit", (2, 0.05)),
    S("nudge", ("PgDown",), "nudge 5 cm down", "Edit", (2, -0.05)),
    S("grow", ("Ctrl+Up",), "length +5 cm", "Edit", (0, 0.05)),
    S("grow", ("Ctrl+Down",), "length −5 cm", "Edit", (0, -0.05)),
    S("grow", ("Ctrl+Right",), "width +5 cm", "Edit", (1, 0.05)),
    S("grow", ("Ctrl+Left",), "width −5 cm", "Edit", (1, -0.05)),
    S("grow", ("Ctrl+PgUp",), "height +5 cm (bottom stays on the ground)", "Edit", (2, 0.05)),
    S("grow", ("Ctrl+PgDown",), "height −5 cm", "Edit", (2, -0.05)),
    S("copy_to_next_frame", ("C",), "copy selected cuboids to the next frame (same tracks)", "Edit"),
    S("copy_all_to_next_frame", ("Shift+C",), "copy all cuboids of the frame to the next frame", "Edit"),
    S("join_track", ("J",), "join tracks: J on one, then J on the other (any frame)", "Edit"),
    S("split_track", ("K",), "split the track: this cuboid and later ones get a new track id", "Edit"),
    S("size_to_track", ("Shift+S",), "give the selected cuboid's size to its whole track (rigid objects)", "Edit"),
    S("mark_absent", ("H",), "object hidden here: delete its cuboid, keep I, V out (or H's track)", "Edit"),
    S("unmark_absent", ("Shift+H",), "take back the hidden-frame marks of the selected (or H's, or this frame's) tracks", "Edit"),
    S("import_drive_labels", ("Ctrl+I",), "import the labels that came with the drive (one undo step)", "Edit"),
    S("undo", ("Ctrl+Z",), "undo (key edits in a row are one step; stops at the starting labels)", "Edit"),
    S("redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "redo", "Edit"),
    S("one_click_mode", ("G",), "one-click box: G, then click an object (BEV or 3D; or Alt+click)", "Assist"),
    S("auto_fit", ("T",), "auto-fit selection to its points, keep heading, snap to ground", "Assist", (True,)),
    S("auto_fit", ("Shift+T",), "auto-fit selection to its points, re-estimating the heading", "Assist", (False,)),
    S("prelabel_frame", ("Ctrl+P",), "pre-label this frame (in the background; human and edited boxes stay)", "Assist"),
    S("prelabel_all", ("Ctrl+Shift+P",), "pre-label every frame (in the background, with progress)", "Assist"),
    S("accept_prelabel", ("Y",), "accept selected pre-labels (model → human)", "Assist"),
    S("accept_all_prelabels", ("Shift+Y",), "accept every pre-label of the frame", "Assist"),
    S("accept_track_prelabels", ("Ctrl+Shift+Y",), "accept the selected tracks' pre-labels in every frame "
      "(after I or V)", "Assist"),
    S("delete_prelabels", ("Shift+X",), "delete the frame's pre-labels (ones you edited stay)", "Assist"),
    S("interpolate_track", ("I",), "interpolate selected (or H's) tracks between human/imported keyframes", "Assist"),
    S("propagate", ("V",), "propagate selection to the next frame by its points (ICP)", "Assist"),
    S("check_labels", ("Ctrl+K",), "check the labels: list the findings (a click goes to one)", "Assist"),
    S("toggle_layer", ("P",), "LiDAR points in the cameras on/off", "View", ("camera_points",)),
    S("toggle_layer", ("B",), "cuboids on/off", "View", ("boxes",)),
    S("toggle_layer", ("L",), "cuboid labels on/off", "View", ("box_labels",)),
    S("toggle_focus", ("Shift+B",), "focus on the selection: other cuboids faint and unlabelled, on/off",
      "View"),
    S("cycle_color_mode", ("M",), "colour points by height / intensity / distance", "View"),
    S("step_height_cut", ("U",), "bird's-eye view: hide points higher up (height filter, 0.5 m steps)", "View",
      (-1,)),
    S("step_height_cut", ("Shift+U",), "bird's-eye view: show points higher up (past 6 m: filter off)", "View", (1,)),
    S("reset_height_cut", ("Ctrl+U",), "height filter off: every point in the bird's-eye view", "View"),
    S("step_sweeps", ("O",), "stack one more sweep each side of the frame, dimmer (0–5; needs ego poses)",
      "View", (1,)),
    S("step_sweeps", ("Shift+O",), "stack one sweep fewer each side", "View", (-1,)),
    S("focus_selection", ("Z",), "centre the bird's-eye view on the selection", "View"),
    S("zoom_cameras_to_selection", ("Shift+Z",), "zoom the cameras onto the selection", "View"),
    S("fit_cameras", ("Ctrl+0",), "cameras back to the whole image (fit)", "View"),
    S("reload", ("F5",), "reload from disk (read-only: see the other process's edits)", "View"),
    S("help", ("?", "Shift+?", "F1"), "this help", "View"),
)


WAIVE_KEY = "W"   # in the label-check dock's list (Ctrl+K): waive the chosen finding

# Keys a widget reads itself while it has the focus (not window shortcuts): (where, keys, does)
LOCAL_KEYS = (
    ("Label checks (Ctrl+K), in the list of findings", WAIVE_KEY,
     "waive the chosen finding (asks why it is fine); on a waived one: take the waiver back"),
)

LAYOUTS_GROUP = "Keyboard layouts"
# Which keys depend on the keyboard layout, and what works on every one: (keys, note)
LAYOUT_NOTES = (
    ("class keys 1 … 0, Ctrl+0", "the number row's keys by their place: unshifted on AZERTY too (& é \" ' ( - è _ ç à)"),
    ("] / [", "AltGr on AZERTY and QWERTZ: Alt+Right / Alt+Left do the same on any layout"),
    (". / ,", ". is Shift+; on AZERTY (, is unshifted there): D / A do the same on any layout"),
    ("?", "Shift+, on AZERTY, Shift+ß on QWERTZ: F1 on any layout"),
    ("letters", "bound to the letter typed, not to its place: Z and Y swap places on QWERTZ, A and Q on AZERTY"),
)


def class_shortcuts(ontology) -> list[Shortcut]:
    """One entry per ontology class that has a key."""
    return [Shortcut("set_class", (spec.key,), f"class {name} (the selected tracks in every frame, or the next "
                     "new cuboid)", "Classes", (name,))
            for name, spec in ontology.classes.items() if spec.key]


MOUSE = (
    ("Bird's-eye view", "drag on empty ground", "create a cuboid: press at its centre, drag towards its heading"),
    ("Bird's-eye view", "drag inside a cuboid", "move it"),
    ("Bird's-eye view", "drag a square handle", "resize (the opposite side stays put)"),
    ("Bird's-eye view", "drag the round knob", "rotate (Shift: 15° steps)"),
    ("Bird's-eye view", "right/middle or Ctrl+left drag, wheel", "pan, zoom"),
    ("Bird's-eye view", "Alt+click, or G then click", "one-click box on the object there"),
    ("Side views", "drag an edge / a corner", "move that face (centimetre fitting)"),
    ("Side views", "drag inside", "move the cuboid in that plane"),
    ("Side views", "wheel", "zoom about the cuboid's centre"),
    ("Cameras", "click a projected cuboid", "select it"),
    ("Cameras", "double click", "enlarge this camera / back to all"),
    ("Cameras", "wheel, any drag", "zoom about the cursor (to 16× the pixels), pan"),
    ("3D view", "left drag, Ctrl+left / middle drag, wheel", "orbit, pan, zoom"),
    ("3D view", "click a cuboid", "select it"),
    ("3D view", "Alt+click, or G then click", "one-click box on the LiDAR point there"),
    ("any view", "Shift+click", "add to / remove from the selection"),
    ("any view", "touchpad: pinch, two-finger scroll up/down", "zoom, as the wheel does"),
    ("Bird's-eye view, cameras, 3D view", "sideways scroll (touchpad, tilting wheel)",
     "pan left/right (a camera: when zoomed)"),
)


OUTLINES_GROUP = "Cuboid outlines"
# The legend (the ? overlay draws a sample of each line): (outline, what it means)
OUTLINES = (
    (OUTLINE_OF_STATE[None], "human or imported cuboid (filled in the bird's-eye view)"),
    (OUTLINE_OF_STATE["untouched"], "pre-label nobody has touched (with its score; also interpolated and "
                                    "propagated boxes): Shift+X deletes it"),
    (OUTLINE_OF_STATE["edited"], "pre-label you edited but have not accepted; its label says \"edited\"; "
                                 "Ctrl+P and Shift+X keep it, I and V too once you moved, resized or "
                                 "turned it"),
    ("white halo", "the selected cuboids, whatever their source (a pre-label keeps its dashes under it)"),
    (GHOST_MARK, "where a track's missing box would be (a track-gap or track-end finding clicked in the label "
                 "checks): the status bar says which keys fill it (I, V) or mark it absent (H)"),
    (LOCK_MARK, "cuboid of a locked class (Classes menu): drags and edit keys leave it as it is"),
)


def shortcut_markdown(ontology=None) -> str:
    """The shortcut, mouse, widget key, keyboard layout and outline tables as Markdown (pasted into docs/app.md)."""
    rows = list(SHORTCUTS) + (class_shortcuts(ontology) if ontology is not None else [])
    out = ["| keys | action | group |", "|---|---|---|"]
    for s in rows:
        keys = " or ".join(f"`{k}`" for k in s.keys).replace("|", "\\|")
        out.append(f"| {keys} | {s.description} | {s.group} |")
    out += ["", "| where | mouse | does |", "|---|---|---|"]
    out += [f"| {w} | {m} | {d} |" for w, m, d in MOUSE]
    out += ["", "| where | key | does |", "|---|---|---|"]
    out += [f"| {w} | `{k}` | {d} |" for w, k, d in LOCAL_KEYS]
    out += ["", "| layout-dependent keys | on every layout |", "|---|---|"]
    out += [f"| {k} | {d} |" for k, d in LAYOUT_NOTES]
    out += ["", "| outline | means |", "|---|---|"]
    out += [f"| {o} | {d} |" for o, d in OUTLINES]
    return "\n".join(out) + "\n"
