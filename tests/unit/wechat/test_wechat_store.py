from __future__ import annotations

from sqlalchemy import text

from kefu.db.engine import get_engine
from kefu.wechat.store import ContactRepository, CursorRepository, SqlSeenMessages, sender_id_for


def test_sender_ids_hide_the_openid(db_url, cipher):
    contacts = ContactRepository("secret-1", db_url, cipher)
    contact = contacts.contact_for("wechat", "oOpenId123")
    assert contact.sender_id == sender_id_for("wechat", "oOpenId123", "secret-1")
    assert "oOpenId123" not in contact.sender_id
    assert contacts.contact_for("wechat", "oOpenId123") == contact
    with get_engine(db_url).connect() as connection:
        stored = connection.execute(text("SELECT openid_enc FROM wechat_contacts")).scalar_one()
    assert "oOpenId123" not in stored
    assert contacts.get(contact.sender_id).wechat_id == "oOpenId123"


def test_binding_and_choices_are_stored(db_url, cipher):
    contacts = ContactRepository("secret-1", db_url, cipher)
    sender = contacts.contact_for("wecom", "wmExternal", "wkKf").sender_id
    contacts.bind(sender, "U1001")
    contacts.offer_choices(sender, ["/a", "/b"])
    again = ContactRepository("secret-1", db_url, cipher).get(sender)
    assert (again.user_id, again.choices, again.open_kfid) == ("U1001", ["/a", "/b"], "wkKf")
    contacts.bind(sender, None)
    assert contacts.get(sender).user_id is None


def test_a_message_is_taken_once_across_instances(db_url):
    first, second = SqlSeenMessages(db_url), SqlSeenMessages(db_url)
    assert first.first("k1") is True
    assert second.first("k1") is False
    assert second.first("k2") is True


def test_the_cursor_survives_a_new_repository(db_url):
    CursorRepository(db_url).save("wkKf", "c1")
    CursorRepository(db_url).save("wkKf", "c2")
    assert CursorRepository(db_url).get("wkKf") == "c2"
    assert CursorRepository(db_url).get("other") == ""
