"""jobs_core: the library every Jobs service shares (keys, scripts, store, settings, logging)."""

__version__ = "1.0.0"
