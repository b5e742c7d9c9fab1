"""The desktop annotation app (PyQt6 + pyqtgraph): the only package that imports Qt.

Entry point: :func:`fusionlabel.app.main.run_app` (``fusionlabel open``). The Qt-free parts
(session, actions, box_edit, point_index, frame_data, shortcuts) import without Qt.
"""
