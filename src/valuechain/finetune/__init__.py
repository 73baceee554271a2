"""Customer-specific models (issue 12): an OpenAI-compatible fine-tuning service on the provider's
machines — files and jobs on /v1, workers that train LoRA adapters, lineage and measured compute in the
registry, billing through the ledger."""

from valuechain.finetune.router import PATHS, router

__all__ = ["PATHS", "router"]
