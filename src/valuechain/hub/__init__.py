"""Open-weights release channel: a Hugging Face-compatible hub with licences, cards, gating and lineage."""

from valuechain.hub.app import create_hub_app, mount_hub
from valuechain.hub.demo import seed_hub_demo

__all__ = ["create_hub_app", "mount_hub", "seed_hub_demo"]
