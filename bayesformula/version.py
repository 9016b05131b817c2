"""The package version (one place; ``bayesformula.__version__`` and saved files read it)."""

__version__ = "0.2.0"
