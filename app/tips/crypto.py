"""Keys of the tips domain.

- The master key is HKDF-SHA256 of LIANYUN_TIP_KEY; it only wraps other keys.
- Each tip has its own random 256-bit data key, stored wrapped (AES-GCM) by the master key;
  every encrypted field and file of the tip is AES-GCM under that data key, with the field's
  name as associated data so that ciphertexts cannot be swapped between fields.
- Receipt codes are hashed with argon2id under one installation-wide random salt, itself
  stored wrapped by the master key (`tip_keyring`): a database copy alone cannot even start
  guessing codes, and rotating the master key keeps every receipt code working.
"""

import secrets

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.tips.errors import TipKeyUnavailable

NONCE_BYTES = 12
KEY_BYTES = 32
SALT_BYTES = 16
_WRAP_AAD = b"lianyun-tip-data-key"
_SALT_AAD = b"lianyun-tip-receipt-salt"
# argon2id at OWASP's minimum profile (19 MiB, 2 passes): ~30 ms per code on one core.
_ARGON2_TIME_COST = 2
_ARGON2_MEMORY_KIB = 19 * 1024


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


def receipt_hash(code: str, salt: bytes) -> str:
    """argon2id of the 16 digits; the same work for every code, right or wrong."""
    digest = hash_secret_raw(
        secret=code.encode(),
        salt=salt,
        time_cost=_ARGON2_TIME_COST,
        memory_cost=_ARGON2_MEMORY_KIB,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    )
    return digest.hex()


def new_receipt_code() -> str:
    """16 random digits (log2(10¹⁶) ≈ 53.2 bits)."""
    return f"{secrets.randbelow(10**16):016d}"


def group_receipt_code(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, 16, 4))
