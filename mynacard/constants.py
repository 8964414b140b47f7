"""Spec constants of the My Number Card, named as in docs/mynacard-protocol.md (shared/).

One way for all of them: ``@unique`` enums. EF identifiers are per application because the same
FID means different files in different APs (e.g. ``0001`` is a certificate in the JPKI AP and
the My Number in the text AP).
"""

from __future__ import annotations

import logging
from enum import Enum, IntEnum, unique

logger = logging.getLogger(__name__)


@unique
class AID(bytes, Enum):
    """Application identifiers (DF names), spec §2."""

    JPKI = bytes.fromhex("D392F000260100000001")
    TEXT = bytes.fromhex("D3921000310001010408")  # 券面事項入力補助AP
    VISUAL = bytes.fromhex("D3921000310001010402")  # 券面事項確認AP (券面AP)
    JUKI = bytes.fromhex("D3921000310001010401")  # 住基AP
    COMMON = bytes.fromhex("D3921000310001010100")  # 共通カードAP
    ISD = bytes.fromhex("A0000001510000")  # GlobalPlatform issuer security domain


@unique
class INS(IntEnum):
    """Instruction bytes used by this package, spec §3."""

    VERIFY = 0x20
    CHANGE_REFERENCE_DATA = 0x24
    RESET_RETRY_COUNTER = 0x2C  # ISO 7816-4; not used on this card, redacted all the same
    CHANGE_KEY = 0x32  # 80 32, 住基/共通 AP PIN change (§3)
    COMPUTE_DIGITAL_SIGNATURE = 0x2A
    GET_CHALLENGE = 0x84
    SELECT = 0xA4
    READ_BINARY = 0xB0
    READ_RECORD = 0xB2
    GET_RESPONSE = 0xC0
    GET_DATA = 0xCA


#: CLA of the proprietary commands (``80 2A`` signature, §3).
CLA_PROPRIETARY = 0x80
#: SELECT P1 values (§2.1).
SELECT_BY_DF_NAME = 0x04
SELECT_EF_UNDER_DF = 0x02
#: SELECT P2 "no FCI" (§2.1), and VERIFY / sign P2 "key = current EF" (§3).
P2_NO_FCI = 0x0C
P2_CURRENT_EF_KEY = 0x80


@unique
class JpkiEF(IntEnum):
    """Files of the JPKI AP, spec §4.1."""

    SIGN_CERT = 0x0001
    SIGN_CA_CERT = 0x0002
    TOKEN_INFO = 0x0006
    CERT_AVAILABILITY = 0x0008
    AUTH_CERT = 0x000A
    AUTH_CA_CERT = 0x000B
    AUTH_KEY = 0x0017
    AUTH_PIN = 0x0018
    SIGN_KEY = 0x001A
    SIGN_PIN = 0x001B


@unique
class TextEF(IntEnum):
    """Files of the 券面事項入力補助AP, spec §5.1."""

    MY_NUMBER = 0x0001
    BASIC_FOUR = 0x0002
    INTEGRITY = 0x0003
    CV_CERT = 0x0004
    BASIC_INFO = 0x0005
    PIN = 0x0011
    PIN_A = 0x0014
    PIN_B = 0x0015


@unique
class VisualEF(IntEnum):
    """Files of the 券面AP, spec §6.1."""

    AGE_CHECK = 0x0001
    CARD_FACE = 0x0002
    BASIC_INFO = 0x0003
    CV_CERT = 0x0004
    MY_NUMBER_IMAGE = 0x0005
    BIRTH_DATE_KEY = 0x0011
    PIN_B = 0x0012
    PIN_A = 0x0013
    CARD_KEY = 0x001A


@unique
class JukiEF(IntEnum):
    """Files of the 住基AP, spec §7."""

    PIN = 0x001C


@unique
class SW(IntEnum):
    """Status words seen on this card, spec §8 (the 63Cx / 61xx / 6Cxx families are masks)."""

    OK = 0x9000
    VERIFY_FAILED_NO_LIMIT = 0x6300
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983  # never observed on this card (§13.8); 6984 is what it sends
    REFERENCE_DATA_BLOCKED = 0x6984  # "referenced IEF locked", §4.4
    CONDITIONS_NOT_SATISFIED = 0x6985
    NO_CURRENT_EF = 0x6986
    INCORRECT_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    INCORRECT_P1_P2 = 0x6A86
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    WRONG_OFFSET = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


#: SW1 of the families whose SW2 carries a number (ISO 7816-4 §5.1.3).
SW1_BYTES_AVAILABLE = 0x61  # 61xx: xx more bytes, fetch with GET RESPONSE
SW1_WRONG_LE = 0x6C  # 6Cxx: re-send with Le = xx
SW_VERIFY_FAILED_MASK = 0x63C0  # 63Cx: x tries left (§4.4)


def retry_counter(sw: int) -> int | None:
    """The x of a 63Cx status word, or None for any other status word."""
    if sw & 0xFFF0 == SW_VERIFY_FAILED_MASK:
        return sw & 0x0F
    return None


#: Maximum tries per key (§4.3, §6.2; PIN-B's 10 is second-hand, §13.2).
MAX_TRIES_JPKI_AUTH = 3
MAX_TRIES_JPKI_SIGN = 5
MAX_TRIES_FOUR_DIGIT = 3
MAX_TRIES_VISUAL_PIN_B = 10

#: RSA-2048 signatures are always 256 bytes (§4.6).
SIGNATURE_LENGTH = 256
#: EMSA-PKCS1-v1_5 on a 2048-bit key leaves room for at most 245 input bytes (§4.6, §11.6).
MAX_SIGN_INPUT = 245
