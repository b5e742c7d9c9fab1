"""Command-line interface: `fusionlabel <command>`; one module per command (``cmd_*.py``). The
wording they share with the app is in ``fusionlabel.wording``."""
