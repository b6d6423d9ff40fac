"""Server-rendered pages, one module per audience (see portal/urls.py)."""
