"""The name of the manifest file every fusionlabel export writes into its folder: the exporters
write it (:mod:`fusionlabel.export.base`), ``eval`` and the other readers of exports look for it
(:mod:`fusionlabel.qa.export_labels`), so both import it from here, below either."""

MANIFEST = "fusionlabel_export.json"
