import base64
import os

import pytest

from kefu.security import crypto
from kefu.security.crypto import DecryptionError, EncryptionKeyError, FieldCipher, new_key_entry
from kefu.settings import DEV_ENCRYPTION_KEY


def entry(key_id: str, key: bytes | None = None) -> str:
    return f"{key_id}:{base64.b64encode(key or os.urandom(32)).decode()}"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher.from_spec(entry("k1"))


def test_round_trip_unicode(cipher):
    stored = cipher.encrypt("北京市朝阳区建国路88号 😀", "orders.address")
    assert cipher.decrypt(stored, "orders.address") == "北京市朝阳区建国路88号 😀"


def test_stored_value_carries_key_id_and_hides_clear_text(cipher):
    stored = cipher.encrypt("13800138001", "orders.phone")
    key_id, nonce, ciphertext = stored.split(":")
    assert key_id == "k1"
    assert len(base64.b64decode(nonce)) == 12
    assert "13800138001" not in stored
    assert base64.b64decode(ciphertext) != b"13800138001"


def test_same_clear_text_encrypts_differently_each_time(cipher):
    assert cipher.encrypt("13800138001", "orders.phone") != cipher.encrypt("13800138001", "orders.phone")


@pytest.mark.parametrize("part", [1, 2])
def test_tampering_is_detected(cipher, part):
    pieces = cipher.encrypt("13800138001", "orders.phone").split(":")
    raw = bytearray(base64.b64decode(pieces[part]))
    raw[0] ^= 0x01
    pieces[part] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(DecryptionError, match="tampered"):
        cipher.decrypt(":".join(pieces), "orders.phone")


def test_value_from_another_column_does_not_decrypt(cipher):
    phone = cipher.encrypt("13800138001", "orders.phone")
    with pytest.raises(DecryptionError, match=r"orders\.address"):
        cipher.decrypt(phone, "orders.address")
    with pytest.raises(DecryptionError):
        cipher.decrypt(phone, "customers.phone")


@pytest.mark.parametrize(
    "stored", ["13800138001", "", "k1:abc", "k1::", "k1:!!!:???", "k1:AAAA:AAAA", "k1:a:b:c"]
)
def test_malformed_stored_values_are_rejected(cipher, stored):
    with pytest.raises(DecryptionError):
        cipher.decrypt(stored, "orders.phone")


def test_rotation_old_values_stay_readable_and_reencrypt_under_the_new_key():
    old = entry("old")
    before = FieldCipher.from_spec(old)
    stored = before.encrypt("13800138001", "orders.phone")

    after = FieldCipher.from_spec(f"{entry('new')},{old}")
    assert after.current_key_id == "new"
    assert not after.is_current(stored)
    assert after.decrypt(stored, "orders.phone") == "13800138001"

    rotated = after.reencrypt(stored, "orders.phone")
    assert rotated.startswith("new:")
    assert after.is_current(rotated)
    assert after.decrypt(rotated, "orders.phone") == "13800138001"
    with pytest.raises(EncryptionKeyError, match="KEFU_ENCRYPTION_KEYS"):
        before.decrypt(rotated, "orders.phone")


def test_unknown_key_id_names_the_variable_and_the_key(cipher):
    other = FieldCipher.from_spec(entry("gone")).encrypt("x", "orders.phone")
    with pytest.raises(EncryptionKeyError, match=r"'gone'.*KEFU_ENCRYPTION_KEYS"):
        cipher.decrypt(other, "orders.phone")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "holds no key"),
        (" , ", "holds no key"),
        ("nocolon", "not `keyid:base64key`"),
        ("k1:", "not `keyid:base64key`"),
        (":" + base64.b64encode(bytes(32)).decode(), "not `keyid:base64key`"),
        ("k1:not base64!", "not valid standard base64"),
        ("k1:" + base64.b64encode(bytes(16)).decode(), "16 bytes"),
        ("bad id:" + base64.b64encode(bytes(32)).decode(), "key id"),
        (f"k1:{base64.b64encode(bytes(32)).decode()},k1:{base64.b64encode(bytes(32)).decode()}", "twice"),
    ],
)
def test_malformed_keys_are_refused_naming_the_variable(spec, message):
    with pytest.raises(EncryptionKeyError, match="KEFU_ENCRYPTION_KEYS") as error:
        FieldCipher.from_spec(spec)
    assert message in str(error.value)


def test_errors_never_show_key_material():
    secret = base64.b64encode(b"s" * 20).decode()
    with pytest.raises(EncryptionKeyError) as error:
        FieldCipher.from_spec(f"k1:{secret}")
    assert secret not in str(error.value)
    assert secret not in repr(FieldCipher.from_spec(entry("k2")))


def test_dev_key_is_a_valid_32_byte_key():
    cipher = FieldCipher.from_spec(DEV_ENCRYPTION_KEY)
    assert cipher.current_key_id == "dev1"
    assert len(cipher.keys[0][1]) == 32


def test_new_key_entry_is_usable():
    made = new_key_entry()
    cipher = FieldCipher.from_spec(made)
    assert cipher.decrypt(cipher.encrypt("x", "c"), "c") == "x"
    assert new_key_entry("prod-2026").startswith("prod-2026:")
    with pytest.raises(EncryptionKeyError):
        new_key_entry("no spaces")


def test_cli_new_key_prints_one_entry(capsys):
    assert crypto.main(["new-key", "--key-id", "k9"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("k9:")
    FieldCipher.from_spec(printed)


def test_cli_check_reports_a_malformed_setting(capsys, monkeypatch):
    monkeypatch.setattr(crypto, "default_cipher", lambda: FieldCipher.from_spec("k1:short"))
    assert crypto.main(["check"]) == 2
    assert "KEFU_ENCRYPTION_KEYS" in capsys.readouterr().err
