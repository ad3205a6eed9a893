"""Prompt attributes: pools for SURF, extraction for the TURF index."""
