"""Audit event types of oversight: misuse rules, suspensions, throttles and reinstatements."""

from __future__ import annotations

from valuechain.core.events import EventType, Payload, declare


class RulePayload(Payload):
    name: str
    kind: str
    action: str


class SuspensionPayload(Payload):
    suspension: str
    kind: str


class ReinstatePayload(Payload):
    """The suspensions lifted (recorded as the state before)."""

    suspensions: list[str]


misuse_rule_create = EventType("misuse_rule.create", "misuse_rule", "A misuse rule was created.", RulePayload)
_CUT_OFF = [
    EventType(f"{subject}.{kind}", subject, f"A provider {verb} an {noun} on its offers.", SuspensionPayload)
    for subject, noun in (("org", "organisation"), ("key", "API key"))
    for kind, verb in (("suspend", "suspended"), ("throttle", "throttled"))
]
_REINSTATE = [
    EventType(
        f"{subject}.reinstate", subject, f"A provider lifted its suspensions of an {noun}.", ReinstatePayload
    )
    for subject, noun in (("org", "organisation"), ("key", "API key"))
]

declare("oversight", misuse_rule_create, *_CUT_OFF, *_REINSTATE)
