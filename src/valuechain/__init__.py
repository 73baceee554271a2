"""valuechain: keep the value chain of general-purpose AI accountable."""

__version__ = "0.1.0"
