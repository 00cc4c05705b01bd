"""Recording on distributed engines (Ray, the ``[ray]`` extra); the only modules that import ``ray``."""
