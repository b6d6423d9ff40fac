"""The end-to-end pipeline's parts; ``reports.services.pipeline`` runs them (see its docstring)."""
