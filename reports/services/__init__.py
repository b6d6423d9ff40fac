"""reports services: documentation PDFs, submission packets, the end-to-end pipeline."""
