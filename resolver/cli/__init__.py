"""The ``lienhop`` command line (entry point ``resolver.cli:main``)."""

from resolver.cli.main import main

__all__ = ["main"]
