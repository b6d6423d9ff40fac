"""End-to-end orchestration: real market data to a signed, verified submission packet.

``pipelines.services.run_pipeline`` runs the steps (``steps_setup``, ``stress``, ``steps_review``) with the
configuration of ``pipelines.settings``; ``manage.py demo`` and ``manage.py run_pipeline`` are its commands.
It sits above ``reports`` (which only renders) and calls the services of every app below it.
"""
