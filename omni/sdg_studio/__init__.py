"""SDG Studio: semantic labeling, recording and annotator visualization for Replicator.

The package is importable without Kit: only ``omni.sdg_studio.kit`` and
``omni.sdg_studio.backends.replicator`` import ``omni.*`` or ``carb``.
"""

__version__ = "0.1.0"
