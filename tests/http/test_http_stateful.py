"""Schemathesis' stateful mode against a real server: sequences of calls, 0 server errors.

The stateless run (test_http_schemathesis.py) sends one generated request at a time; here
schemathesis chains them along the links it infers from the OpenAPI document (an id or
name one answer returns is used in the next request: create a group, then add a member to
it, then delete it ...), so that requests meet the state earlier ones made. Every answer
must be no 5xx. Bounded: a few scenarios of a few steps; the seed of the run is
``fuzz_seed.SEED`` (printed in pytest's header).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, cast

import pytest
import schemathesis
from http_builders import running_server, seed_for_fuzzing
from hypothesis import HealthCheck, seed, settings

from fuzz_seed import SEED
from infobarrier.http.app import create_app
from infobarrier.service.wiring import Services
from live_server import LiveServer

OPENAPI = create_app(cast(Services, None)).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)
schema.config.update(parameters={"path.tenant": "abc"}, request_timeout=30)

Base = schema.as_state_machine()


class Workflow(Base):  # type: ignore[misc,valid-type]
    """Calls as the admin of tenant ``abc``; only a server error fails a step."""

    base_url: ClassVar[str] = ""
    headers: ClassVar[dict[str, str]] = {}

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {"base_url": self.base_url, "headers": self.headers}

    def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
        case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])


@pytest.fixture(scope="module")
def stateful_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(tmp_path_factory.mktemp("stateful"), seed=seed_for_fuzzing) as server:
        yield server


def test_chained_calls_never_get_a_server_error(stateful_server: LiveServer) -> None:
    Workflow.base_url = stateful_server.base
    Workflow.headers = {"Authorization": f"Bearer {stateful_server.tokens[('abc', 'admin')]}"}
    seed(SEED)(Workflow)  # the state-machine runner reads the seed from the class
    Workflow.run(
        settings=settings(
            max_examples=5,
            stateful_step_count=5,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
