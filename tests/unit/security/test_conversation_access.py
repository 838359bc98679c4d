"""Who may use a conversation: the owner the server recorded, and the proof it names."""

import pytest

from kefu.security.conversation_access import (
    MISSING_PROOF,
    WRONG_PROOF,
    ConversationOwner,
    InMemoryOwnerRegistry,
    admit,
    admit_read,
    hash_key,
)


async def nothing_exists(_):
    return False


async def everything_exists(_):
    return True


@pytest.fixture
def owners():
    return InMemoryOwnerRegistry()


async def test_a_first_message_opens_the_conversation_with_a_new_key(owners):
    admission = await admit(owners, "u1", "rest", None, None, nothing_exists)

    assert admission.allowed and len(admission.issued_key) >= 40
    owner = await owners.get("u1")
    assert owner.channel == "rest" and owner.key_hash == hash_key(admission.issued_key)
    assert admission.issued_key not in owner.dumps()  # only its hash is kept


async def test_later_messages_and_reads_need_the_key(owners):
    key = (await admit(owners, "u1", "rest", None, None, nothing_exists)).issued_key

    with_key = await admit(owners, "u1", "rest", key, None, nothing_exists)
    without = await admit(owners, "u1", "rest", None, None, nothing_exists)
    wrong = await admit(owners, "u1", "rest", "guess", None, nothing_exists)

    assert with_key.allowed and with_key.issued_key is None
    assert (without.allowed, without.status, without.error) == (False, 401, MISSING_PROOF)
    assert (wrong.allowed, wrong.status, wrong.error) == (False, 403, WRONG_PROOF)
    assert (await admit_read(owners, "u1", key, None)).allowed
    assert (await admit_read(owners, "u1", None, None)).status == 401
    assert (await admit_read(owners, "u1", key + "x", None)).status == 403


async def test_reading_an_unknown_conversation_looks_like_reading_someone_elses(owners):
    await admit(owners, "u1", "rest", None, None, nothing_exists)

    assert await admit_read(owners, "nobody", None, None) == await admit_read(owners, "u1", None, None)
    assert await admit_read(owners, "nobody", "k", None) == await admit_read(owners, "u1", "k", None)


async def test_a_conversation_opened_with_a_customer_token_admits_that_customer(owners):
    key = (await admit(owners, "u1", "rest", None, "customer-7", nothing_exists)).issued_key

    assert (await admit(owners, "u1", "rest", None, "customer-7", nothing_exists)).allowed
    assert (await admit_read(owners, "u1", None, "customer-7")).allowed
    assert (await admit(owners, "u1", "rest", key, None, nothing_exists)).allowed  # the key works too
    assert (await admit(owners, "u1", "rest", None, "customer-8", nothing_exists)).status == 403


async def test_an_anonymous_conversation_is_not_opened_to_a_customer_token(owners):
    await admit(owners, "u1", "rest", None, None, nothing_exists)

    assert not (await admit(owners, "u1", "rest", None, "customer-7", nothing_exists)).allowed


async def test_an_existing_conversation_without_an_owner_is_not_taken_over(owners):
    admission = await admit(owners, "legacy", "rest", None, None, everything_exists)

    assert (admission.allowed, admission.status) == (False, 401)
    assert await owners.get("legacy") is None


@pytest.mark.parametrize(
    "owner",
    [
        ConversationOwner("sdk", app="shop-app", session={"session_id": "s"}),
        ConversationOwner("admin", staff="alice", session={"session_id": "s"}),
    ],
)
async def test_sdk_and_admin_sessions_admit_no_chat_client(owners, owner):
    await owners.add("s", owner)

    assert not (await admit(owners, "s", "rest", None, None, nothing_exists)).allowed
    assert not (await admit(owners, "s", "rest", "", "", nothing_exists)).allowed
    assert not (await admit_read(owners, "s", "anything", "alice")).allowed


async def test_an_owner_is_recorded_once(owners):
    assert await owners.add("c", ConversationOwner("sdk", app="first"))
    assert not await owners.add("c", ConversationOwner("sdk", app="second"))
    assert (await owners.get("c")).app == "first"


def test_an_owner_survives_its_json():
    owner = ConversationOwner("admin", staff="alice", session={"session_id": "s", "owner": "alice"})
    assert ConversationOwner.loads(owner.dumps()) == owner
