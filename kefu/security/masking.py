"""Masking of personal data for display to customers and for logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

MASK = "****"

# Administrative divisions, outermost first: province level, prefecture level, county level. A unit's
# name holds no digits and none of the words that begin a street address.
_UNIT_NAME = r"[^\d\s路街道巷弄号省市区县旗盟]{1,12}?"
_ADMIN_PREFIX = re.compile(
    rf"^(?:{_UNIT_NAME}(?:省|自治区|特别行政区))?"
    rf"(?:{_UNIT_NAME}(?:自治州|地区|市|盟))?"
    rf"(?:{_UNIT_NAME}(?:区|县|市|旗))?"
)
_DIGIT = "[0-9０-９]"
_SEP = r"[ \-－]?"
_MOBILE = re.compile(
    rf"(?<![0-9０-９])((?:(?:\+|＋)?(?:86|８６)[ \-－]?)?[1１][3-9３-９]{_DIGIT}){_SEP}({_DIGIT}{{4}}){_SEP}"
    rf"({_DIGIT}{{4}})(?![0-9０-９])"
)
# Chinese characters count as word characters, so ASCII look-arounds stand in for \b.
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(?<![A-Za-z])(bearer\s+)[A-Za-z0-9._~+/-]{16,}=*")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)


def mask_phone(phone: str) -> str:
    """``13800138001`` -> ``138****8001``; values too short to keep anything become ``****``."""
    digits = phone.strip()
    if len(digits) < 8:
        return MASK
    return f"{digits[:3]}{MASK}{digits[-4:]}"


def mask_address(address: str) -> str:
    """Keeps the province, city and district, masks the rest: ``北京市朝阳区****``.

    An address without a recognisable division is masked whole, so that no street detail shows.
    """
    address = address.strip()
    if not address:
        return ""
    kept = _ADMIN_PREFIX.match(address).group(0)  # type: ignore[union-attr]  # every part is optional
    return f"{kept}{MASK}"


def mask_text(text: str) -> str:
    """Masks mobile numbers, JWT-like and bearer tokens and e-mail addresses inside free text."""
    text = _JWT.sub("eyJ****", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)


def _masking_record_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to logging's own error report
            return record
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    factory._kefu_masking = True  # type: ignore[attr-defined]
    return factory


def install_log_masking() -> None:
    """Masks phone numbers, tokens and e-mail addresses in every log record of this process.

    A record factory rather than a handler filter: it applies to every logger and every handler,
    including those Rasa configures after start-up. Installing twice is harmless.
    """
    previous = logging.getLogRecordFactory()
    if not getattr(previous, "_kefu_masking", False):
        logging.setLogRecordFactory(_masking_record_factory(previous))
