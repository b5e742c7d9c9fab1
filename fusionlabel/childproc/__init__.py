"""Long work in a child Python process (pre-labelling, label checks): the message format between
parent and child (:mod:`.messages`) and starting, feeding and stopping the child (:mod:`.process`).
Qt-free, and below ``assist`` and ``qa``, which both use it."""
