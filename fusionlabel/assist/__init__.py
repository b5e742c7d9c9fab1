"""Model-assisted pre-labelling, headless: detect, fit, track, interpolate, propagate.

- :mod:`.detector` — the :class:`Detector` interface and :func:`make_detector` ("builtin",
  "onnx:PATH", "predictions:PATH");
- :mod:`.builtin` — the geometric detector (:mod:`.ground`, :mod:`.cluster`, :mod:`.boxfit`,
  :mod:`.classify`, with the point statistics of :mod:`.features`);
- :mod:`.onnx_detector` — any exported network behind a documented input/output contract, its
  settings checked by :mod:`.onnx_settings`;
- :mod:`.predictions` — detector output files (KITTI with score, nuScenes results JSON);
- :mod:`.fit` — one-click box from a seed point and auto-fit of a rough box;
- :mod:`.tracker`, :mod:`.interpolate`, :mod:`.propagate` — tracks over a sequence;
- :mod:`.prelabel` — run it all over a drive and write pre-labels beside human work;
- :mod:`.edit_assist` — the same as undoable document commands, for the app's keys, with
  :mod:`.keyframes` (the boxes I interpolates between) and :mod:`.prelabel_project` (which
  pre-labels the annotator edited), both kept over the command log by :mod:`.command_memo`;
- :mod:`.detect_process` — a detector over many frames in a child process (the app's background run);
  the message format between the two and the child process plumbing are in
  :mod:`fusionlabel.childproc`, shared with the label checks.
"""
