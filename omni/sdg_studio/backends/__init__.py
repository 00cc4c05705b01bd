"""Render backends: ``embedded`` (usd-core + ray caster, default) and ``replicator`` (Kit only)."""
