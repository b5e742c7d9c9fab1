"""``python -m fusionlabel ...``: the same command line as the ``fusionlabel`` script."""

import sys

from .cli.main import main

sys.exit(main())
