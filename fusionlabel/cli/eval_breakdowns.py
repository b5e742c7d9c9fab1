"""`fusionlabel eval`'s breakdowns of the matched boxes: error components, distance bands and
attribute agreement, computed (:func:`add_breakdowns`) and written as text lines."""

from __future__ import annotations

from pathlib import Path


def _ontology(gt: Path):
    """The ground-truth project's ontology, or the built-in one (any other ground truth, or a
    project whose ontology file does not load)."""
    from ..model.ontology import Ontology, OntologyError
    from ..store.project import ONTOLOGY_NAME

    path = Path(gt) / ONTOLOGY_NAME
    if path.is_file():
        try:
            return Ontology.load(path)
        except OntologyError:
            pass
    return Ontology.default()


def add_breakdowns(report: dict, log, gt: Path, range_edges: tuple[float, ...] | None, details: bool) -> None:
    """Add ``box_errors``, ``range_bands`` (when ``range_edges``) and ``attributes`` (when any
    attribute was compared; with ``details`` also ``attribute_disagreements``) to ``report``."""
    from ..qa.attribute_agreement import attribute_agreement, declared_by
    from ..qa.box_errors import box_errors
    from ..qa.range_bands import range_bands

    report["box_errors"] = box_errors(log.pairs)
    if range_edges is not None:
        report["range_bands"] = range_bands(log, range_edges, report["settings"]["max_range"])
    rows: list | None = [] if details else None
    attributes = attribute_agreement(log.pairs, declared_by(_ontology(gt)), rows)
    if attributes is not None:
        report["attributes"] = attributes
        if details:
            report["attribute_disagreements"] = rows


def _mm(component: dict, digits: int) -> str:
    return f"{component['mean']:.{digits}f}/{component['median']:.{digits}f}"


def box_error_lines(errors: dict) -> list[str]:
    """A compact table of the error components by class (mean/median)."""
    if not errors:
        return []
    out = ["box errors of true positives (mean/median; size: 1 - IoU of the boxes aligned; heading mod 360):",
           f"  {'class':10s} {'n':>4s} {'centre m':>9s} {'along m':>9s} {'across m':>9s} {'up m':>9s} "
           f"{'size':>9s} {'heading deg':>11s}"]
    for cls, e in errors.items():
        out.append(f"  {cls:10s} {e['pairs']:4d} {_mm(e['centre_m'], 2):>9s} {_mm(e['along_m'], 2):>9s} "
                   f"{_mm(e['across_m'], 2):>9s} {_mm(e['vertical_m'], 2):>9s} {_mm(e['scale_error'], 2):>9s} "
                   f"{_mm(e['heading_deg'], 1):>11s}")
    return out


def range_band_lines(bands: list[dict]) -> list[str]:
    """One line per distance band: detection counts, precision, recall and the edit cost."""
    from .cmd_eval import _fmt as _f

    out = [f"by range: {'band m':>8s} {'gt':>4s} {'pred':>5s} {'tp':>4s} {'prec':>5s} {'rec':>5s}  {'create':>6s} "
           f"{'adjust':>6s} {'relabel':>7s} {'turn':>4s} {'delete':>6s} {'ok':>4s} {'ratio':>5s}"]
    for b in bands:
        out.append(f"          {b['band']:>8s} {b['gt']:4d} {b['predictions']:5d} {b['tp']:4d} {_f(b['precision'])} "
                   f"{_f(b['recall'])}  {b['creates']:6d} {b['adjustments']:6d} {b['relabels']:7d} {b['turns']:4d} "
                   f"{b['deletes']:6d} {b['accepted']:4d} {_f(b['ratio'])}")
    return out


def attribute_lines(attributes: dict, rows: list[dict] | None) -> list[str]:
    """Attribute agreement, one line per attribute with its commonest disagreements, then (with
    ``rows``) one line per disagreeing attribute."""
    out = ["attributes of true positives: agreeing/compared, disagreements as ground truth -> other side"]
    for name, a in attributes.items():
        confusions = ", ".join(f"{c['gt']} -> {c['pred']} {c['count']}" for c in a["confusions"])
        out.append(f"  {name:12s} {a['agreeing']:4d}/{a['compared']:<4d} ({100 * a['agreement']:.1f} %)"
                   f"{'  ' + confusions if confusions else ''}")
    if rows:
        out.append(f"attribute disagreements ({len(rows)}): frame, class, track, attribute, ground truth -> other side")
        for r in rows:
            out.append(f"  {r['frame']}  {r['class']} track {r['gt_track']} (other side {r['pred_track']})  "
                       f"{r['attribute']}: {r['gt']} -> {r['pred']}")
    return out
