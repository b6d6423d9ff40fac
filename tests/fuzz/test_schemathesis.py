"""Schemathesis against the OpenAPI schema: every operation, as every principal, on a seeded database.

Each (principal, operation) pair is one test: Hypothesis draws requests from the operation's schema — valid ones
aimed at the seeded objects, valid ones with random path parameters, and ones that break the schema
(schemathesis' negative mode) — sends them in-process to the WSGI application, and checks two things about
every answer: it is not a server error (5xx), and a documented response matches its schema
(``not_a_server_error`` + ``response_schema_conformance``). Each request runs in a savepoint that is rolled back,
so every request meets the same seeded world.

Bounded for ``make test``: ``CRUCIBLE_FUZZ_EXAMPLES`` requests per pair (default 6), no deadline, derandomized
(the same requests every run, so the suite is not flaky). ``CRUCIBLE_FUZZ_RANDOM=1`` explores new inputs.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.authz.paths import openapi_document, path_parameters, schema_operations
from tests.authz.world import ANONYMOUS, PRINCIPALS, world  # noqa: F401  (the module-scoped seed)

EXAMPLES = int(os.environ.get("CRUCIBLE_FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("CRUCIBLE_FUZZ_RANDOM", "") == "1"
CHECKS = [not_a_server_error, response_schema_conformance]

SCHEMA = schemathesis.openapi.from_dict(openapi_document())
SCHEMA.app = get_wsgi_application()
OPERATIONS = schema_operations()
# Requests sent and statuses seen, by status class; written as JSON to CRUCIBLE_FUZZ_REPORT when set.
TALLY: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def fuzz_report():
    yield
    target = os.environ.get("CRUCIBLE_FUZZ_REPORT")
    if target:
        summary = {"operations": len(OPERATIONS), "principals": len(PRINCIPALS), "examples_per_pair": EXAMPLES,
                   "requests": sum(v for k, v in TALLY.items() if k.endswith("xx")), "by_status": dict(TALLY)}
        with open(target, "w") as handle:
            json.dump(summary, handle, indent=1, sort_keys=True)


@pytest.fixture(scope="module")
def in_process_requests():
    """Keep the test's transaction across requests: Django closes a connection that is inside a transaction at
    every request's start and end (``close_old_connections``); its own test client turns that off the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def strategy_for(operation, seeded_path: dict):
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if seeded_path:
        strategies.insert(0, operation.as_strategy(GenerationMode.POSITIVE, path_parameters=seeded_path))
    return st.one_of(strategies)


@pytest.mark.django_db
@pytest.mark.slow
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_answers_every_request_without_a_server_error_and_as_its_schema_says(
        world, in_process_requests, principal, method, path):  # noqa: F811
    operation = SCHEMA[path][method]
    headers = {} if principal == ANONYMOUS else {"Authorization": f"Token {world.tokens[principal]}"}
    seeded = path_parameters(world, path)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy_for(operation, seeded))
    def request_once(case):
        with transaction.atomic():
            try:
                response = case.call(headers=headers)
                TALLY[f"{response.status_code // 100}xx"] += 1
                case.validate_response(response, checks=CHECKS, headers=headers)
            finally:
                transaction.set_rollback(True)

    request_once()
