"""How the views mark a cuboid, as names every view keys its own drawing by. Qt-free.

- :data:`OUTLINE_OF_STATE`: the outline of each pre-label state (``Session.prelabel_state``; None
  is no pre-label). ``qt_util.PEN_STYLES`` (bird's-eye and side views, the ? legend),
  ``projected_boxes.PATTERNS`` (cameras) and ``view3d.PATTERNS`` (3D view) draw these names.
"""

from __future__ import annotations

OUTLINE_OF_STATE = {None: "solid", "untouched": "dashed", "edited": "dash-dot"}
