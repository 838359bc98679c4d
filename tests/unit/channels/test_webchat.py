"""The web chat page's routes, called like Sanic calls them, on the project's real page and assets."""

from types import SimpleNamespace

import pytest

from kefu.channels.webchat import ASSETS, ASSETS_DIR, SECURITY_HEADERS, WebchatInput


async def nothing(_):
    return None


def routes(channel: WebchatInput) -> dict:
    blueprint = channel.blueprint(nothing)
    return {r.uri: r.handler for r in blueprint._future_routes}


async def get(channel: WebchatInput, path: str):
    handlers = routes(channel)
    request = SimpleNamespace(path=path)
    name = path.removeprefix("/webchat").removeprefix("/")
    if path in ("/webchat", "/webchat/"):
        return await handlers["/"](request)
    return await handlers["/<name:str>"](request, name)


def test_the_page_carries_the_configured_settings_escaped():
    channel = WebchatInput(socketio_path="/chat.io", user_message_evt="u", title='客服 <b>"x"</b>')
    page = channel.page()
    assert 'data-socket-path="/chat.io"' in page
    assert 'data-user-event="u"' in page
    assert 'data-bot-event="bot_uttered"' in page
    assert "<title>客服 &lt;b&gt;&quot;x&quot;&lt;/b&gt;</title>" in page
    assert "{{" not in page


def test_from_credentials_and_mount_point():
    channel = WebchatInput.from_credentials({"bot_message_evt": "b"})
    assert channel.bot_message_evt == "b"
    assert WebchatInput.from_credentials(None).socketio_path == "/socket.io"
    assert (channel.name(), channel.url_prefix()) == ("webchat", "/webchat")


def test_a_missing_page_fails_at_start_up_naming_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"index\.html"):
        WebchatInput(assets_dir=tmp_path)


async def test_without_the_slash_the_page_redirects_to_it():
    answer = await get(WebchatInput(), "/webchat")
    assert answer.status == 302
    assert answer.headers["location"] == "/webchat/"


@pytest.mark.parametrize("path", ["/webchat/", "/webchat/index.html"])
async def test_the_page_is_served_with_a_strict_policy(path):
    answer = await get(WebchatInput(title="龙堂"), path)
    assert answer.status == 200
    assert answer.content_type.startswith("text/html")
    assert "<title>龙堂</title>" in answer.body.decode()
    for header, value in SECURITY_HEADERS.items():
        assert answer.headers[header] == value


@pytest.mark.parametrize("name", sorted(ASSETS))
async def test_each_asset_is_served_from_the_project(name):
    answer = await get(WebchatInput(), f"/webchat/{name}")
    relative, content_type = ASSETS[name]
    assert answer.status == 200
    assert answer.body == (ASSETS_DIR / relative).read_bytes()
    assert answer.content_type == content_type
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("name", ["secrets.txt", "vendor", "..%2Fsettings.py"])
async def test_other_files_are_not_found(name):
    answer = await get(WebchatInput(), f"/webchat/{name}")
    assert answer.status == 404
