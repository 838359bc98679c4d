"""The admin API's routes, called like Sanic calls them, on a real SQLite database and real in-memory
Rasa tracker and lock stores: the role matrix, tokens, the OpenAPI spec, FAQ editing, the handoff desk."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from sanic.compat import Header

from kefu.admin.accounts import AccountService
from kefu.admin.knowledge import FaqEditor
from kefu.admin.permissions import ROLE_PERMISSIONS, Role
from kefu.analytics.events import QUESTION_ASKED, make_event
from kefu.analytics.store import AnalyticsStore
from kefu.channels.admin import AdminInput
from kefu.channels.admin_routes import ENDPOINTS, openapi_spec
from kefu.db.accounts import AccountRepository
from kefu.db.handoffs import HandoffRepository
from kefu.db.verification import SqlAttemptStore
from kefu.security.conversation_access import InMemoryOwnerRegistry
from kefu.security.ratelimit import InMemoryRateLimiter
from kefu.security.verification import VerificationGuard
from tests.unit.channels.fakes import FakeProcessor

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "a-long-test-password"
SAMPLE_PARAMS = {
    "username": "someone",
    "topic": "shipping_fee",
    "handoff_id": 1,
    "session_id": "s-1",
    "lock_key": "order:LT2026110104",
}


class FakeAssistant:
    """Logs each message like Rasa and answers it, unless the conversation is paused."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()
        self.processor = FakeProcessor(self.tracker_store)

    def is_ready(self) -> bool:
        return True

    async def handle(self, message: UserMessage) -> None:
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(
            UserUttered(
                message.text,
                {"name": "faq", "confidence": 0.9},
                input_channel=message.input_channel,
                metadata=message.metadata,
            )
        )
        if not tracker.is_paused():
            tracker.update(BotUttered("满99元包邮。"))
            await message.output_channel.send_text_message(message.sender_id, "满99元包邮。")
        await self.tracker_store.save(tracker)


class CustomerChannel:
    """The customer's channel: collects what is delivered to them outside a request."""

    def __init__(self) -> None:
        self.output = CollectingOutputChannel()

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self):
        return self.output


class Api:
    def __init__(self, db_url: str, knowledge_dir: Path, limiter=None) -> None:
        self.assistant = FakeAssistant()
        self.customer_channel = CustomerChannel()
        self.accounts = AccountService(AccountRepository(db_url))
        self.handoffs = HandoffRepository(db_url)
        self.channel = AdminInput(
            accounts=self.accounts,
            faq=FaqEditor(knowledge_dir, reindex=None),
            handoffs=self.handoffs,
            limiter=limiter or InMemoryRateLimiter(clock=lambda: 1_000_030.0),  # no window ends mid-test
            bootstrap=False,
            database_url=db_url,
            verification=VerificationGuard(SqlAttemptStore(db_url)),
            owners=InMemoryOwnerRegistry(),
        )
        self.blueprint = self.channel.blueprint(self.assistant.handle)
        self.routes = {(r.uri, m): r.handler for r in self.blueprint._future_routes for m in r.methods}
        self.unknown = self.routes[("/<rest:path>", "GET")]
        self.app = SimpleNamespace(
            ctx=SimpleNamespace(agent=self.assistant, input_channels=[self.customer_channel, self.channel])
        )
        self.tokens: dict[str, str] = {}

    def token(self, role: str) -> str:
        if role not in self.tokens:
            username = f"{role}-user"
            self.accounts.create_user(username, PASSWORD, role)
            self.tokens[role] = self.accounts.login(username, PASSWORD).token
        return self.tokens[role]

    async def call(self, method, path, body=None, token=None, args=None, ip="10.0.0.1", **params):
        endpoint = next(e for e in ENDPOINTS if e.method == method and e.path == path)
        raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        headers = {"authorization": f"Bearer {token}"} if token else {}
        request = SimpleNamespace(
            body=raw, headers=Header(headers), app=self.app, args=args or {}, remote_addr=ip, path=path
        )
        answer = await self.routes[(endpoint.sanic_path, method)](request, **params)
        data = json.loads(answer.body) if answer.body else None
        return answer.status, data, answer.headers

    def params(self, path: str) -> dict:
        return {k: v for k, v in SAMPLE_PARAMS.items() if "{" + k + "}" in path}


