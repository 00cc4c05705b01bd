"""Annotator visualizer core: colorizers, overlays, legends, grid layout and dataset readers (numpy + pillow)."""
