"""Build the four applications of a simulated card from a profile and the test PKI.

Layouts follow the spec: JPKI AP §4.1–§4.2, text AP §5.1/§5.3, visual AP §6.1/§6.3, 住基AP §7.
"""

from __future__ import annotations

import hashlib
import logging

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from mynacard.constants import AID, JpkiEF, JukiEF, TextEF, VisualEF
from mynacard.pins import make_birth_date_key, make_pin_b
from mynacard.records import (
    CardRsaKey,
    build_ap_basic_info,
    build_card_face,
    build_certificate_availability,
    build_token_info,
    make_key_id,
)
from mynacard.sim.certs import issue_card_certificates, text_cv_certificate, visual_cv_certificate
from mynacard.sim.filesystem import Application, BinaryEF, PinKey, SigningKey, with_filler
from mynacard.sim.images import render_security_code, render_text
from mynacard.sim.pki import VISUAL_SIGNER_KEY_ID, CardKeys, SimPki
from mynacard.sim.profile import CardProfile
from mynacard.tlv import Tlv

logger = logging.getLogger(__name__)

__all__ = ["build_applications"]

_FF = b"\xff"


def _tlv(tag: int, value: bytes) -> bytes:
    return Tlv(tag, value).raw


def _sign_sha256(key: RSAPrivateKey, data: bytes) -> bytes:
    # Issuer signatures on the card's records are SHA-256 PKCS#1 v1.5 (§5.3 DF33, §6.3 EF 0001).
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _card_key_value(key: RSAPrivateKey) -> bytes:
    return CardRsaKey.from_public_key(key.public_key()).encode()


def _pin(fid: int, value: str, max_tries: int | None, tries_left: int, kind: str) -> PinKey:
    return PinKey(
        fid=fid, value=value.encode("ascii"), max_tries=max_tries, tries_left=tries_left, kind=kind
    )


def _jpki(profile: CardProfile, pki: SimPki, keys: CardKeys) -> Application:
    certs = issue_card_certificates(pki, keys, profile)
    auth_pin, sign_pin = profile.pins["jpki_auth"], profile.pins["jpki_sign"]
    sign_cert = certs.sign if profile.has_sign_certificate else b""
    efs = [
        # The sign certificate holds the 基本4情報 and is behind the password (§4.1).
        BinaryEF(JpkiEF.SIGN_CERT, with_filler(sign_cert, 0x800), frozenset({JpkiEF.SIGN_PIN})),
        BinaryEF(JpkiEF.SIGN_CA_CERT, with_filler(certs.sign_ca, 0x800)),
        BinaryEF(
            JpkiEF.TOKEN_INFO,
            build_token_info(
                manufacturer_id="myna-reset simulator", serial_number=profile.card_id[:16]
            ),
        ),
        BinaryEF(
            JpkiEF.CERT_AVAILABILITY,
            build_certificate_availability(sign=profile.has_sign_certificate, auth=True),
        ),
        BinaryEF(JpkiEF.AUTH_CERT, with_filler(certs.auth, 0x800)),
        BinaryEF(JpkiEF.AUTH_CA_CERT, with_filler(certs.auth_ca, 0x800)),
    ]
    pins = [
        _pin(JpkiEF.AUTH_PIN, auth_pin.value, auth_pin.max_tries, auth_pin.tries_left, "jpki_auth"),
        _pin(JpkiEF.SIGN_PIN, sign_pin.value, sign_pin.max_tries, sign_pin.tries_left, "jpki_sign"),
    ]
    signing = [
        SigningKey(JpkiEF.AUTH_KEY, keys.auth, frozenset({JpkiEF.AUTH_PIN})),
        SigningKey(JpkiEF.SIGN_KEY, keys.sign, frozenset({JpkiEF.SIGN_PIN})),
    ]
    return _app("JPKI", AID.JPKI, efs, pins, signing)


