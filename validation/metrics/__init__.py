"""PURE validation metrics: numpy/scipy/statsmodels only; no Django, no torch."""
