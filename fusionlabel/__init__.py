"""fusionlabel: sensor-fusion (LiDAR + camera) 3D annotation toolkit.

Layers (imports point down only):
    geometry  <-  model  <-  io · store · assist · qa · render  <-  app (Qt) · cli
"""

__version__ = "0.1.0"
