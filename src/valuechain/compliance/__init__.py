"""Accountability engine: chain facts → regime rules (packs as data) → obligations, documents and AI-BOMs.

The engine itself touches no database and no HTTP; ``service`` and ``router`` connect it to the registry.
"""

from valuechain.compliance.bom import build_bom, validate_bom
from valuechain.compliance.documentation import Document, build_document
from valuechain.compliance.engine import Change, Diff, Engine, Evaluation, Obligation, evaluate
from valuechain.compliance.facts import ChainFacts, facts_from_manifest
from valuechain.compliance.neutrality import NeutralityReport, neutrality
from valuechain.compliance.pack import Regime, load_regime
from valuechain.compliance.rendering import render
from valuechain.compliance.whatif import whatif

__all__ = [
    "ChainFacts",
    "Change",
    "Diff",
    "Document",
    "Engine",
    "Evaluation",
    "NeutralityReport",
    "Obligation",
    "Regime",
    "build_bom",
    "build_document",
    "evaluate",
    "facts_from_manifest",
    "load_regime",
    "neutrality",
    "render",
    "validate_bom",
    "whatif",
]
