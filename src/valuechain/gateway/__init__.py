"""The OpenAI-compatible API channel: admission, serving, metering, request logs and usage reports."""

from valuechain.gateway.demo import seed_gateway_demo
from valuechain.gateway.state import GatewayState, build_gateway

__all__ = ["GatewayState", "build_gateway", "seed_gateway_demo"]
