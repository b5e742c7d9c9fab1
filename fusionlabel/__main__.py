"""``python -m fusionlabel ...``: the same command line as the ``fusionlabel`` script."""

import sys

from .cli.main import main

if __name__ == "__main__":      # importing the module (as the layer test does) runs nothing
    sys.exit(main())
