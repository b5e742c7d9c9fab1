"""What a drive and an annotation are: rig, drive, frames, labelled cuboids."""
