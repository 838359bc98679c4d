"""Fuzzing the admin API from its own OpenAPI spec (schemathesis), against the real server.

Every operation of ``GET /admin/api/openapi.json`` gets valid and invalid requests generated from the
spec, sent with the token of each role (admin, agent, customer), with a forged token and with none:

- no 5xx (an unexpected error is a failed check, not a status to document);
- the status code is one the spec lists for the operation, the body is JSON and matches the schema
  of that status, the headers the spec declares are there;
- deny by default: a role without the operation's permission gets 403 whatever the request holds,
  a forged or missing token 401 (never the handler's 400 or 404: nothing is parsed before the check).

Bounded and repeatable: ``derandomize`` (the examples are a function of the test), no example
database, a fixed number of examples per operation, role and mode. The counts are printed and
written to ``tests/artifacts/fuzz_counts.json``.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kefu.admin.permissions import ROLE_PERMISSIONS, Role
from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
POSITIVE_EXAMPLES = 8  # per operation, each sent with every role's token
NEGATIVE_EXAMPLES = 5
PASSWORD = "fuzz-password-0123456789"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Accounts the fuzzer must not change under its own feet (a PATCH revokes their tokens).
PROTECTED_USERS = {"admin", "fuzz-admin", "fuzz-agent", "fuzz-customer"}


def write_counts(section: str, counts: dict) -> None:
    """Merges ``counts`` into ``tests/artifacts/fuzz_counts.json`` under ``section``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "fuzz_counts.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data[section] = counts
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")


