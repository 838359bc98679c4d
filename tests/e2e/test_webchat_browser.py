"""The web chat page in headless Chromium against the real assistant.

Needs Debian's ``chromium`` and ``chromium-driver`` (``scripts/ensure_chromium.sh`` installs them).
Saves a screenshot of the conversation to tests/artifacts/webchat.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WAIT = 30  # seconds for the assistant to answer

# Test-only instrumentation, installed before the page's scripts run: keeps the socket chat.js
# creates, so that a test can play a bot message the assistant would only send deep in a flow.
RECORD_SOCKET = """
Object.defineProperty(window, "io", {
  configurable: true,
  set: function (real) { window.__realIo = real; },
  get: function () {
    return function () { return (window.__chatSocket = window.__realIo.apply(this, arguments)); };
  }
});
"""


@pytest.fixture
def browser(tmp_path) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile; skipped (failed under CI=true) without it."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = (
            f"{CHROMIUM} or {CHROMEDRIVER} is missing: run `bash scripts/ensure_chromium.sh` "
            "(Debian's chromium and chromium-driver)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=900,1000",
        "--lang=zh-CN",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_SOCKET})
    try:
        yield driver
    finally:
        driver.quit()


class ChatPage:
    """The web chat as a customer sees it."""

    def __init__(self, driver: WebDriver, url: str) -> None:
        self.driver = driver
        self.url = f"{url}/webchat/"

    def open(self) -> ChatPage:
        self.driver.get(self.url)
        self.wait_for_state("online")
        return self

    def reload(self) -> None:
        self.driver.refresh()
        self.wait_for_state("online")

    def state(self) -> str | None:
        return self.driver.find_element(By.ID, "webchat").get_attribute("data-state")

    def wait_for_state(self, state: str, timeout: float = 20) -> None:
        WebDriverWait(self.driver, timeout).until(lambda _: self.state() == state, f"never {state}")

    def bubbles(self, side: str) -> list[str]:
        # One script reads every bubble at once: the page re-renders bubbles while it
        # streams answers, so element handles fetched one by one can go stale.
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]))"
            ".map(function (e) { return e.innerText; });",
            f".msg-{side} .bubble",
        )

    def type(self, text: str) -> None:
        self.driver.find_element(By.ID, "chat-input").send_keys(text)

    def ask(self, text: str) -> str:
        """Types ``text``, presses Enter and returns the assistant's first new answer."""
        before = len(self.bubbles("bot"))
        self.type(text)
        self.driver.find_element(By.ID, "chat-input").send_keys(Keys.ENTER)
        return self.answer_after(before)

    def answer_after(self, count: int) -> str:
        WebDriverWait(self.driver, WAIT).until(lambda _: len(self.bubbles("bot")) > count, "no answer")
        return self.bubbles("bot")[count]

    def quick_reply(self, title: str):
        buttons = [b for b in self.driver.find_elements(By.CSS_SELECTOR, ".quick-reply") if b.text == title]
        assert buttons, f"no quick reply {title!r}"
        return buttons[-1]

    def click_quick_reply(self, title: str) -> None:
        """Clicks the latest quick reply called ``title``, again if a re-render staled it."""

        def click(_) -> bool:
            self.quick_reply(title).click()
            return True

        WebDriverWait(self.driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
            click, f"could not click {title!r}"
        )

    def quick_reply_enabled(self, title: str) -> bool:
        return WebDriverWait(self.driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda _: (self.quick_reply(title).is_enabled(),), f"no quick reply {title!r}"
        )[0]

    def session_id(self) -> str:
        return self.driver.execute_script(
            "return JSON.parse(localStorage.getItem('longtang-webchat:session'))"
        )

    def play_bot_message(self, message: dict) -> None:
        """Delivers ``message`` to the page as if the assistant had sent it."""
        self.driver.execute_script(
            "var message = arguments[0];"
            "window.__chatSocket.listeners('bot_uttered').forEach(function (f) { f(message); });",
            message,
        )


def test_a_customer_asks_clicks_reloads_and_asks_for_a_human(browser, assistant):
    chat = ChatPage(browser, assistant.url).open()
    assert "小龙" in chat.bubbles("bot")[0]  # the greeting, with suggested questions

    answer = chat.ask("运费怎么算")
    assert "99元" in answer
    assert "来源：" in browser.execute_script(
        "return document.querySelector('.msg-bot:last-child .msg-source').innerText"
    )

    before = len(chat.bubbles("bot"))
    chat.click_quick_reply("怎么开发票？")
    assert "发票" in chat.answer_after(before)
    assert chat.bubbles("user") == ["运费怎么算", "怎么开发票？"]

    session = chat.session_id()
    transcript = chat.bubbles("bot")
    chat.reload()
    assert chat.session_id() == session  # the server confirmed the same conversation
    assert chat.bubbles("user") == ["运费怎么算", "怎么开发票？"]
    assert chat.bubbles("bot") == transcript

    before = len(chat.bubbles("bot"))
    browser.find_element(By.ID, "chat-human").click()
    assert "人工客服" in chat.answer_after(before)
    assert chat.bubbles("user")[-1] == "转人工"

    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "webchat.png"))


