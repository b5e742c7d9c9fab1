"""Label quality: detection metrics and edit cost (:mod:`.detection`), tracking metrics (:mod:`.mot`);
drive checks: calibration, ego poses and capture times (:mod:`.drive_check`, ``fusionlabel check``)."""
