"""Offer terms and price plans, entitlements, the double-entry ledger, reservations and limits."""

from valuechain.market.terms import ApiTerms, FineTuningTerms, Limits, LoggingPolicy, PricePlan, parse_terms

__all__ = ["ApiTerms", "FineTuningTerms", "Limits", "LoggingPolicy", "PricePlan", "parse_terms"]
