"""The channels as credentials.yml names them, loaded and served by Rasa's own code (rasa.core.run).

``rasa.core.run`` imports TensorFlow, which takes several seconds, once, on first use.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest

from kefu.channels.rest import RestInput
from kefu.channels.socketio import SocketIOInput

pytestmark = pytest.mark.integration

PROJECT_CREDENTIALS = Path(__file__).resolve().parents[3] / "credentials.yml"
CREDENTIALS = """\
kefu.channels.rest.RestInput: {}
kefu.channels.socketio.SocketIOInput:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: true
"""


@pytest.fixture(scope="module")
def rasa_run() -> ModuleType:
    import rasa.core.run

    return rasa.core.run


@pytest.fixture
def credentials_file(tmp_path: Path) -> str:
    path = tmp_path / "credentials.yml"
    path.write_text(CREDENTIALS, encoding="utf-8")
    return str(path)


class FakeAgent:
    """What Rasa's channel handler calls: ``app.ctx.agent.handle_message``."""

    def __init__(self, assistant: Any) -> None:
        self.handle_message = assistant


def test_rasa_builds_the_channels_from_credentials(rasa_run: ModuleType, credentials_file: str) -> None:
    rest, sio = rasa_run.create_http_input_channels(None, credentials_file)

    assert type(rest) is RestInput
    assert type(sio) is SocketIOInput
    assert (rest.name(), rest.url_prefix(), sio.name(), sio.url_prefix()) == (
        "rest",
        "rest",
        "socketio",
        "socketio",
    )
    assert (sio.user_message_evt, sio.bot_message_evt, sio.session_persistence) == (
        "user_uttered",
        "bot_uttered",
        True,
    )


def test_the_projects_credentials_use_these_channels(rasa_run: ModuleType) -> None:
    channels = rasa_run.create_http_input_channels(None, str(PROJECT_CREDENTIALS))

    by_type = {type(channel): channel for channel in channels}
    assert {RestInput, SocketIOInput} <= by_type.keys()
    assert by_type[SocketIOInput].session_persistence is True


async def test_rasa_serves_them_at_the_usual_urls(
    rasa_run: ModuleType, credentials_file: str, live: Any, websocket_client: None
) -> None:
    channels = rasa_run.create_http_input_channels(None, credentials_file)
    app = rasa_run.configure_app(channels, enable_api=False)
    app.ctx.agent = FakeAgent(live.assistant)
    url = await live.serve(app, *channels)

    async with aiohttp.ClientSession() as http:
        body = {"sender": "u1", "message": "你好", "metadata": {"user_token": "tok-1"}}
        async with http.post(f"{url}/webhooks/rest/webhook", data=json.dumps(body)) as response:
            assert (response.status, await response.json()) == (
                200,
                [{"recipient_id": "u1", "text": "收到：你好"}],
            )
        async with http.post(f"{url}/webhooks/rest/webhook", data=b"[]") as response:
            assert response.status == 400
        async with http.get(f"{url}/webhooks/socketio/") as response:
            assert (response.status, await response.json()) == (200, {"status": "ok"})

    client = await live.connect(url, transports=("websocket",))
    assert await client.request_session("session-a") == "session-a"
    await client.say("在吗", "session-a", metadata={"user_token": "tok-2"})
    assert await client.reply() == {"text": "收到：在吗"}

    assert [(m.input_channel, m.sender_id, m.metadata) for m in live.assistant.messages] == [
        ("rest", "u1", {"user_token": "tok-1", "client_ip": "127.0.0.1"}),
        ("socketio", "session-a", {"user_token": "tok-2", "client_ip": "127.0.0.1"}),
    ]
