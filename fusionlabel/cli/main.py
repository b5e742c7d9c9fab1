"""`fusionlabel` entry point: dispatches to the ``cmd_*`` modules and turns errors into one line."""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import FusionLabelError

# Each module defines register(subparsers) (which sets func=run) and run(args) -> int.
COMMAND_MODULES = ["render", "simulate"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fusionlabel", description="LiDAR + camera 3D annotation toolkit")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"fusionlabel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f".cmd_{name}", __package__)
        except ModuleNotFoundError as e:
            if e.name and e.name.endswith(f"cmd_{name}"):
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except FusionLabelError as e:
        print(f"fusionlabel: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fusionlabel: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