def login(url: str, username: str, password: str) -> str:
    answer = requests.post(
        f"{url}/admin/api/auth/login", json={"username": username, "password": password}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


@pytest.fixture(scope="module")
def tokens(assistant) -> dict[str, str | None]:
    """A bearer token per role ("anonymous": none, "forged": a well-formed token nobody issued)."""
    admin = login(assistant.url, "admin", ADMIN_PASSWORD)
    tokens: dict[str, str | None] = {"anonymous": None, "forged": "f" * 43}
    for role in Role:
        username = f"fuzz-{role.value}"
        answer = requests.post(
            f"{assistant.url}/admin/api/users",
            json={"username": username, "password": PASSWORD, "role": role.value},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=30,
        )
        assert answer.status_code in (201, 409), answer.text
        tokens[role.value] = login(assistant.url, username, PASSWORD)
    # Something for the handoff endpoints to work on: a customer waiting for a human.
    assert assistant.texts("转人工", f"fuzz-{uuid.uuid4().hex}")
    return tokens


def permission_of(operation) -> str | None:
    return operation.definition.raw.get("x-permission")


def expected_denial(role: str, permission: str | None) -> int | None:
    """The status every request of ``role`` must get on an operation needing ``permission``, if any."""
    if permission is None:
        return None
    if role in ("anonymous", "forged"):
        return 401
    return None if permission in {p.value for p in ROLE_PERMISSIONS[Role(role)]} else 403


def skipped(operation, role: str) -> bool:
    # Logging out revokes the token the rest of the run uses; its own tests are in tests/unit.
    return (
        operation.method.upper() == "POST"
        and operation.path == "/auth/logout"
        and role in {r.value for r in Role}
    )


def accepted_by_design(case) -> bool:
    """True when the invalid part of a negative case is one the API accepts on purpose: its
    Authorization header (replaced by the role's valid token) or query parameters it does not know
    (ignored, as HTTP APIs do)."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    names = {getattr(data, "parameter", None)} | {m.parameter for m in getattr(data, "mutations", None) or []}
    if any(isinstance(n, str) and n.lower() == "authorization" for n in names):
        return True
    location = getattr(getattr(data, "parameter_location", None), "name", "")
    return location == "QUERY" and "additionalProperties" in (getattr(data, "description", "") or "")


class Fuzzer:
    """Sends each generated request once per role and checks every answer."""

    def __init__(self, base_url: str, tokens: dict[str, str | None]) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self.session = requests.Session()
        self.tried: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.failures: list[str] = []

    def check(self, operation, case, role: str, token: str | None, negative: bool) -> None:
        label = f"{operation.method.upper()} {operation.path}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.tried[f"{role} {label}"] += 1
        response = case.call(base_url=self.base_url, session=self.session, headers=headers, timeout=60)
        self.statuses[str(response.status_code)] += 1
        denial = expected_denial(role, permission_of(operation))
        expected = denial
        if expected is not None:
            # Invalid requests may break the credential itself (schemathesis negates the security
            # scheme too): then a role without the permission gets 401 rather than 403. Both deny.
            allowed = {expected, 401} if negative else {expected}
            assert response.status_code in allowed, (
                f"{role} {label}: expected {expected}, got {response.status_code} {response.text[:200]}"
            )
        # A role refused the operation is refused before its input is read: no rejection to check.
        checks = [*CHECKS, negative_data_rejection] if negative and expected is None else CHECKS
        if accepted_by_design(case):
            checks = CHECKS
        case.validate_response(response, checks=checks, headers=headers)

    def run(self, operation, mode, examples: int) -> None:
        label = f"{operation.method.upper()} {operation.path}"

        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # bounded: a failure is reported as found
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case) -> None:
            if (case.path_parameters or {}).get("username") in PROTECTED_USERS:
                return
            # The role's token is the only credential: schemathesis' own made-up bearer goes (and
            # call() adds the role's header to the case itself, so each role starts from a copy).
            generated = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            for role, token in self.tokens.items():
                if not skipped(operation, role):
                    case.headers = copy.deepcopy(generated)
                    self.check(operation, case, role, token, mode.is_negative)

        began = time.monotonic()
        try:
            fuzz()
        except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
            pass
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # schemathesis' FailureGroup too: report them all at the end
            self.failures.append(f"{label} ({mode.value}): {str(error)[:1500]}")
        self.seconds[label] += time.monotonic() - began


def test_the_admin_api_holds_against_its_own_spec(assistant, tokens, knowledge_topics):
    spec = requests.get(f"{assistant.url}/admin/api/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(spec)
    fuzzer = Fuzzer(f"{assistant.url}/admin/api", tokens)
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        fuzzer.run(operation, schemathesis.GenerationMode.POSITIVE, POSITIVE_EXAMPLES)
        fuzzer.run(operation, schemathesis.GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)

    counts = {
        "requests": sum(fuzzer.tried.values()),
        "operations": len(operations),
        "roles": list(tokens),
        "statuses": dict(sorted(fuzzer.statuses.items())),
        "seconds": round(time.monotonic() - started, 1),
        "per_role_operation": dict(sorted(fuzzer.tried.items())),
        "seconds_per_operation": {k: round(v, 1) for k, v in fuzzer.seconds.most_common()},
        "failures": len(fuzzer.failures),
    }
    write_counts("admin_api", counts)
    print(
        f"\nadmin API fuzz: {counts['requests']} requests over {counts['operations']} operations x "
        f"{len(tokens)} roles in {counts['seconds']}s; statuses {counts['statuses']}"
    )
    assert not fuzzer.failures, "\n\n".join(fuzzer.failures)


@pytest.fixture
def knowledge_topics(assistant, tokens):
    """Removes the FAQ topics the fuzzer created, so that later tests see the shop's knowledge."""
    url = f"{assistant.url}/admin/api/knowledge/faq"
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    before = {e["id"] for e in requests.get(url, headers=headers, timeout=30).json()["faq"]}
    yield before
    after = {e["id"] for e in requests.get(url, headers=headers, timeout=30).json()["faq"]}
    for topic in after - before:
        answer = requests.delete(f"{url}/{requests.utils.quote(topic, safe='')}", headers=headers, timeout=60)
        assert answer.status_code == 204, (topic, answer.text)
    now = {e["id"] for e in requests.get(url, headers=headers, timeout=30).json()["faq"]}
    assert now == before
