from sqlalchemy import select

from kefu.db.engine import session_scope
from kefu.db.handoffs import HandoffRepository
from kefu.db.models import CustomerRow, HandoffRequestRow, OrderRow
from kefu.db.orders import OrderRepository
from kefu.db.rekey import reencrypt_all
from kefu.security.crypto import FieldCipher
from kefu.wechat.store import ContactRepository


def stored_values(url):
    with session_scope(url) as session:
        orders = session.execute(select(OrderRow.phone_enc, OrderRow.address_enc)).all()
        customers = session.scalars(select(CustomerRow.phone_enc)).all()
        transcripts = session.scalars(select(HandoffRequestRow.transcript_enc)).all()
    return [value for row in orders for value in row] + list(customers) + list(transcripts)


def test_reencrypt_all_moves_every_value_to_the_current_key(shop_url, cipher):
    rotated = FieldCipher((("test2", bytes(range(32, 64))), *cipher.keys))
    before = OrderRepository(shop_url, cipher).list_for_user("u1001")
    handoff = HandoffRepository(shop_url, cipher=cipher).create("s1", "request_human", [{"text": "转人工"}])
    contact = ContactRepository("secret", shop_url, cipher).contact_for("wechat", "oOpenId")

    counts = reencrypt_all(shop_url, rotated)

    assert counts == {
        "customers.phone": 6,
        "orders.phone": 12,
        "orders.address": 12,
        "handoff_requests.transcript": 1,
        "wechat_contacts.openid": 1,
    }
    assert all(value.startswith("test2:") for value in stored_values(shop_url))
    only_new = FieldCipher(rotated.keys[:1])
    assert OrderRepository(shop_url, only_new).list_for_user("u1001") == before
    assert HandoffRepository(shop_url, cipher=only_new).get(handoff.id) == handoff
    assert ContactRepository("secret", shop_url, only_new).get(contact.sender_id) == contact
    assert sum(reencrypt_all(shop_url, rotated).values()) == 0


def test_nothing_to_do_when_keys_are_current(shop_url, cipher):
    assert sum(reencrypt_all(shop_url, cipher).values()) == 0
