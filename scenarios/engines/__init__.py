"""PURE scenario engines: torch/numpy only, one file per algorithm, no Django."""
