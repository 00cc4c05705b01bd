"""Subcommands of ``sdg-studio``; each module exposes ``register(app)``."""
