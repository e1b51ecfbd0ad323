"""What an earlier release stored must open in this one: keys wrapped, fields encrypted and
receipt codes hashed then (the vectors below were made by the release that introduced them).
A change of the key derivation, the associated data or the argon2 parameters would lock every
stored tip and receipt code out."""

import pytest

from app import public_writes
from app.tips import crypto

TIP_KEY = "a-tip-key-of-an-earlier-release-0123456789abc"
WRAPPED_DATA_KEY = bytes.fromhex(
    "f4fca2be6d665c6c20301bc562bbb2bf74258956ae8d87885e9367a998405de094c8aecb7e130cae"
    "0bd0099682c4b1c5ac98c3daa43f3518e8607d40"
)  # b"k" * 32 for the tip with id 1 and receipt hash "abc"
WRAPPED_SALT = bytes.fromhex(
    "f9069d86313344b5c179ea572fbab02521d7e339530b59c4c1a88394e8465a5cf76b7a78b891b5ce9870adb1"
)  # b"s" * 16
CONTENT = bytes.fromhex(
    "d51697fde6d8394ec7bbe06b72d02985152d58007be739811adc46a20f87944ffc766914a7357de6"
)  # "举报内容" under b"k" * 32 as the content field
RECEIPT_HASH = "9cd0224bef779a61eb63bbbe20e125a39790675c1496e77a260a099a7ab1a87c"


def test_keys_and_fields_stored_by_an_earlier_release_still_open() -> None:
    master = crypto.master_key(TIP_KEY)
    assert crypto.unwrap(master, WRAPPED_DATA_KEY, context=":1:abc") == b"k" * 32
    assert crypto.unwrap(master, WRAPPED_SALT, salt=True) == b"s" * 16
    assert crypto.decrypt_text(b"k" * 32, CONTENT, label="content") == "举报内容"


def test_a_wrapped_key_opens_only_where_it_was_made_for() -> None:
    master = crypto.master_key(TIP_KEY)
    for wrong in (
        lambda: crypto.unwrap(master, WRAPPED_DATA_KEY, context=":2:abc"),
        lambda: crypto.unwrap(master, WRAPPED_DATA_KEY, salt=True, context=":1:abc"),
        lambda: crypto.unwrap(crypto.master_key(TIP_KEY + "x"), WRAPPED_DATA_KEY, context=":1:abc"),
        lambda: crypto.decrypt(b"k" * 32, CONTENT, label="accused"),
    ):
        with pytest.raises(crypto.KeyMismatch) as refused:
            wrong()
        assert str(refused.value) == "举报数据无法用现有密钥打开，请联系管理员。"


def test_a_receipt_code_hashed_by_an_earlier_release_is_found_again() -> None:
    assert public_writes.code_hash("1234567890123456", b"s" * 16) == RECEIPT_HASH
