"""The desktop annotation app (PyQt6 + pyqtgraph): the only package that imports Qt.

Entry point: :func:`fusionlabel.app.main.run_app` (``fusionlabel open``). The Qt-free parts
(session, actions, box_edit, point_index, frame_data, shortcuts) import without Qt.
"""

import os as _os

# The GUI thread and the frame loader share the cores with numba's OpenMP workers: idle workers
# must sleep rather than spin, or they slow the GUI and each other down (measured: cold frame
# jumps 185 -> 160 ms on the sample drive, far more when other processes load the machine).
# Read by OpenMP when it starts, i.e. on the first parallel projection; users may override it.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
