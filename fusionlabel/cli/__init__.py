"""Command-line interface: `fusionlabel <command>`; one module per command (``cmd_*.py``), and the
with the wording they share with the app in ``fusionlabel.wording``."""
