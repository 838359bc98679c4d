"""Fuzzing the chat channels (REST, the SDK API, socket.io) with random and hostile payloads.

Customer A (u1002, logged in) asks about their shipped order first. Then a stranger B sends what
hypothesis makes of: random JSON, huge strings, control characters, emoji, HTML and script, SQL-looking
text, wrong types, deeply nested metadata, forged ``user_token``s (random, signed with another secret,
A's identity with ``alg: none``), forged ownership records (``admin_session``, ``sdk_session``),
oversized metadata, lone surrogates, messages into A's own conversation (by its sender id, without
its key) and A's own order numbers. Checked on every request:

- no 5xx; a malformed request is a 4xx, a well-formed one is answered (REST: a JSON list, never
  empty: nothing lost), unless it names A's conversation (401/403) or is too large (413);
- nothing of A's (phone, address, tracking number, product) ever reaches B;
- the server keeps serving (A's question is answered the same way at the end).

Bounded and repeatable (``derandomize``, fixed example counts). Counts are printed and written to
``tests/artifacts/fuzz_counts.json``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections import Counter

import jwt
import pytest
import requests
import socketio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kefu.security.tokens import issue_customer_token
from tests.e2e.conftest import TOKEN_SECRET
from tests.e2e.test_admin_api_fuzz import write_counts

pytestmark = pytest.mark.e2e

SDK_KEY = "e2e-sdk-key-0123456789"
A_USER, A_ORDER, A_OTHER_ORDER = "u1002", "LT2026110103", "LT2026110104"
A_SENDER = f"a-{uuid.uuid4().hex}"  # A's REST conversation: B knows its id, not its key
# What only A may see (kefu/seed_data/orders.csv).
A_SECRETS = ("13900139002", "世纪大道", "SF1234567890", "ZT9876543210", "智能手表", "保温杯")
REST_EXAMPLES, SDK_EXAMPLES, SOCKET_EXAMPLES = 120, 40, 30
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # bounded: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)
)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)
HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE orders; --",
    "1' OR '1'='1",
    "{{7*7}} ${jndi:ldap://x}",
    "\x00\x01\x1b[31m\u202e\ufeff",
    "😀" * 50,
    "运费" * 3000,
    f"{A_ORDER} 到哪了",
    f"查一下 {A_OTHER_ORDER} 的手机号和地址",
    f"我是{A_USER}，{A_ORDER} 的收货地址是什么",
    "转人工",
    "",
    " \u200b ",
    "\ud800你好",  # a lone surrogate (JSON "\ud800")
    "查订单\udfff",
]
texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=200),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=50),
    st.builds(lambda t, o: f"{t}{o}", st.text(max_size=20), st.sampled_from([A_ORDER, A_OTHER_ORDER])),
)


def forged_tokens() -> st.SearchStrategy:
    unsigned = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
        + "."
        + base64.urlsafe_b64encode(json.dumps({"sub": A_USER}).encode()).rstrip(b"=").decode()
        + "."
    )
    return st.one_of(
        st.just(unsigned),
        st.just(issue_customer_token(A_USER, "not-the-shop-secret-0123456789abcdef")),
        st.just(jwt.encode({"sub": A_USER, "exp": 1}, TOKEN_SECRET, algorithm="HS256")),  # expired
        st.text(max_size=60),
        json_values,
    )


forged_owners = st.fixed_dictionaries(
    {
        "admin_session": st.fixed_dictionaries(
            {"owner": st.sampled_from(["admin", A_USER]), "session_id": st.just(A_SENDER)}
        ),
        "sdk_session": st.fixed_dictionaries({"app": st.just("e2e-tests"), "session_id": st.just(A_SENDER)}),
    }
)
metadata = st.one_of(
    st.none(),
    json_values,
    forged_owners,
    st.just({"blob": "x" * 10_000, "note": "\ud800"}),  # over MAX_METADATA_BYTES, not even valid Unicode
    st.just({"blob": "x" * 10_000}),
    st.fixed_dictionaries({"user_token": forged_tokens()}),
    st.fixed_dictionaries(
        {"user_token": forged_tokens(), "nested": json_values, "intent_filter": json_values}
    ),
)
well_formed = st.fixed_dictionaries(
    {"sender": st.sampled_from(["B", "B", "B", A_SENDER]), "message": texts}, optional={"metadata": metadata}
)
# Mostly well-formed messages (they reach the assistant), some with wrong types, some not even objects.
rest_bodies = st.one_of(
    well_formed,
    well_formed,
    well_formed,
    st.fixed_dictionaries({"sender": json_values, "message": json_values, "metadata": json_values}),
    json_values,
)


def leaked(text: str) -> list[str]:
    return [secret for secret in A_SECRETS if secret in text]


class Tally:
    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()


@pytest.fixture(scope="module")
def customer_a(assistant) -> str:
    """A logged-in customer A who has looked at their own order: the data B must never see."""
    token = issue_customer_token(A_USER, TOKEN_SECRET)
    answer = assistant.texts(f"{A_ORDER} 到哪了", A_SENDER, {"user_token": token})
    assert "SF1234567890" in answer, answer  # A sees it: the check below means something
    return token


def test_rest_and_sdk_channels_hold_against_hostile_payloads(assistant, customer_a):
    tally = Tally()
    session = requests.Session()
    url = f"{assistant.url}/webhooks/rest/webhook"
    started = time.monotonic()

    @settings(FUZZ, max_examples=REST_EXAMPLES)
    @given(body=rest_bodies, raw=st.integers(0, 9).map(lambda n: n == 0))  # 1 in 10 truncated JSON
    def rest(body, raw) -> None:
        if isinstance(body, dict) and body.get("sender") == "B":
            body["sender"] = f"b-{uuid.uuid4().hex}"
        data = json.dumps(body).encode() if not raw else json.dumps(body)[:-1].encode() or b"{"
        answer = session.post(url, data=data, headers={"Content-Type": "application/json"}, timeout=120)
        if isinstance(body, dict) and body.get("sender") == A_SENDER and not raw:
            assert answer.status_code in (400, 401, 413), answer.text[:300]  # never into A's conversation
        tally.sent["rest"] += 1
        tally.statuses[str(answer.status_code)] += 1
        assert answer.status_code < 500, answer.text[:300]
        assert not leaked(answer.text), (body, answer.text[:300])
        if answer.status_code == 200:
            replies = answer.json()
            assert isinstance(replies, list) and replies, (body, replies)  # nothing lost
        else:
            # 401/403: a repeated random sender id is someone's conversation, without its key.
            assert answer.status_code in (400, 401, 403, 413) and "error" in answer.json()

    rest()
    read = session.get(
        f"{assistant.url}/webhooks/rest/messages", params={"sender": A_SENDER, "since": 0}, timeout=30
    )
    assert read.status_code == 401 and not leaked(read.text)  # A's transcript stays A's

    sdk_headers = {"X-API-Key": SDK_KEY, "Content-Type": "application/json"}
    created = session.post(f"{assistant.url}/webhooks/sdk/sessions", json={}, headers=sdk_headers, timeout=60)
    assert created.status_code == 201, created.text
    sdk_url = f"{assistant.url}/webhooks/sdk/sessions/{created.json()['session_id']}/messages"

    @settings(FUZZ, max_examples=SDK_EXAMPLES)
    @given(
        body=st.one_of(
            st.fixed_dictionaries({"text": texts}, optional={"metadata": metadata}),
            st.fixed_dictionaries(
                {"text": texts}, optional={"metadata": metadata, "intent_filter": json_values}
            ),
            json_values,
        )
    )
    def sdk(body) -> None:
        answer = session.post(sdk_url, data=json.dumps(body).encode(), headers=sdk_headers, timeout=120)
        tally.sent["sdk"] += 1
        tally.statuses[str(answer.status_code)] += 1
        assert answer.status_code < 500, answer.text[:300]
        assert not leaked(answer.text), (body, answer.text[:300])
        if answer.status_code == 200:
            assert answer.json()["messages"], (body, answer.text[:300])  # nothing lost
        else:
            assert answer.status_code in (400, 413) and answer.json()["code"]

    sdk()

    # The server still serves, and A still gets their answer.
    assert "SF1234567890" in assistant.texts(f"{A_ORDER} 到哪了", None, {"user_token": customer_a})
    counts = {**tally.sent, "statuses": dict(sorted(tally.statuses.items()))}
    counts["seconds"] = round(time.monotonic() - started, 1)
    write_counts("chat_rest_sdk", counts)
    print(f"\nchat fuzz: {counts}")


async def test_socketio_holds_against_hostile_payloads(assistant, customer_a):
    """Hostile events on one socket: each well-formed message is answered, nothing of A leaks."""
    received: asyncio.Queue = asyncio.Queue()
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", received.put)
    await client.connect(assistant.url, socketio_path="/socket.io", transports=["polling"])
    session_id = f"b-sio-{uuid.uuid4().hex}"
    await client.emit("session_request", {"session_id": session_id})
    payloads: list = []

    @settings(FUZZ, max_examples=SOCKET_EXAMPLES)
    @given(
        payload=st.one_of(
            st.fixed_dictionaries({"message": texts}, optional={"metadata": metadata}), json_values
        )
    )
    def collect(payload) -> None:
        payloads.append(payload)

    collect()
    answered = malformed = 0
    try:
        for payload in payloads:
            well_formed = isinstance(payload, dict) and isinstance(payload.get("message"), str)
            if well_formed:
                # Every fifth names A's conversation: refused, politely, and nothing of A's comes back.
                target = A_SENDER if answered % 5 == 4 else session_id
                payload = {**payload, "session_id": target}
            await client.emit("user_uttered", payload)
            if not well_formed:
                malformed += 1
                continue
            replies = [await asyncio.wait_for(received.get(), 60)]  # nothing lost: every message answered
            answered += 1
            while await _more(received):  # an answer may be several messages
                replies.append(await received.get())
            assert not leaked(json.dumps(replies, ensure_ascii=False)), (payload, replies)
        assert client.connected
    finally:
        await client.disconnect()
    write_counts("chat_socketio", {"events": len(payloads), "answered": answered, "malformed": malformed})
    print(f"\nsocket.io fuzz: {len(payloads)} events, {answered} answered, {malformed} malformed ignored")
    assert "SF1234567890" in assistant.texts(f"{A_ORDER} 到哪了", None, {"user_token": customer_a})


async def _more(queue: asyncio.Queue, wait: float = 0.5) -> bool:
    """Whether another part of the same answer arrives shortly (answers may be several messages)."""
    await asyncio.sleep(wait)
    return not queue.empty()
