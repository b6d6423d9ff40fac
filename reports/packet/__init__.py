"""The submission packet's pure parts: deterministic zip writing, the manifest, the offline verifier.

Nothing here imports Django: ``verify.py`` is shipped inside every packet and must run with the
Python standard library alone.
"""
