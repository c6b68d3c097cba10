"""Personal data at rest (DESIGN principle 8): encrypted columns and masking helpers."""

import base64
import hashlib
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(key_material: str) -> Fernet:
    key = base64.urlsafe_b64encode(hashlib.sha256(key_material.encode()).digest())
    return Fernet(key)


def cipher() -> Fernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key or tampered value: never show ciphertext as data
        raise ValueError("个人信息解密失败：加密密钥不符或数据被篡改。") from exc


class EncryptedCharField(models.TextField):
    """A short text stored encrypted (Fernet). Not searchable in SQL by design; keep a
    separate digest or suffix column when lookups are needed."""

    personal_data = True

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

    def formfield(self, **kwargs):
        return models.CharField(max_length=self.max_length).formfield(**kwargs)


def mask_phone(phone: str | None) -> str:
    """13812345678 → 138****5678."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(number: str | None) -> str:
    """Keep the first 6 (region) and the last 4 characters."""
    if not number:
        return ""
    n = number.strip()
    if len(n) <= 10:
        return n[:2] + "*" * (len(n) - 2)
    return f"{n[:6]}{'*' * (len(n) - 10)}{n[-4:]}"


def mask_name(name: str | None) -> str:
    """张三 → 张*; 欧阳娜娜 → 欧**娜."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# Numbers that look like a mobile phone or an ID number inside free text (findings, replies,
# facts of a published decision).
PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def mask_in_text(text: str, *, removed: str | None = None) -> str:
    """Free text as the public may read it: phone and ID numbers typed into it masked, or
    replaced by `removed` where they must not appear at all."""
    text = ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()) if removed is None else removed, text)
    return PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()) if removed is None else removed, text)