def test_the_assistants_quick_replies_show_the_title_and_send_the_payload(browser, assistant):
    chat = ChatPage(browser, assistant.url).open()
    chat.play_bot_message(
        {
            "text": "需要我做什么？",
            "quick_replies": [{"content_type": "text", "title": "打个招呼", "payload": "/greet"}],
        }
    )
    before = len(chat.bubbles("bot"))
    chat.click_quick_reply("打个招呼")
    assert "您好" in chat.answer_after(before)  # the payload /greet reached the assistant
    assert chat.bubbles("user")[-1] == "打个招呼"
    assert not chat.quick_reply_enabled("打个招呼")  # no longer the latest message


def test_answers_render_as_text_with_safe_links(browser, assistant):
    chat = ChatPage(browser, assistant.url).open()
    hostile = (
        '<img src=x onerror="window.__pwned=1"><b>粗体</b>\n'
        "详情见 https://shop.example.com/help?a=1&b=2。另见 javascript:alert(1) 和 http://x.test/p)"
    )
    chat.play_bot_message({"text": hostile})
    # Read the hostile bubble in one script: the page re-renders its log as messages arrive.
    text, markup, links = browser.execute_script(
        "var bubble = Array.from(document.querySelectorAll('.msg-bot .bubble'))"
        ".filter(function (b) { return b.innerText.indexOf('粗体') >= 0; }).pop();"
        "return [bubble.innerText, bubble.querySelectorAll('img, b').length,"
        " Array.from(bubble.querySelectorAll('a')).map(function (a) {"
        "   return {href: a.href, rel: a.getAttribute('rel') || '', target: a.target}; })];"
    )
    assert text.startswith('<img src=x onerror="window.__pwned=1"><b>粗体</b>')
    assert markup == 0
    assert browser.execute_script("return window.__pwned === undefined")
    assert [link["href"] for link in links] == [
        "https://shop.example.com/help?a=1&b=2",
        "http://x.test/p",
    ]
    for link in links:
        assert set(link["rel"].split()) >= {"noopener", "noreferrer"}
        assert link["target"] == "_blank"


def test_the_enter_that_confirms_a_chinese_ime_composition_does_not_send(browser, assistant):
    chat = ChatPage(browser, assistant.url).open()
    browser.find_element(By.ID, "chat-input").click()
    enter = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}

    # Pinyin "yunfei" being composed; Enter confirms the candidate (keydown.isComposing is true).
    browser.execute_cdp_cmd(
        "Input.imeSetComposition", {"text": "yunfei", "selectionStart": 6, "selectionEnd": 6}
    )
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyDown", **enter})
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyUp", **enter})
    browser.execute_cdp_cmd("Input.insertText", {"text": "运费怎么算"})
    # Browsers that report the confirming Enter as keyCode 229 only.
    browser.execute_script(
        "arguments[0].dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 229, bubbles: true,"
        " cancelable: true}));",
        browser.find_element(By.ID, "chat-input"),
    )
    assert chat.bubbles("user") == []
    assert browser.find_element(By.ID, "chat-input").get_attribute("value") == "运费怎么算"

    before = len(chat.bubbles("bot"))
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyDown", **enter})  # a real Enter sends
    assert "99元" in chat.answer_after(before)
    assert chat.bubbles("user") == ["运费怎么算"]


def test_a_lost_connection_is_shown_and_the_page_reconnects_by_itself(browser, assistant):
    chat = ChatPage(browser, assistant.url).open()
    network = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, **network})
    chat.wait_for_state("offline")
    assert browser.find_element(By.ID, "chat-offline").is_displayed()
    assert "重连" in browser.find_element(By.ID, "chat-status").text
    assert not browser.find_element(By.ID, "chat-input").is_enabled()
    assert not browser.find_element(By.ID, "chat-human").is_enabled()

    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, **network})
    chat.wait_for_state("online")
    assert not browser.find_element(By.ID, "chat-offline").is_displayed()
    assert "99元" in chat.ask("运费怎么算")


def test_the_page_and_its_assets_come_from_the_project(assistant):
    page = requests.get(f"{assistant.url}/webchat/", timeout=10)
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]*)"', page.text))  # no other origin
    for asset in ("chat.js", "chat.css", "socket.io.min.js"):
        answer = requests.get(f"{assistant.url}/webchat/{asset}", timeout=10)
        assert answer.status_code == 200 and answer.headers["X-Content-Type-Options"] == "nosniff"
    for missing in ("nope.js", "..%2Fwebchat_channel.py", "vendor%2Fsocket.io-client.LICENSE"):
        assert requests.get(f"{assistant.url}/webchat/{missing}", timeout=10).status_code == 404
    redirect = requests.get(f"{assistant.url}/webchat", timeout=10, allow_redirects=False)
    assert redirect.status_code in (301, 302) and redirect.headers["Location"].endswith("/webchat/")
