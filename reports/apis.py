"""reports apis."""