def _visual(profile: CardProfile, pki: SimPki, keys: CardKeys) -> Application:
    pin_b = make_pin_b(profile.birth_date, profile.card_expiry, profile.security_code)
    card_key = _card_key_value(keys.visual_card)
    signer = pki.visual_signer_key

    # EF 0001, age check: FF10 { DF11 birth date, DF12 card key, DF13 sig over DF11‖DF12 } (§6.3)
    signed = _tlv(0xDF11, f"{profile.birth_date:%Y%m%d}".encode()) + _tlv(0xDF12, card_key)
    age_check = _tlv(0xFF10, signed + _tlv(0xDF13, _sign_sha256(signer, signed)))

    face = build_card_face(
        birth_date=profile.birth_date,
        sex=profile.sex,
        card_public_key=keys.visual_card.public_key(),
        name_png=render_text(profile.name),
        address_png=render_text(profile.address),
        photo_jp2=profile.photo_jp2,
        expiry=profile.card_expiry,
        security_code_png=render_security_code(profile.security_code),
        issuer_private_key=signer,
    )
    # EF 0003 basic info: FF30 { DF31 version, DF32 key ID, DF33 version, DF34 municipality,
    # DF35 key ID + 256 opaque bytes } (§6.3). The opaque part is a hash-derived filler.
    opaque = hashlib.sha256(profile.card_id.encode()).digest() * 8
    basic = _tlv(
        0xFF30,
        b"".join(
            [
                _tlv(0xDF31, bytes.fromhex("06030E01")),
                _tlv(0xDF32, make_key_id(VISUAL_SIGNER_KEY_ID)),
                _tlv(0xDF33, b"\x01"),
                _tlv(0xDF34, profile.municipality_code[:5].encode("ascii")),
                _tlv(0xDF35, make_key_id(VISUAL_SIGNER_KEY_ID) + opaque),
            ]
        ),
    )
    # EF 0005: FF40 { DF41 rendered number (PNG), DF42 card key, DF43 sig over the two } (§6.3)
    number_signed = _tlv(0xDF41, render_text(profile.my_number, height=12)) + _tlv(0xDF42, card_key)
    number_image = _tlv(0xFF40, number_signed + _tlv(0xDF43, _sign_sha256(signer, number_signed)))

    a_or_b = frozenset({VisualEF.PIN_A, VisualEF.PIN_B})
    efs = [
        BinaryEF(VisualEF.AGE_CHECK, with_filler(age_check), frozenset({VisualEF.BIRTH_DATE_KEY})),
        BinaryEF(VisualEF.CARD_FACE, with_filler(face, len(face) + 1024), a_or_b),
        BinaryEF(VisualEF.BASIC_INFO, with_filler(basic)),
        BinaryEF(VisualEF.CV_CERT, with_filler(visual_cv_certificate(pki))),
        # Measured access (§6.1): A opens 0002–0006, B the same set except 0005.
        BinaryEF(VisualEF.MY_NUMBER_IMAGE, with_filler(number_image), frozenset({VisualEF.PIN_A})),
        BinaryEF(0x0006, _FF * 16, a_or_b),
    ]
    tries = profile.derived_tries
    pins = [
        _pin(
            VisualEF.BIRTH_DATE_KEY,
            make_birth_date_key(profile.birth_date),
            10,
            tries["visual_birth_date"],
            "visual_birth_date",
        ),
        _pin(VisualEF.PIN_B, pin_b, 10, tries["visual_pin_b"], "visual_pin_b"),
        _pin(VisualEF.PIN_A, profile.my_number, 10, tries["visual_pin_a"], "visual_pin_a"),
    ]
    signing = [SigningKey(VisualEF.CARD_KEY, keys.visual_card, own_card_key=True)]
    return _app("VISUAL", AID.VISUAL, efs, pins, signing)


