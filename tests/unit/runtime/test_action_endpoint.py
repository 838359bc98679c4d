"""The action endpoint's answer when the action server is unavailable, against real local HTTP servers."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from kefu.runtime.action_endpoint import APOLOGY, HANDOFF_APOLOGY, ActionServerEndpoint

BODY = {"next_action": "action_answer_faq", "sender_id": "c-1", "tracker": {}, "domain": {}}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def answering(status: int, body: dict) -> TestServer:
    async def webhook(request: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_unreachable_action_server_answers_an_apology_and_ends_the_turn():
    endpoint = ActionServerEndpoint(url=f"http://127.0.0.1:{closed_port()}/webhook")
    response = await endpoint.request(json=BODY, method="post", timeout=5)
    assert response["responses"] == [
        {"text": APOLOGY, "buttons": [{"title": "转人工", "payload": "/request_human"}]}
    ]
    assert response["events"] == [{"event": "followup", "name": "action_listen"}]


async def test_the_handoff_itself_failing_does_not_offer_the_handoff_again():
    endpoint = ActionServerEndpoint(url=f"http://127.0.0.1:{closed_port()}/webhook")
    response = await endpoint.request(json={**BODY, "next_action": "action_request_human"}, method="post")
    assert response["responses"] == [{"text": HANDOFF_APOLOGY}]


async def test_a_server_error_answers_the_apology():
    server = await answering(500, {"error": "boom"})
    try:
        response = await ActionServerEndpoint(url=str(server.make_url("/webhook"))).request(
            json=BODY, method="post"
        )
        assert response["responses"][0]["text"] == APOLOGY
    finally:
        await server.close()


async def test_a_rejection_and_a_normal_answer_go_to_rasa_unchanged():
    server = await answering(400, {"action_name": "validate_order_form", "error": "rejected"})
    try:
        with pytest.raises(ClientResponseError):
            await ActionServerEndpoint(url=str(server.make_url("/webhook"))).request(json=BODY, method="post")
    finally:
        await server.close()
    answer = {"events": [], "responses": [{"text": "订单实付满99元即可包邮"}]}
    server = await answering(200, answer)
    try:
        assert await ActionServerEndpoint(url=str(server.make_url("/webhook"))).request(json=BODY) == answer
    finally:
        await server.close()


def test_wrapping_keeps_the_configuration():
    original = EndpointConfig(url="http://a:5055/webhook", token="t", headers={"X": "1"}, cafile="/ca.pem")
    wrapped = ActionServerEndpoint.wrap(original)
    assert (wrapped.url, wrapped.token, wrapped.headers, wrapped.cafile) == (
        "http://a:5055/webhook",
        "t",
        {"X": "1"},
        "/ca.pem",
    )


async def test_calls_reuse_one_connection_to_the_action_server():
    peers = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    endpoint = ActionServerEndpoint(url=f"http://127.0.0.1:{server.port}/webhook")
    try:
        for _ in range(3):
            assert await endpoint.request(json=BODY, method="post") == {"events": [], "responses": []}
    finally:
        await server.close()
    assert len(peers) == 3 and len(set(peers)) == 1  # one client port: the same TCP connection
