"""The Replicator backend: inside Kit, recording runs through ``omni.replicator.core`` (imports Kit)."""
