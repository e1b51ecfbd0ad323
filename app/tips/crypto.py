"""Keys of the tips domain.

- The master key is HKDF-SHA256 of LIANYUN_TIP_KEY; it only wraps other keys.
- Each tip has its own random 256-bit data key, stored wrapped (AES-GCM) by the master key;
  every encrypted field and file of the tip is AES-GCM under that data key, with the field's
  name as associated data so that ciphertexts cannot be swapped between fields.
- Receipt codes are hashed with argon2id (app.public_writes.code_hash) under one
  installation-wide random salt, itself stored wrapped by the master key (`tip_keyring`): a
  database copy alone cannot even start guessing codes, and rotating the master key keeps
  every receipt code working.
"""

import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.tips.errors import TipKeyUnavailable

NONCE_BYTES = 12
KEY_BYTES = 32
SALT_BYTES = 16
_WRAP_AAD = b"lianyun-tip-data-key"
_SALT_AAD = b"lianyun-tip-receipt-salt"


class KeyMismatch(TipKeyUnavailable):
    """A wrapped key or a field does not open: LIANYUN_TIP_KEY changed without
    `lianyun rotate-tip-key`, or rows were altered or swapped by someone without the key."""


def master_key(tip_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"lianyun tip master key v1"
    ).derive(tip_key.encode())


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def encrypt(key: bytes, plaintext: bytes, *, label: str) -> bytes:
    """nonce ‖ ciphertext ‖ tag."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, label.encode())


def decrypt(key: bytes, blob: bytes, *, label: str) -> bytes:
    from cryptography.exceptions import InvalidTag

    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], label.encode())
    except InvalidTag as exc:
        raise KeyMismatch("举报数据无法用现有密钥打开，请联系管理员。") from exc


def encrypt_text(key: bytes, text: str | None, *, label: str) -> bytes | None:
    return None if text is None else encrypt(key, text.encode(), label=label)


def decrypt_text(key: bytes, blob: bytes | None, *, label: str) -> str | None:
    return None if blob is None else decrypt(key, blob, label=label).decode()


def wrap(master: bytes, key: bytes, *, salt: bool = False, context: str = "") -> bytes:
    """`context` is bound into the associated data: the wrapped key opens only where it was
    made for (a tip's id and receipt hash), so rows cannot be swapped without the master key."""
    return encrypt(master, key, label=(_SALT_AAD if salt else _WRAP_AAD).decode() + context)


def unwrap(master: bytes, wrapped: bytes, *, salt: bool = False, context: str = "") -> bytes:
    """KeyMismatch when the master key or the context is not the one it was wrapped with."""
    return decrypt(master, wrapped, label=(_SALT_AAD if salt else _WRAP_AAD).decode() + context)
