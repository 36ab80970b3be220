"""Schemathesis against the app's own OpenAPI spec: no server errors (5xx other than an intentional 503).

Every operation but chat (it loads the base model; `python -m bench.fuzz` gives it a small budget), requests
that fit the schema and requests that break it, over a real service (Edge in a temp dir, the real Redis, the
packaged embedder). Parametrized by hand: schemathesis' `from_fixture` does not run under pytest 9.
"""

from __future__ import annotations

from collections import Counter

import pytest
from bench.fuzz import CHAT_SUFFIX, VARIANTS, fuzz_schema, run_operation
from memory_service.api import create_app
from memory_service.settings import Settings

pytestmark = pytest.mark.integration
EXAMPLES = 20  # per operation and variant

# building the app is cheap (routes only; the service starts in the lifespan), so collection stays fast
LABELS = [f"{method.upper()} {path}" for path, methods in create_app(Settings()).openapi()["paths"].items()
          for method in methods if not path.endswith(CHAT_SUFFIX)]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, redis_url, embedder):
    with fuzz_schema(tmp_path_factory.mktemp("fuzz"), redis_url, embedder) as target:
        yield target


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("label", LABELS)
def test_no_server_errors(api_schema, label, variant):
    schema, fixed = api_schema
    stats = {"cases": 0, "statuses": Counter(), "server_errors": 0}
    failures: list[dict] = []
    run_operation(schema.find_operation_by_label(label), EXAMPLES, variant, fixed, stats, failures, seed=0)
    assert stats["cases"] > 0 or variant == "invalid"  # GET /healthz has nothing to break
    assert stats["server_errors"] == 0, failures
