"""Host-neutral core: imports only the standard library, numpy, pillow, pyyaml and pxr."""
