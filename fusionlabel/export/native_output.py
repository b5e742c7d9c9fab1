"""Output folders of the commands that write a native drive (``import``, ``simulate``).

Each run writes its drive into a hidden folder inside the folder and moves it in when complete
(:mod:`fusionlabel.export.staging`), with a manifest file (``fusionlabel_<tool>.json``) listing the
top-level names it writes. ``--force`` then replaces only an earlier run of the same tool: what its
manifest lists. Anything else in the folder is
never deleted: ``import`` refuses such a folder, naming what is in it; ``simulate`` writes beside
other files (a README next to the sample drive) but refuses one whose names are the drive's own
(``lidar/``, ``drive.yaml`` ... not from an earlier simulation), which would mix two drives.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..files import write_file
from .base import ExportError, _manifest_names, output_names
from .run_files import user_names
from .staging import check_out_path, staged_output

# Top-level names of a native drive (io/native.py's layout): what a native-drive tool writes.
NATIVE_NAMES = ("drive.yaml", "drive.yaml.tmp", "rig.yaml", "lidar", "cameras", "labels", "debug")


@dataclass(frozen=True)
class NativeOutput:
    """The output folder rules of one tool that writes native drives.

    Attributes:
        tool: the command's name (``import``): the manifest is ``fusionlabel_<tool>.json``.
        marker: the ``drive.yaml`` meta key by which an output from before the manifest is
            recognised (``imported_from``, ``generator``).
        keeps_others: ``--force`` writes beside other files (left in place) instead of refusing
            the folder; a file or folder named as the drive's own is refused all the same.
    """

    tool: str
    marker: str
    keeps_others: bool = False

    @property
    def manifest(self) -> str:
        return f"fusionlabel_{self.tool}.json"

    def earlier_names(self, out: Path) -> set[str]:
        """The top-level names in ``out`` that an earlier run of the tool wrote: those its
        manifest lists, or (outputs from before the manifest) the native layout's when drive.yaml's
        meta has :attr:`marker`; empty when ``out`` holds no such output."""
        from ..errors import InputError
        from ..files import parse_yaml

        if (out / self.manifest).is_file():
            return (_manifest_names(out / self.manifest, "written") or set(NATIVE_NAMES)) | {self.manifest}
        try:
            path = out / "drive.yaml"
            doc = parse_yaml(path.read_text(encoding="utf-8"), path)
        except (OSError, ValueError, InputError):
            return set()
        meta = doc.get("meta") if isinstance(doc, dict) else None
        return set(NATIVE_NAMES) if isinstance(meta, dict) and self.marker in meta else set()

    def names(self, out: Path, force: bool) -> tuple[set[str], set[str]]:
        """Export's :func:`~fusionlabel.export.base.output_names` with the tool's rules: a non-empty
        ``out`` is refused unless ``force``; with it, a folder holding anything but an earlier run's
        output is refused, naming it (a drive folder mixing two drives' files would be wrong without
        any error), except that :attr:`keeps_others` leaves other files beside the drive. Gives
        (the names an earlier run wrote, the others)."""
        out = Path(out)
        if force and out.is_dir():
            own = self.earlier_names(out)
            present = user_names(out)
            foreign = sorted(present - own)
            if self.keeps_others:   # beside them, never among them
                foreign = [name for name in foreign if name in NATIVE_NAMES or name == self.manifest]
            if foreign:
                shown = ", ".join(foreign[:10]) + (f" and {len(foreign) - 10} more" if len(foreign) > 10 else "")
                raise ExportError(out, f"holds {shown}, not written by an earlier fusionlabel {self.tool}; --force "
                                       f"replaces only an earlier {self.tool}: move them away or choose another "
                                       "folder", where="--out")
            return own & present, present - own
        others = "other files are kept" if self.keeps_others else "a folder holding other files is refused"
        return output_names(out, force, self.manifest, f"an earlier fusionlabel {self.tool} there is replaced; {others}")

    def check(self, out: Path, force: bool, source: Path | None = None) -> None:
        """Refuse ``out`` now, as :meth:`output` would (inside ``source``, a file, not empty without
        ``force``, holding other files), so that a long step before the writing (estimating ego
        poses) is not spent on a folder refused afterwards. :meth:`output` checks again, under the
        folder's lock."""
        check_out_path(Path(out), source)
        self.names(Path(out), force)

    @contextmanager
    def output(self, out: Path, force: bool, source: Path | None = None):
        """:func:`~fusionlabel.export.staging.staged_output` with the tool's rules (:meth:`names`):
        yields the folder to write the drive into, whose content replaces an earlier run's in
        ``out`` when the block ends normally; the manifest is written there last."""
        with staged_output(out, lambda folder: self.names(folder, force), self.manifest, source) as staged:
            yield staged.staging
            self.write_manifest(staged.staging, **({"source": str(source)} if source is not None else {}))

    def write_manifest(self, out: Path, **extra) -> None:
        """Mark ``out`` as written by the tool: its manifest lists the top-level names of the drive
        layout the run wrote there (what ``--force`` may remove later), never one it did not
        (``debug/`` without masks), which may be the user's."""
        written = [name for name in NATIVE_NAMES if (Path(out) / name).exists()]
        doc = {f"fusionlabel_{self.tool}": 1, "complete": True, "written": written, **extra}
        write_file(Path(out) / self.manifest, json.dumps(doc, indent=1) + "\n")


IMPORT_OUTPUT = NativeOutput("import", "imported_from")
SIMULATE_OUTPUT = NativeOutput("simulate", "generator", keeps_others=True)
