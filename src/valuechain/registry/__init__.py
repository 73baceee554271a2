"""The registry of models, versions, lineage, systems and offers; channels write through ``releases``."""

from valuechain.registry import releases

__all__ = ["releases"]
