"""Governance: pseudonymisation (and, in later issues, audit log and privacy budget)."""
