"""Command-line interface: `fusionlabel <command>`; one module per command (``cmd_*.py``), and the
wording they share (``wording.py``)."""
