"""Turn the page's evidence JSON into a verified card identity, or a resident-readable refusal.

The page and the bridge are not trusted (architecture.md, trust model): everything here is checked
by `mynacard.evidence.verify_reservation_evidence` against the server's own nonce, purpose, origin
and trust anchors. This module only decodes, picks what must be true for the chosen target, and
maps every failure code to a distinct Japanese message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from mynacard.jpki import JPKI_KEY_NAMES
from mynacard.targets import TargetPassword, key_for, purpose_for

logger = logging.getLogger(__name__)

_BINARY_FIELDS = (
    "nonce",
    "jpki_certificate",
    "jpki_signature",
    "card_face",
    "cv_certificate",
    "card_key_signature",
    "auth_certificate",
)

MESSAGES: Mapping[str, Promise] = {
    "malformed": _(
        "カードから読み取ったデータの形式が正しくありません。カードを置き直して、もう一度読み取っ"
        "てください。"
    ),
    "wrong_purpose": _(
        "選択した初期化の種類と読み取り結果が一致しません。最初からやり直してください。"
    ),
    "wrong_origin": _(
        "このページのアドレスと読み取り結果が一致しません。正しいアドレスのページから操作してくだ"
        "さい。"
    ),
    "wrong_nonce": _(
        "読み取りの受付番号が使えません。使用済みか、別の画面の番号です。もう一度読み取ってくださ"
        "い。"
    ),
    "expired_nonce": _(
        "読み取りの受付時間(5分)が過ぎました。もう一度読み取ってください。"
    ),
    "bad_jpki_signature": _(
        "電子証明書による署名を確認できませんでした。もう一度読み取ってください。"
    ),
    "untrusted_chain": _(
        "マイナンバーカードの電子証明書を確認できませんでした。お住まいの市区町村窓口にご相談くだ"
        "さい。"
    ),
    "certificate_expired": _(
        "電子証明書の有効期限が切れているか、まだ有効になっていません。"
        "お住まいの市区町村窓口で電子証明書の更新手続きを行ってください。"
    ),
    "wrong_key_usage": _(
        "この電子証明書はこの手続きに使えません。お住まいの市区町村窓口にご相談ください。"
    ),
    "untrusted_cv_certificate": _(
        "カードの券面情報の発行元を確認できませんでした。お住まいの市区町村窓口にご相談ください。"
    ),
    "tampered_card_face": _(
        "ICチップの券面情報(顔写真)が書き換えられているおそれがあります。このため、受け付けでき"
        "ません。"
    ),
    "bad_card_key_signature": _(
        "ICチップが本物であることを確認できませんでした。カードを置き直して、もう一度読み取ってく"
        "ださい。"
    ),
    "wrong_key": _(
        "選択したパスワードの種類と、入力したパスワードの種類が一致しません。最初からやり直してく"
        "ださい。"
    ),
    "rate_limited": _(
        "読み取りの回数が上限に達しました。しばらく時間をおいてから、もう一度お試しください。"
    ),
    "card_rate_limited": _(
        "このカードでの予約操作の回数が上限に達しました。明日以降にもう一度お試しください。"
    ),
    "wrong_step": _("手続きの順番が正しくありません。最初からやり直してください。"),
    "not_assisted": _("この画面は窓口の職員が支援している端末でのみ使えます。"),
    "expired_session": _(
        "時間切れのため、手続きが中断されました。最初からやり直してください。"
    ),
    "extension_limit": _(
        "時間の延長は、これ以上できません。時間内に終わらない場合は、最初からやり直してください。"
    ),
}


class EvidenceRejected(Exception):
    """The evidence was refused; `code` is stable, `message` is for the resident."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(MESSAGES.get(self.code, MESSAGES["malformed"]))


@dataclass(frozen=True)
class EvidenceFields:
    """The decoded JSON body (binary fields as bytes)."""

    nonce: bytes
    jpki_key: str
    jpki_certificate: bytes
    jpki_signature: bytes
    card_face: bytes
    cv_certificate: bytes
    card_key_signature: bytes
    auth_certificate: bytes
    #: What the bridge says it signed (optional): lets a mismatch be named precisely
    #: (wrong_origin / wrong_purpose) instead of surfacing as a bad signature. Never trusted.
    claimed_origin: str | None = None
    claimed_purpose: str | None = None


@dataclass(frozen=True)
class Accepted:
    """What the session records after verified evidence (no photo, only its hash)."""

    card_identity: str
    signer_identity: str
    photo_sha256: str
    certificate_not_after: str


def decode(body: Any) -> EvidenceFields:
    """Strict base64 decoding of the page's JSON; anything odd is `malformed`."""
    if not isinstance(body, dict):
        raise EvidenceRejected("malformed")
    values: dict[str, bytes] = {}
    for name in _BINARY_FIELDS:
        raw = body.get(name)
        if not isinstance(raw, str) or not raw:
            raise EvidenceRejected("malformed")
        try:
            values[name] = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise EvidenceRejected("malformed") from None
    jpki_key = body.get("jpki_key")
    if jpki_key not in JPKI_KEY_NAMES:
        raise EvidenceRejected("malformed")
    claimed: dict[str, str | None] = {}
    for name in ("origin", "purpose"):
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise EvidenceRejected("malformed")
        claimed[name] = value
    return EvidenceFields(
        jpki_key=str(jpki_key),
        claimed_origin=claimed["origin"],
        claimed_purpose=claimed["purpose"],
        **values,
    )


def verify(
    fields: EvidenceFields, *, target: str, origin: str, now: datetime
) -> Accepted:
    """Verify against the server's own purpose/origin/nonce; the nonce was already taken back."""
    from mynacard.evidence import EvidenceError, ReservationEvidence, verify_reservation_evidence
    from reservations.anchors import trust_anchors

    purpose = purpose_for(TargetPassword(target))
    # The key that must have signed: the one the resident still knows (architecture.md table).
    expected_key = key_for(TargetPassword(target)).key_name
    if fields.jpki_key != expected_key:
        # Resetting 署名用 requires the auth key's signature and vice versa (architecture.md).
        raise EvidenceRejected("wrong_key")
    evidence = ReservationEvidence(
        purpose=fields.claimed_purpose or purpose,
        origin=fields.claimed_origin or origin,
        nonce=fields.nonce,
        jpki_key=expected_key,
        jpki_certificate=fields.jpki_certificate,
        jpki_signature=fields.jpki_signature,
        card_face=fields.card_face,
        cv_certificate=fields.cv_certificate,
        card_key_signature=fields.card_key_signature,
        auth_certificate=fields.auth_certificate,
    )
    try:
        verified = verify_reservation_evidence(
            evidence, trust_anchors(), purpose=purpose, origin=origin, nonce=fields.nonce, now=now
        )
    except EvidenceError as exc:
        code = str(getattr(exc, "code", "malformed"))
        logger.info("evidence rejected code=%s", code)
        raise EvidenceRejected(code if code in MESSAGES else "malformed") from None
    except ValueError:
        # challenge_digest refuses a non-canonical origin or purpose (docs/evidence.md §1): the
        # page gets a reason code, not a server error.
        logger.info("evidence rejected code=malformed (non-canonical challenge input)")
        raise EvidenceRejected("malformed") from None
    if verified.jpki_key != expected_key:
        raise EvidenceRejected("wrong_key")
    return Accepted(
        card_identity=verified.card_identity,
        signer_identity=verified.signer_identity,
        photo_sha256=hashlib.sha256(verified.photo_jp2).hexdigest(),
        certificate_not_after=verified.certificate_not_after.isoformat(),
    )
