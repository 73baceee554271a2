"""Shared pieces of our REST surface (/api/v1): error envelope, dependencies, limits."""