def _text(profile: CardProfile, pki: SimPki, keys: CardKeys) -> Application:
    pin_b = make_pin_b(profile.birth_date, profile.card_expiry, profile.security_code)
    signer = pki.text_signer_key
    # EF 0001: FF 10 0C <12 ASCII digits> FF FF — 17 bytes physically (§5.3).
    number = with_filler(_tlv(0xFF10, profile.my_number.encode("ascii")), 17)
    # EF 0002: FF20 { DF21 offsets of DF22..DF25 from the start of the file, DF22..DF25 } (§5.3)
    entries = [
        _tlv(0xDF22, profile.name.encode("utf-8")),
        _tlv(0xDF23, profile.address.encode("utf-8")),
        _tlv(0xDF24, f"{profile.birth_date:%Y%m%d}".encode()),
        _tlv(0xDF25, profile.sex.encode()),
    ]
    table_length = 3 + 8
    body_length = table_length + sum(map(len, entries))
    header_length = len(Tlv(0xFF20, bytes(body_length)).header)
    offsets, position = bytearray(), header_length + table_length
    for entry in entries:
        offsets += position.to_bytes(2, "big")
        position += len(entry)
    basic_four = _tlv(0xFF20, _tlv(0xDF21, bytes(offsets)) + b"".join(entries))
    # EF 0003: DF31 = SHA-256 of EF 0001 as stored (17 bytes), DF32 = SHA-256 of DF22..DF25,
    # DF33 = signature over the DF31 and DF32 TLVs (§5.3).
    digests = _tlv(0xDF31, hashlib.sha256(number).digest()) + _tlv(
        0xDF32, hashlib.sha256(b"".join(entries)).digest()
    )
    integrity = _tlv(0xFF30, digests + _tlv(0xDF33, _sign_sha256(signer, digests)))
    # EF 0005: FF40 { DF41 04, DF42 key ID, DF43 128 bytes (32 + 96 × FF) } (§5.3).
    ap_info = build_ap_basic_info(
        key_id=make_key_id("9000034/001"),
        reserved=hashlib.sha256(b"text-ap:" + profile.card_id.encode()).digest() + _FF * 96,
    )
    # EF 0007: FF50 { DF51 card public key, DF52 issuer signature over the DF51 TLV } (§5.3).
    key_tlv = _tlv(0xDF51, _card_key_value(keys.text_card))
    own_key = _tlv(0xFF50, key_tlv + _tlv(0xDF52, _sign_sha256(signer, key_tlv)))

    pin, a, b = TextEF.PIN, TextEF.PIN_A, TextEF.PIN_B
    efs = [
        BinaryEF(TextEF.MY_NUMBER, number, frozenset({pin, a})),
        BinaryEF(TextEF.BASIC_FOUR, with_filler(basic_four), frozenset({pin, b})),
        BinaryEF(TextEF.INTEGRITY, with_filler(integrity), frozenset({pin, a, b})),
        BinaryEF(TextEF.CV_CERT, with_filler(text_cv_certificate(pki))),
        BinaryEF(TextEF.BASIC_INFO, ap_info),
        BinaryEF(0x0007, with_filler(own_key), frozenset({pin, a, b})),
        BinaryEF(0x0008, _FF * 16),
    ]
    text_pin = profile.pins["text_pin"]
    tries = profile.derived_tries
    pins = [
        _pin(pin, text_pin.value, text_pin.max_tries, text_pin.tries_left, "text_pin"),
        # 0012 arrives blocked on real cards, purpose unknown (§5.1).
        PinKey(0x0012, hashlib.sha256(profile.card_id.encode()).digest()[:8], 3, 0),
        _pin(a, profile.my_number, 10, tries["visual_pin_a"], "text_pin_a"),
        _pin(b, pin_b, 10, tries["visual_pin_b"], "text_pin_b"),
    ]
    signing = [SigningKey(0x0013, keys.text_card, own_card_key=True)]
    return _app("TEXT", AID.TEXT, efs, pins, signing)


def _juki(profile: CardProfile) -> Application:
    setting = profile.pins["juki_pin"]
    pins = [_pin(JukiEF.PIN, setting.value, setting.max_tries, setting.tries_left, "juki_pin")]
    return _app("JUKI", AID.JUKI, [], pins, [])


def _app(
    name: str, aid: bytes, efs: list[BinaryEF], pins: list[PinKey], keys: list[SigningKey]
) -> Application:
    return Application(
        name=name,
        aid=bytes(aid),
        efs={int(ef.fid): ef for ef in efs},
        pins={int(p.fid): p for p in pins},
        keys={int(k.fid): k for k in keys},
    )


def build_applications(
    profile: CardProfile, pki: SimPki, keys: CardKeys
) -> tuple[Application, ...]:
    """The JPKI AP, 券面AP, 入力補助AP and 住基AP of the card described by ``profile``."""
    logger.debug("building applications for card %s", profile.card_id)
    return (
        _jpki(profile, pki, keys),
        _visual(profile, pki, keys),
        _text(profile, pki, keys),
        _juki(profile),
    )
