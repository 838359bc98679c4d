"""The production runtime, live: two Rasa servers sharing one Redis, and the faults they must survive.

One set of servers for the whole module (starting Rasa is heavy): an action server on a MariaDB
database reached through a proxy the tests can cut, and two Rasa servers (instances A and B, same
model, different ports) keeping conversations in the module's own Redis under a key prefix of its own.
Rasa's HTTP API is on with a token so the tests can read the trackers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from kefu.security.conversation_access import KEY_HEADER
from kefu.security.tokens import issue_customer_token
from tests.e2e.conftest import MODEL, ROOT, SHOP_TODAY, TOKEN_SECRET, _stop
from tests.integration.runtime.conftest import PrivateRedis, TcpProxy
from tests.processes import free_port, wait_until_ready

pytestmark = pytest.mark.integration

API_TOKEN = "runtime-test-api-token"
APOLOGY = "非常抱歉"  # the start of every apology the customer gets when a service is down


@dataclass
class Runtime:
    """The running servers and the services behind them."""

    urls: list[str]
    redis: PrivateRedis
    database: TcpProxy
    key_prefix: str
    env: dict[str, str]
    logs: Path
    action_port: int
    actions: subprocess.Popen | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)
    # The conversation keys the servers issued, by sender: a client keeps them, whichever instance
    # it reaches next (the owners are in the shared Redis).
    keys: dict[str, str] = field(default_factory=dict)

    def start_actions(self) -> None:
        self.actions = _spawn(
            [
                sys.executable,
                "-m",
                "kefu.action_server",
                "--actions",
                "actions",
                "--port",
                str(self.action_port),
            ],
            self.env,
            self.logs / "actions.log",
        )
        wait_until_ready(f"http://127.0.0.1:{self.action_port}/health", self.actions, "the action server")

    def stop_actions(self) -> None:
        if self.actions is not None:
            _stop(self.actions)

    def say(self, instance: int, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        body: dict = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        headers = {KEY_HEADER: self.keys[sender]} if sender in self.keys else {}
        response = requests.post(
            f"{self.urls[instance]}/webhooks/rest/webhook", json=body, headers=headers, timeout=120
        )
        response.raise_for_status()
        if KEY_HEADER in response.headers:
            self.keys[sender] = response.headers[KEY_HEADER]
        return response.json()

    def texts(self, instance: int, sender: str, text: str, metadata: dict | None = None) -> str:
        return "\n".join(m["text"] for m in self.say(instance, sender, text, metadata) if m.get("text"))

    def events(self, sender: str, instance: int = 0) -> list[dict]:
        response = requests.get(
            f"{self.urls[instance]}/conversations/{sender}/tracker",
            params={"token": API_TOKEN, "include_events": "ALL"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["events"]


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


@pytest.fixture(scope="module")
def runtime(private_redis, mariadb_database, tmp_path_factory) -> Iterator[Runtime]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train`")
    work = tmp_path_factory.mktemp("runtime")
    logs = work / "logs"
    logs.mkdir()
    database_url = make_url(mariadb_database)
    proxy = TcpProxy((database_url.host or "127.0.0.1", database_url.port or 3306))
    proxy.restore()
    key_prefix = f"rt{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SHOP_TODAY": SHOP_TODAY,
        "CUSTOMER_TOKEN_SECRET": TOKEN_SECRET,
        "DATABASE_URL": database_url.set(port=proxy.port).render_as_string(hide_password=False),
        "REDIS_URL": private_redis.url,
        "REDIS_KEY_PREFIX": key_prefix,
        "RABBITMQ_URL": "",
        "ANALYTICS_SPOOL_PATH": str(work / "analytics-spool.sqlite3"),  # not the project's var/
        "CHAT_RATE_PER_MINUTE": "1000",  # the tests send faster than a customer types
    }
    index = ROOT / "var" / "index"
    if index.is_dir():
        env["KB_INDEX_DIR"] = str(index)  # reuse the embeddings `make index` built; read only
    subprocess.run([sys.executable, "-m", "kefu.db.seed"], cwd=ROOT, env=env, check=True)
    action_port = free_port()
    env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{action_port}/webhook"
    ports = [free_port(), free_port()]
    runtime = Runtime(
        [f"http://127.0.0.1:{p}" for p in ports], private_redis, proxy, key_prefix, env, logs, action_port
    )
    try:
        runtime.start_actions()
        for name, port in zip("AB", ports):
            command = [
                sys.executable,
                "-m",
                "kefu.rasa_cli",
                "run",
                "--model",
                str(MODEL),
                "--port",
                str(port),
            ]
            command += ["--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]
            command += ["--enable-api", "--auth-token", API_TOKEN]
            runtime.processes.append(_spawn(command, env, logs / f"rasa-{name}.log"))
        for name, url, process in zip("AB", runtime.urls, runtime.processes):
            wait_until_ready(f"{url}/", process, f"Rasa server {name}")
        yield runtime
    except RuntimeError:
        for log in sorted(logs.iterdir()):
            sys.stderr.write(f"--- {log.name} ---\n{log.read_text(errors='replace')[-5000:]}\n")
        raise
    finally:
        for process in runtime.processes:
            _stop(process)
        runtime.stop_actions()
        proxy.cut()


def user_texts(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "user"]


def assert_turns_complete(events: list[dict]) -> None:
    """Every user turn is answered before the next one starts: turns were never processed at once."""
    kinds = [e["event"] for e in events if e["event"] in ("user", "bot")]
    for position, kind in enumerate(kinds):
        if kind == "user":
            assert position + 1 < len(kinds) and kinds[position + 1] == "bot", (
                f"user turn {position} is not followed by its answer: {kinds}"
            )


def logged_in(user_id: str) -> dict:
    return {"user_token": issue_customer_token(user_id, TOKEN_SECRET, 3600)}


# --- the database goes away and comes back (first: the action server has not used it yet)


def test_database_outage_gets_an_apology_and_recovers_without_restart(runtime):
    sender, customer = f"db-{uuid.uuid4().hex}", logged_in("u1002")
    question = "帮我查一下订单LT2026110103"
    for _ in range(2):  # 1st round: down before the first order question; 2nd: after it was answered
        runtime.database.cut()
        reply = runtime.texts(0, sender, question, customer)
        assert "订单系统暂时" in reply and "转人工" in reply, reply
        assert "Traceback" not in reply and "Error" not in reply, reply
        runtime.database.restore()
        reply = runtime.texts(1, sender, question, customer)
        assert "已发货" in reply and "SF1234567890" in reply, reply


# --- two instances, one customer


def test_two_instances_serving_alternately_keep_every_turn_in_order(runtime):
    sender = f"alternate-{uuid.uuid4().hex}"
    messages = [
        "你好",
        "运费怎么算？",
        "可以开发票吗",
        "退货要多久到账",
        "你是机器人吗",
        "谢谢",
        "再见",
        "你好",
    ]
    for number, message in enumerate(messages):
        assert runtime.texts(number % 2, sender, message), f"no answer to {message!r}"
    events = runtime.events(sender, instance=1)
    assert user_texts(events) == messages
    assert_turns_complete(events)
    assert runtime.events(sender, instance=0) == events  # both instances see the same conversation


def test_a_conversation_key_from_one_instance_opens_it_on_the_other_and_nothing_else_does(runtime):
    sender = f"owned-{uuid.uuid4().hex}"
    runtime.texts(0, sender, "你好")
    body = {"sender": sender, "message": "运费怎么算"}

    stranger = requests.post(f"{runtime.urls[1]}/webhooks/rest/webhook", json=body, timeout=120)
    read = requests.get(
        f"{runtime.urls[1]}/webhooks/rest/messages", params={"sender": sender, "since": 0}, timeout=30
    )

    assert (stranger.status_code, read.status_code) == (401, 401)
    assert "99" in runtime.texts(1, sender, "运费怎么算")  # the owner's key works on every instance


def test_two_instances_serving_concurrently_process_one_turn_at_a_time(runtime):
    sender = f"concurrent-{uuid.uuid4().hex}"
    sent: dict[int, list[str]] = {0: [], 1: []}
    answered: list[str] = []
    errors: list[BaseException] = []
    questions = ["运费怎么算", "可以开发票吗", "怎么修改收货地址", "会员有什么权益", "优惠券怎么用"]
    # One client opens the conversation (a blank message: answered without the assistant) and gets
    # its key; both threads are that client, as two tabs sharing it.
    runtime.say(0, sender, " ")

    def customer(instance: int) -> None:
        try:
            for number, question in enumerate(questions):
                message = f"{question}？（{'AB'[instance]}{number}）"
                sent[instance].append(message)
                if runtime.texts(instance, sender, message):
                    answered.append(message)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=customer, args=(instance,)) for instance in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors
    assert sorted(answered) == sorted(sent[0] + sent[1])
    events = runtime.events(sender)
    received = user_texts(events)
    assert sorted(received) == sorted(sent[0] + sent[1]), "a turn was lost or stored twice"
    for instance in (0, 1):  # each instance's messages, sent one after the other, kept their order
        assert [t for t in received if t in sent[instance]] == sent[instance]
    assert_turns_complete(events)


# --- Redis restarts in the middle of a conversation


def test_redis_restart_mid_conversation_continues_where_it_was(runtime):
    sender = f"restart-{uuid.uuid4().hex}"
    assert "订单号" in runtime.texts(0, sender, "帮我查一下我的订单")
    runtime.redis.restart()
    reply = runtime.texts(1, sender, "LT2026110103")
    assert "后4位" in reply, f"the order form did not continue after the restart: {reply}"
    runtime.redis.restart()
    reply = runtime.texts(0, sender, "9002")
    assert "已发货" in reply and "SF1234567890" in reply, reply
    assert user_texts(runtime.events(sender)) == ["帮我查一下我的订单", "LT2026110103", "9002"]


# --- the action server stops and comes back


def test_action_server_stopped_gets_an_apology_with_a_human_offer_then_recovers(runtime):
    sender = f"actions-{uuid.uuid4().hex}"
    runtime.stop_actions()
    try:
        replies = runtime.say(0, sender, "运费怎么算？")
        assert len(replies) == 1, replies  # one apology, not one per retry of the failing action
        assert replies[0]["text"].startswith(APOLOGY) and "转人工" in replies[0]["text"], replies
        assert replies[0]["buttons"] == [{"title": "转人工", "payload": "/request_human"}], replies
        reply = runtime.texts(1, sender, "转人工")
        assert reply.startswith(APOLOGY) and "9:00-21:00" in reply, reply
    finally:
        runtime.start_actions()
    assert "99" in runtime.texts(0, sender, "运费怎么算？")
    assert "人工客服" in runtime.texts(1, sender, "转人工")
    texts = user_texts(runtime.events(sender))
    assert texts == ["运费怎么算？", "转人工", "运费怎么算？", "转人工"]
