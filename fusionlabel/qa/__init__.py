"""Label quality: detection metrics and edit cost (:mod:`.detection`), tracking metrics (:mod:`.mot`)."""
