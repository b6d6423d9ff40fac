"""PURE neural validation scores: torch only, no Django."""
