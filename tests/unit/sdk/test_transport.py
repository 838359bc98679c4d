"""The real transports against a local HTTP server: statuses, bodies, refused connections, timeouts."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import longtang_sdk
from longtang_sdk import APIConnectionError, AsyncClient, Client
from longtang_sdk.transport import AiohttpTransport, HttpRequest, ThreadedTransport, UrllibTransport


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = json.loads(self.rfile.read(length) or b"{}")
        if self.path.endswith("/slow"):
            time.sleep(1.0)
        status = 404 if self.path.endswith("/missing") else 201
        body = json.dumps(
            {"session_id": "s-1", "echo": received, "auth": self.headers.get("Authorization")},
            ensure_ascii=False,
        ).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # the slow answer's client has hung up: expected


@pytest.fixture(scope="module")
def server():
    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def post(url: str, body: dict) -> HttpRequest:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return HttpRequest("POST", url, {"Content-Type": "application/json; charset=utf-8"}, data)


def test_urllib_returns_every_status_with_its_body(server):
    transport = UrllibTransport()
    created = transport.send(post(f"{server}/sessions", {"text": "你好"}), timeout=5)
    assert created.status == 201
    assert json.loads(created.body)["echo"] == {"text": "你好"}
    assert created.header("content-type") == "application/json; charset=utf-8"
    missing = transport.send(post(f"{server}/missing", {}), timeout=5)
    assert missing.status == 404 and json.loads(missing.body)["session_id"] == "s-1"


def test_urllib_refused_and_timeout(server, refused_url):
    transport = UrllibTransport()
    with pytest.raises(APIConnectionError):
        transport.send(post(refused_url, {}), timeout=5)
    with pytest.raises(longtang_sdk.TimeoutError):
        transport.send(post(f"{server}/slow", {}), timeout=0.2)


def test_the_sync_client_over_http(server):
    with Client({"endpoint": server, "api_key": "k"}) as client:
        assert client.create_session(user_id="u").id == "s-1"


def test_the_sync_client_gives_up_on_a_closed_port(refused_url):
    client = Client({"endpoint": refused_url, "max_retries": 1, "retry_backoff": 1})
    with pytest.raises(APIConnectionError):
        client.create_session()


@pytest.mark.parametrize("make", [ThreadedTransport, AiohttpTransport])
async def test_async_transports(server, refused_url, make):
    if make is AiohttpTransport:
        pytest.importorskip("aiohttp")
    transport = make()
    try:
        created = await transport.send(post(f"{server}/sessions", {"text": "你好"}), timeout=5)
        assert created.status == 201 and json.loads(created.body)["echo"] == {"text": "你好"}
        assert (await transport.send(post(f"{server}/missing", {}), timeout=5)).status == 404
        with pytest.raises(APIConnectionError):
            await transport.send(post(refused_url, {}), timeout=5)
        with pytest.raises(longtang_sdk.TimeoutError):
            await transport.send(post(f"{server}/slow", {}), timeout=0.2)
    finally:
        await transport.aclose()


async def test_the_async_client_over_http(server):
    async with AsyncClient({"endpoint": server, "api_key": "k"}) as client:
        assert (await client.create_session()).id == "s-1"
