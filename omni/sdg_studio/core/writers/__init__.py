"""Host-neutral writers that turn annotator outputs into Replicator-compatible files."""