@pytest.fixture
def knowledge_dir(tmp_path) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "faq.yml").write_text(
        (ROOT / "knowledge" / "faq.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return folder


@pytest.fixture
def api(db_url, knowledge_dir) -> Api:
    return Api(db_url, knowledge_dir)


# ---- the role matrix: every role against every endpoint, from the one permission table ----------
MATRIX = [
    (role, endpoint) for role in (*Role, None) for endpoint in ENDPOINTS if endpoint.permission is not None
]


@pytest.mark.parametrize(
    ("role", "endpoint"),
    MATRIX,
    ids=[f"{r.value if r else 'anonymous'}-{e.method}-{e.path}" for r, e in MATRIX],
)
async def test_role_matrix(api, role, endpoint):
    token = api.token(role.value) if role else None
    status, data, headers = await api.call(
        endpoint.method, endpoint.path, token=token, **api.params(endpoint.path)
    )
    if role is None:
        assert status == 401 and headers.get("WWW-Authenticate") == "Bearer"
    elif endpoint.permission in ROLE_PERMISSIONS[role]:
        assert status not in (401, 403, 500), data
    else:
        assert status == 403 and data["code"] == "forbidden"


async def test_a_bad_expired_or_revoked_token_is_401(api):
    token = api.token("admin")
    assert (await api.call("GET", "/auth/me", token="x" * 43))[0] == 401
    assert (await api.call("GET", "/auth/me", token=token))[0] == 200
    assert (await api.call("POST", "/auth/logout", token=token))[0] == 204
    assert (await api.call("GET", "/auth/me", token=token))[0] == 401


async def test_login(api):
    api.accounts.create_user("agent7", PASSWORD, "agent")
    status, data, _ = await api.call("POST", "/auth/login", {"username": "agent7", "password": PASSWORD})
    assert status == 200 and data["token_type"] == "bearer" and data["user"]["role"] == "agent"
    status, me, _ = await api.call("GET", "/auth/me", token=data["token"])
    assert me["username"] == "agent7" and "handoff_claim" in me["permissions"]
    for body in ({"username": "agent7", "password": "wrong-password"}, {}, b"[1]", b"{"):
        assert (await api.call("POST", "/auth/login", body))[0] in (400, 401)


async def test_login_is_rate_limited_per_ip_with_retry_after(api):
    for _ in range(api.channel.settings.login_rate_per_minute):
        await api.call("POST", "/auth/login", {"username": "x", "password": "y"}, ip="10.9.9.9")
    status, data, headers = await api.call(
        "POST", "/auth/login", {"username": "x", "password": "y"}, ip="10.9.9.9"
    )
    assert status == 429 and data["code"] == "rate_limited" and 1 <= int(headers["Retry-After"]) <= 60
    assert (await api.call("POST", "/auth/login", {"username": "x", "password": "y"}, ip="10.9.9.8"))[
        0
    ] == 401


async def test_other_requests_do_not_use_up_the_login_allowance(api):
    # Issue 13: eleven GETs of openapi.json from one address used to block that address's login.
    for _ in range(api.channel.settings.login_rate_per_minute + 1):
        assert (await api.call("GET", "/openapi.json", ip="10.9.9.7"))[0] == 200
    status, _, _ = await api.call("POST", "/auth/login", {"username": "x", "password": "y"}, ip="10.9.9.7")
    assert status == 401


# ---- the OpenAPI spec ----------------------------------------------------------------------------
def test_the_spec_lists_exactly_the_registered_routes_with_their_permissions(api):
    spec = yaml.safe_load((ROOT / "kefu" / "admin" / "openapi.yaml").read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.")
    documented = {
        (method.upper(), path, operation.get("x-permission"))
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    declared = {(e.method, e.path, e.permission.value if e.permission else None) for e in ENDPOINTS}
    assert documented == declared
    registered = {
        (method, route.uri)
        for route in api.blueprint._future_routes
        for method in route.methods
        if route.uri != "/<rest:path>"  # the JSON 404 for anything else
    }
    assert registered == {(e.method, e.sanic_path) for e in ENDPOINTS}


async def test_the_spec_is_served(api):
    status, data, _ = await api.call("GET", "/openapi.json")
    assert status == 200 and data == openapi_spec()


# ---- users ---------------------------------------------------------------------------------------
async def test_users_and_roles(api):
    admin = api.token("admin")
    status, created, _ = await api.call(
        "POST", "/users", {"username": "agent9", "password": PASSWORD, "role": "agent"}, token=admin
    )
    assert status == 201 and created["role"] == "agent"
    status, users, _ = await api.call("GET", "/users", token=admin)
    assert "agent9" in [u["username"] for u in users["users"]]
    status, changed, _ = await api.call(
        "PATCH", "/users/{username}", {"role": "customer"}, admin, username="agent9"
    )
    assert status == 200 and changed["role"] == "customer"
    status, gone, _ = await api.call("DELETE", "/users/{username}", token=admin, username="agent9")
    assert status == 200 and gone["active"] is False
    status, roles, _ = await api.call("GET", "/roles", token=admin)
    assert "delete_knowledge" in roles["admin"] and "delete_knowledge" not in roles["customer"]


# ---- knowledge -----------------------------------------------------------------------------------
async def test_faq_crud_writes_the_knowledge_file(api, knowledge_dir):
    admin = api.token("admin")
    entry = {
        "id": "gift_wrap",
        "question": "可以礼品包装吗",
        "answer": "可以，下单时备注即可。",
        "tags": ["服务"],
    }
    assert (await api.call("POST", "/knowledge/faq", entry, admin))[0] == 201
    assert (await api.call("POST", "/knowledge/faq", entry, admin))[0] == 409
    assert "gift_wrap" in (knowledge_dir / "faq.yml").read_text(encoding="utf-8")
    status, got, _ = await api.call(
        "GET", "/knowledge/faq/{topic}", token=api.token("customer"), topic="gift_wrap"
    )
    assert status == 200 and got["answer"] == entry["answer"]
    changed = {**entry, "answer": "可以，免费包装。"}
    assert (await api.call("PUT", "/knowledge/faq/{topic}", changed, admin, topic="gift_wrap"))[0] == 200
    assert (await api.call("GET", "/knowledge/faq/{topic}", token=admin, topic="gift_wrap"))[1][
        "answer"
    ] == "可以，免费包装。"
    assert (await api.call("DELETE", "/knowledge/faq/{topic}", token=admin, topic="gift_wrap"))[0] == 204
    assert (await api.call("GET", "/knowledge/faq/{topic}", token=admin, topic="gift_wrap"))[0] == 404
    assert (await api.call("POST", "/knowledge/faq", {"id": "x", "question": ""}, admin))[0] == 400
    for bad_id in ("a/b", "\x07bell", "运费", " padded", "x" * 65):
        bad = {**entry, "id": bad_id}
        assert (await api.call("POST", "/knowledge/faq", bad, admin))[0] == 400, bad_id


# ---- the handoff desk ----------------------------------------------------------------------------
async def _waiting_customer(api) -> int:
    customer = "web-customer-1"
    await api.assistant.handle(
        UserMessage("运费怎么算", CollectingOutputChannel(), customer, input_channel="socketio")
    )
    await api.assistant.handle(
        UserMessage("转人工", CollectingOutputChannel(), customer, input_channel="socketio")
    )
    return api.handoffs.create(customer, "request_human", [{"role": "customer", "text": "转人工"}]).id


async def test_an_agent_claims_replies_and_hands_back(api):
    handoff_id = await _waiting_customer(api)
    agent = api.token("agent")
    status, queue, _ = await api.call("GET", "/handoffs", token=agent)
    assert [h["id"] for h in queue["handoffs"]] == [handoff_id]
    status, detail, _ = await api.call("GET", "/handoffs/{handoff_id}", token=agent, handoff_id=handoff_id)
    assert [t["text"] for t in detail["transcript"] if t["role"] == "customer"] == ["运费怎么算", "转人工"]

    status, claimed, _ = await api.call(
        "POST", "/handoffs/{handoff_id}/claim", token=agent, handoff_id=handoff_id
    )
    assert status == 200 and claimed["claimed_by"] == "agent-user"
    assert (await api.call("POST", "/handoffs/{handoff_id}/claim", token=agent, handoff_id=handoff_id))[
        0
    ] == 409
    tracker = await api.assistant.tracker_store.retrieve("web-customer-1")
    assert tracker.is_paused()

    # While the agent holds the conversation the bot is quiet; the customer's message is recorded.
    await api.assistant.handle(
        UserMessage("我的快递丢了", CollectingOutputChannel(), "web-customer-1", input_channel="socketio")
    )
    body = {"text": "您好，我帮您查一下。"}
    status, _, _ = await api.call("POST", "/handoffs/{handoff_id}/reply", body, agent, handoff_id=handoff_id)
    assert status == 200
    delivered = [m["text"] for m in api.customer_channel.output.messages]
    assert delivered[-1] == "您好，我帮您查一下。" and "人工客服agent-user已接入" in delivered[0]

    status, detail, _ = await api.call("GET", "/handoffs/{handoff_id}", token=agent, handoff_id=handoff_id)
    assert [t["role"] for t in detail["transcript"][-2:]] == ["customer", "agent"]

    status, closed, _ = await api.call(
        "POST", "/handoffs/{handoff_id}/close", token=agent, handoff_id=handoff_id
    )
    assert status == 200 and closed["status"] == "closed"
    tracker = await api.assistant.tracker_store.retrieve("web-customer-1")
    assert not tracker.is_paused()
    out = CollectingOutputChannel()
    await api.assistant.handle(UserMessage("运费呢", out, "web-customer-1", input_channel="socketio"))
    assert out.messages  # the bot answers again


async def test_only_the_claiming_agent_replies(api):
    handoff_id = await _waiting_customer(api)
    api.accounts.create_user("agent-b", PASSWORD, "agent")
    other = api.accounts.login("agent-b", PASSWORD).token
    agent = api.token("agent")
    reply = {"text": "hi"}
    assert (await api.call("POST", "/handoffs/{handoff_id}/reply", reply, agent, handoff_id=handoff_id))[
        0
    ] == 409
    await api.call("POST", "/handoffs/{handoff_id}/claim", token=agent, handoff_id=handoff_id)
    assert (await api.call("POST", "/handoffs/{handoff_id}/reply", reply, other, handoff_id=handoff_id))[
        0
    ] == 409
    assert (await api.call("POST", "/handoffs/{handoff_id}/close", token=other, handoff_id=handoff_id))[
        0
    ] == 409
    assert (
        await api.call("POST", "/handoffs/{handoff_id}/reply", {"text": ""}, agent, handoff_id=handoff_id)
    )[0] == 400


# ---- sessions and search -------------------------------------------------------------------------
async def test_a_customer_uses_only_their_own_sessions(api):
    customer = api.token("customer")
    status, session, _ = await api.call("POST", "/sessions", token=customer)
    assert status == 201
    sid = session["session_id"]
    status, reply, _ = await api.call(
        "POST", "/sessions/{session_id}/messages", {"text": "运费怎么算"}, customer, session_id=sid
    )
    assert status == 200 and reply["messages"][0]["text"] == "满99元包邮。"
    status, got, _ = await api.call("GET", "/sessions/{session_id}", token=customer, session_id=sid)
    assert status == 200, got
    assert got["owner"] == "customer-user" and got["transcript"][0]["text"] == "运费怎么算"

    api.accounts.create_user("customer-b", PASSWORD, "customer")
    other = api.accounts.login("customer-b", PASSWORD).token
    assert (await api.call("GET", "/sessions/{session_id}", token=other, session_id=sid))[0] == 404
    assert (await api.call("POST", "/sessions/{session_id}/messages", {"text": "hi"}, other, session_id=sid))[
        0
    ] == 404
    assert (await api.call("GET", "/sessions/{session_id}", token=api.token("agent"), session_id=sid))[
        0
    ] == 200

    status, found, _ = await api.call(
        "GET", "/conversations/search", token=api.token("agent"), args={"q": "运费"}
    )
    assert status == 200 and {r["session_id"] for r in found["results"]} == {sid}

    assert (await api.call("DELETE", "/sessions/{session_id}", token=api.token("admin"), session_id=sid))[
        0
    ] == 204
    tracker = await api.assistant.tracker_store.retrieve(sid)
    assert tracker.latest_message.text is None or tracker.events[-1].type_name == "restart"


async def test_an_admin_session_forged_in_message_metadata_gives_no_access(api):
    """A customer who wrote ``admin_session`` into a conversation's metadata does not own it."""
    api.token("customer")
    forged = {"session_id": "victim-conversation", "owner": "customer-user", "created_at": "2026-11-21"}
    tracker = await api.assistant.tracker_store.get_or_create_tracker("victim-conversation")
    tracker.update(SlotSet("session_started_metadata", {"admin_session": forged}))
    tracker.update(UserUttered("我的订单", {"name": "query_order"}, metadata={"admin_session": forged}))
    await api.assistant.tracker_store.save(tracker)

    customer = api.tokens["customer"]
    sid = "victim-conversation"
    assert (await api.call("GET", "/sessions/{session_id}", token=customer, session_id=sid))[0] == 404
    sent = await api.call("POST", "/sessions/{session_id}/messages", {"text": "hi"}, customer, session_id=sid)
    assert sent[0] == 404
    status, got, _ = await api.call("GET", "/sessions/{session_id}", token=api.token("agent"), session_id=sid)
    assert status == 200 and got["owner"] is None  # staff see it, with no owner made up from metadata


async def test_an_oversized_body_is_413(api):
    status, error, _ = await api.call("POST", "/auth/login", b"{" + b" " * 70_000 + b"}")
    assert (status, error["code"]) == (413, "too_large")


# ---- analytics -----------------------------------------------------------------------------------
async def test_analytics_summary_for_staff_only(api, db_url):
    settings = api.channel.settings
    today = settings.now().date()
    event = make_event(
        QUESTION_ASKED, "turn-1", "sender-hash", settings.now(), settings.shop_timezone, {"intent": "faq"}
    )
    AnalyticsStore(db_url).save([event])
    for role in ("admin", "agent"):
        status, figures, headers = await api.call(
            "GET", "/analytics/summary", token=api.token(role), args={"days": "7"}
        )
        assert status == 200 and figures["days"] == 7 and figures["to"] == today.isoformat()
        assert figures["total"]["questions"] == 1 and headers["Cache-Control"] == "no-store"
    assert (await api.call("GET", "/analytics/summary", token=api.token("customer")))[0] == 403
    for days in ("0", "367", "x", "9" * 50, "-1"):
        status, data, _ = await api.call(
            "GET", "/analytics/summary", token=api.token("admin"), args={"days": days}
        )
        assert status == 400 and data["code"] == "bad_request"


async def test_a_malformed_handoff_id_or_an_unknown_path_is_a_json_404(api):
    agent = api.token("agent")
    for raw in ("abc", "0", "-1", "1.5", "9" * 40):
        status, data, _ = await api.call("GET", "/handoffs/{handoff_id}", token=agent, handoff_id=raw)
        assert status == 404 and data["code"] == "not_found", raw
    # the permission is checked first: nothing about the request is revealed to the wrong role
    assert (await api.call("GET", "/handoffs/{handoff_id}", token=api.token("customer"), handoff_id="x"))[
        0
    ] == 403
    assert (await api.call("GET", "/handoffs/{handoff_id}", handoff_id="x"))[0] == 401
    answer = await api.unknown(SimpleNamespace(), rest="knowledge/faq/a/b")
    assert answer.status == 404 and json.loads(answer.body)["code"] == "not_found"


# ---- the development admin ----------------------------------------------------------------------
def test_the_one_time_admin_password_goes_to_a_private_file_never_the_log(api, tmp_path, caplog, capfd):
    import dataclasses
    import logging
    import stat

    password_file = tmp_path / "var" / "admin-password.txt"
    api.channel.settings = dataclasses.replace(
        api.channel.settings,
        admin_bootstrap_password="",
        admin_password_file=password_file,
        env="development",
    )
    with caplog.at_level(logging.DEBUG):
        api.channel.bootstrap_admin()
    written = password_file.read_text(encoding="utf-8")
    password = written.split("One-time password: ")[1].split()[0]
    assert api.accounts.login("admin", password) is not None
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    captured = capfd.readouterr()
    assert password not in caplog.text + captured.out + captured.err
    assert str(password_file) in caplog.text


async def test_staff_see_verification_locks_and_an_admin_clears_one(api):
    guard = api.channel.verification
    for n in range(3):
        guard.failed("LT2026110104", [f"sender:attacker{n}"])
    status, data, _ = await api.call("GET", "/verification-locks", token=api.token("agent"))
    assert status == 200
    [lock] = data["locks"]
    assert lock["key"] == "order:LT2026110104" and lock["kind"] == "order" and lock["locks"] == 1
    assert 850 < lock["seconds_left"] <= 900
    token = api.token("admin")
    for key in ("order:LT2099999999", "nonsense", "order:"):
        assert (await api.call("DELETE", "/verification-locks/{lock_key}", token=token, lock_key=key))[
            0
        ] == 404
    assert (await api.call("DELETE", "/verification-locks/{lock_key}", token=token, lock_key=lock["key"]))[
        0
    ] == 204
    assert guard.check("LT2026110104", []).allowed
    assert (await api.call("GET", "/verification-locks", token=token))[1] == {"locks": []}
