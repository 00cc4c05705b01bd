"""usd-core ships no type information: every pxr module is typed as Any (see typings/README.md)."""
