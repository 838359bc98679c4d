"""The WeChat channels' tables on every backend: contacts, deduplication under concurrency, cursors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from kefu.wechat.store import ContactRepository, CursorRepository, SqlSeenMessages

pytestmark = pytest.mark.integration


def test_contacts_bindings_and_choices(migrated_url, cipher):
    contacts = ContactRepository("secret", migrated_url, cipher)
    contact = contacts.contact_for("wecom", "wmExternal", "wkKf")
    contacts.bind(contact.sender_id, "u1002")
    contacts.offer_choices(contact.sender_id, ["/查订单", "/退款"])
    again = ContactRepository("secret", migrated_url, cipher).contact_for("wecom", "wmExternal", "wkKf")
    assert (again.user_id, again.choices, again.wechat_id) == ("u1002", ["/查订单", "/退款"], "wmExternal")


def test_one_of_many_concurrent_takers_gets_the_message(migrated_url):
    stores = [SqlSeenMessages(migrated_url) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        taken = list(pool.map(lambda store: store.first("concurrent-key"), stores))
    assert sorted(taken) == [False] * 5 + [True]


def test_the_cursor_is_saved_durably(migrated_url):
    CursorRepository(migrated_url).save("wkKf", "cursor-1")
    CursorRepository(migrated_url).save("wkKf", "cursor-2")
    assert CursorRepository(migrated_url).get("wkKf") == "cursor-2"
