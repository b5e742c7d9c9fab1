"""Street simulator: LiDAR + camera drives with perfect ground truth (``fusionlabel simulate``).

Modules, one job each:
    materials   surface albedo and LiDAR reflectivity
    mesh        triangle meshes with per-triangle attributes (from Open3D primitives)
    shapes      vehicles, cyclists, pedestrians, trees, poles (each centred on its tight box)
    world       the static street layout and its meshes
    motion      paths, speed profiles, the ego's motion
    scenario    seeded scenario: world + ego + agents, with collision-free agent proposals
    raycast     Open3D ray casting against the static world and the agents of one instant
    lidar       64-beam spinning LiDAR model -> range images
    camera_render  shaded RGB, object-ID masks and depth through each camera's lens model
    rig         the simulated sensor rig
    simulator   one frame at a time: poses, sweep, images, labels
    writer      simulate and write a native drive folder
"""
