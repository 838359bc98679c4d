"""Starts the real assistant (action server + Rasa server with the trained model) once per session."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from kefu.security.conversation_access import KEY_HEADER
from tests.processes import free_port, wait_until_ready
from tests.wechat_standin import Running, Standin, assistant_env

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "kefu.tar.gz"
SHOP_TODAY = "2026-11-21"
TOKEN_SECRET = "e2e-test-customer-token-secret-0123456789"
DASHBOARD_TOKEN = "e2e-dashboard-token-0123456789abcdef"
ADMIN_PASSWORD = "e2e-admin-password-0123456789"  # the development admin `admin` (admin API)
ACTION_SECRET = "e2e-action-server-secret-0123456789abcdef"  # shared by the Rasa and action servers
SHOP_ORIGIN = "https://shop.e2e.test"  # the one browser origin allowed (ALLOWED_ORIGINS)


@dataclass
class Assistant:
    url: str
    knowledge_dir: Path
    env: dict[str, str]
    action_url: str = ""
    # The conversation keys the assistant issued, by sender: what a REST client keeps.
    keys: dict[str, str] = field(default_factory=dict)
    # The server processes' logs (rasa.log, actions.log).
    logs: Path | None = None
    # The action server's process group (it runs in a session of its own): what a test pauses.
    action_pid: int = 0

    def say(self, text: str, sender: str | None = None, metadata: dict | None = None) -> list[dict]:
        """Sends one message over REST (with the conversation's key once it has one) and returns
        the bot's messages."""
        sender = sender or uuid.uuid4().hex
        body = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook", json=body, headers=self.proof(sender), timeout=60
        )
        response.raise_for_status()
        if KEY_HEADER in response.headers:
            self.keys[sender] = response.headers[KEY_HEADER]
        return response.json()

    def proof(self, sender: str) -> dict[str, str]:
        """The header proving ``sender``'s conversation is this client's."""
        return {KEY_HEADER: self.keys[sender]} if sender in self.keys else {}

    def texts(self, text: str, sender: str | None = None, metadata: dict | None = None) -> str:
        """The bot's texts for one message, joined by newlines."""
        return "\n".join(m.get("text", "") for m in self.say(text, sender, metadata) if m.get("text"))


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def start_rasa(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """A Rasa server with the trained model on ``port``, its output in ``log``."""
    command = ["-m", "kefu.rasa_cli", "run", "--model", str(MODEL), "--port", str(port)]
    return subprocess.Popen(
        [sys.executable, *command, "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="session")
def wechat_standin() -> Standin:
    """The stand-in for WeChat's servers that the assistant's WeChat channels talk to."""
    with Running() as standin:
        yield standin


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, wechat_standin) -> Assistant:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make e2e does it for you)")
    work = tmp_path_factory.mktemp("assistant")
    knowledge_dir = work / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge_dir)
    index_dir = work / "index"
    if (ROOT / "var" / "index").is_dir():
        shutil.copytree(ROOT / "var" / "index", index_dir)  # reuse the embeddings `make index` built
    action_port, rasa_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "DATABASE_URL": f"sqlite:///{work / 'kefu.db'}",
        "KB_DIR": str(knowledge_dir),
        "KB_INDEX_DIR": str(index_dir),
        "SHOP_TODAY": SHOP_TODAY,
        "CUSTOMER_TOKEN_SECRET": TOKEN_SECRET,
        "SDK_API_KEYS": "e2e-tests:e2e-sdk-key-0123456789",
        "ADMIN_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD,
        "DASHBOARD_ADMIN_TOKEN": DASHBOARD_TOKEN,
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "ACTION_SERVER_SECRET": ACTION_SECRET,
        "ALLOWED_ORIGINS": SHOP_ORIGIN,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # A window of about two turns (the default is 60 events, about ten): every conversation here
        # longer than that reaches the processor cut behind a restored state, forms included, so the
        # whole suite also tests kefu/runtime/tracker_window.py.
        "TRACKER_WINDOW_EVENTS": "12",
        # Both WeChat channels on, talking to the stand-in (tests/e2e/test_wechat.py).
        **assistant_env(wechat_standin),
        # Every test talks from 127.0.0.1 and the fuzz tests send thousands of requests: the limits
        # themselves are tested in tests/unit (rate_limit tests) with their own small numbers.
        **dict.fromkeys(
            (
                "CHAT_RATE_PER_MINUTE",
                "ADMIN_RATE_PER_MINUTE",
                "LOGIN_RATE_PER_MINUTE",
                "SDK_RATE_PER_MINUTE",
                "SOCKETIO_CONNECT_RATE_PER_MINUTE",
            ),
            "100000",
        ),
        # The per-client cap of wrong phone digits (across orders) counts every test's 127.0.0.1 as one
        # client; tests/unit covers it. The per-order lock-out keeps its default (test_verification_lockout).
        "VERIFICATION_CLIENT_FAILURES": "100000",
    }
    if (ROOT / "kefu" / "db" / "seed.py").exists():
        subprocess.run([sys.executable, "-m", "kefu.db.seed"], cwd=ROOT, env=env, check=True)
    # The knowledge import into this database and index (only what `make index` has not embedded).
    subprocess.run(
        [sys.executable, "-m", "kefu.knowledge.cli", "update", "--quiet"], cwd=ROOT, env=env, check=True
    )
    logs = work / "logs"
    logs.mkdir()
    actions = subprocess.Popen(
        [sys.executable, "-m", "kefu.action_server", "--actions", "actions", "--port", str(action_port)],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=(logs / "actions.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    rasa = start_rasa(rasa_port, env, logs / "rasa.log")
    try:
        wait_until_ready(f"http://127.0.0.1:{action_port}/health", actions, "the action server")
        wait_until_ready(f"http://127.0.0.1:{rasa_port}/", rasa, "the Rasa server")
        yield Assistant(
            f"http://127.0.0.1:{rasa_port}",
            knowledge_dir,
            env,
            f"http://127.0.0.1:{action_port}",
            logs=logs,
            action_pid=actions.pid,
        )
    except RuntimeError:
        for log in logs.iterdir():
            sys.stderr.write(f"--- {log.name} ---\n{log.read_text(errors='replace')[-5000:]}\n")
        raise
    finally:
        _stop(rasa)
        _stop(actions)
