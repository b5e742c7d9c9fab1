"""fusionlabel.assist.command_memo: a value over the commands in effect, built again exactly when
one of them is done, undone or redone, and never for commands of other descriptions."""

from __future__ import annotations

from fusionlabel.assist.command_memo import DoneCommandsMemo
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import Batch, CreateCuboid
from fusionlabel.model.document import Document
from fusionlabel.model.ontology import Ontology


def create(doc, x, description):
    cmd = CreateCuboid(0, CuboidLabel(Cuboid((x, 0, 0), (4, 2, 1.5)), "car"))
    return doc.apply(Batch((cmd,), description))


def test_the_value_follows_the_commands_in_effect_and_is_built_only_when_they_change():
    doc = Document(1, Ontology.default())
    builds = []

    def build(runs):
        builds.append(len(runs))
        return [cmd.description for cmd in runs]

    memo = DoneCommandsMemo(("Make", "Also"), build)
    assert memo(doc) == [] and memo(doc) == [] and builds == [0]
    create(doc, 0.0, "Make one")
    create(doc, 5.0, "Other")                 # not of the prefixes: no new build for it alone
    assert memo(doc) == ["Make one"] and builds == [0, 1]
    create(doc, 10.0, "Other")
    assert memo(doc) == ["Make one"] and builds == [0, 1]
    create(doc, 15.0, "Also two")
    assert memo(doc) == ["Make one", "Also two"] and builds == [0, 1, 2]
    doc.undo()
    assert memo(doc) == ["Make one"]
    doc.redo()
    assert memo(doc) == ["Make one", "Also two"] and builds == [0, 1, 2, 1, 2]
    assert memo(doc) == ["Make one", "Also two"] and len(builds) == 5   # asked again: kept
    doc.undo()
    create(doc, 20.0, "Also three")           # same count as before the undo, another command
    assert memo(doc) == ["Make one", "Also three"]
    assert memo(Document(1, Ontology.default())) == []   # one value per document
