"""Command-line interface: `fusionlabel <command>`; one module per command (``cmd_*.py``)."""
