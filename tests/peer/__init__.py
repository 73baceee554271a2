"""Peer suites: other projects' own tests run against a served valuechain."""
