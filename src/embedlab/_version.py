"""The version of embedlab (its own module, so low layers can record it without importing the package root)."""

__version__ = "0.1.0"
