"""The one place the version lives (pyproject reads it; ``netfence init`` pins it)."""

__version__ = "0.1.0"
