"""Offer terms and price plans, entitlements, the double-entry ledger, reservations and limits."""

from valuechain.market.terms import ApiTerms, Limits, LoggingPolicy, PricePlan, parse_terms

__all__ = ["ApiTerms", "Limits", "LoggingPolicy", "PricePlan", "parse_terms"]
