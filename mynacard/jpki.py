"""The JPKI AP (公的個人認証AP): token, retry counters, certificates, signatures (spec §4)."""

from __future__ import annotations

import logging
from enum import Enum, unique
from typing import Literal, get_args

from mynacard.constants import (
    AID,
    MAX_TRIES_JPKI_AUTH,
    MAX_TRIES_JPKI_SIGN,
    P2_CURRENT_EF_KEY,
    JpkiEF,
)
from mynacard.errors import NotMyNumberCardError
from mynacard.pins import PinKind, PinStatus, normalize_pin
from mynacard.records import (
    CERT_AVAILABILITY_LENGTH,
    CERTIFICATE_HEADER_LENGTH,
    LABEL_MY_NUMBER_CARD,
    TOKEN_INFO_LENGTH,
    TOKEN_LABEL_LENGTH,
    CertificateAvailability,
    TokenInfo,
    parse_certificate_availability,
    parse_certificate_length,
    parse_token_info,
    parse_token_label,
)
from mynacard.session import ApplicationSession

logger = logging.getLogger(__name__)

__all__ = ["JPKI_KEY_NAMES", "CertificateKind", "JpkiKeyName", "JpkiSession", "KeyKind"]


@unique
class CertificateKind(Enum):
    """The four certificate EFs (§4.1)."""

    AUTH = JpkiEF.AUTH_CERT  # 利用者証明用電子証明書, free to read
    AUTH_CA = JpkiEF.AUTH_CA_CERT
    SIGN = JpkiEF.SIGN_CERT  # 署名用電子証明書, needs the signature password verified
    SIGN_CA = JpkiEF.SIGN_CA_CERT


#: A JPKI key as pages, the bridge protocol and the evidence name it. Not a reset target: the
#: key that signs is the one whose password the resident still knows (mynacard.targets).
JpkiKeyName = Literal["auth", "sign"]
JPKI_KEY_NAMES: frozenset[str] = frozenset(get_args(JpkiKeyName))


@unique
class KeyKind(Enum):
    """The two private keys, the certificate that goes with each and the PIN that unlocks it
    (§4.1, §4.6)."""

    AUTH = (JpkiEF.AUTH_KEY, CertificateKind.AUTH, PinKind.JPKI_AUTH)
    SIGN = (JpkiEF.SIGN_KEY, CertificateKind.SIGN, PinKind.JPKI_SIGN)

    @classmethod
    def named(cls, name: str) -> KeyKind:
        """The key called ``name`` ("auth" or "sign"); ValueError for anything else."""
        for key in cls:
            if key.key_name == name:
                return key
        raise ValueError("a JPKI key is 'auth' or 'sign'")

    @property
    def key_name(self) -> JpkiKeyName:
        """The key's name on the wire and in the evidence."""
        return "auth" if self is KeyKind.AUTH else "sign"

    @property
    def ef(self) -> JpkiEF:
        """The key EF to SELECT before ``80 2A``."""
        return self.value[0]

    @property
    def certificate(self) -> CertificateKind:
        """The certificate EF holding this key's public half (§4.1)."""
        return self.value[1]

    @property
    def pin_kind(self) -> Literal[PinKind.JPKI_AUTH, PinKind.JPKI_SIGN]:
        """The credential whose VERIFY allows this key to sign."""
        return self.value[2]


_PIN_FILES: dict[PinKind, tuple[JpkiEF, int]] = {
    PinKind.JPKI_AUTH: (JpkiEF.AUTH_PIN, MAX_TRIES_JPKI_AUTH),
    PinKind.JPKI_SIGN: (JpkiEF.SIGN_PIN, MAX_TRIES_JPKI_SIGN),
}


def _pin_file(kind: PinKind) -> tuple[JpkiEF, int]:
    try:
        return _PIN_FILES[kind]
    except KeyError:
        raise ValueError(f"{kind} is not a JPKI credential") from None


class JpkiSession(ApplicationSession):
    """A session with the JPKI AP; selecting it happens on construction (§4.5 step 1)."""

    aid = AID.JPKI

    def token_label(self) -> str:
        """EF 0006's 32-byte label, e.g. ``"JPKIAPICCTOKEN2"`` on a My Number Card (§4.2, §12)."""
        self._select_ef(JpkiEF.TOKEN_INFO)
        return parse_token_label(self._read_binary(0, TOKEN_LABEL_LENGTH))

    def token_info(self) -> TokenInfo:
        """All 160 bytes of EF 0006, parsed (§4.2)."""
        self._select_ef(JpkiEF.TOKEN_INFO)
        return parse_token_info(self._read_binary(0, TOKEN_INFO_LENGTH))

    def check_token(self) -> str:
        """The token check: the label must be ``JPKIAPICCTOKEN2`` (a My Number Card, §4.2, §12),
        else NotMyNumberCardError — the card is identified by this, never by its ATR (§1)."""
        label = self.token_label()
        if label != LABEL_MY_NUMBER_CARD:
            raise NotMyNumberCardError(label)
        return label

    def certificate_availability(self) -> CertificateAvailability:
        """EF 0008: which certificates are present (no sign cert for under-15s, §9)."""
        self._select_ef(JpkiEF.CERT_AVAILABILITY)
        return parse_certificate_availability(self._read_binary(0, CERT_AVAILABILITY_LENGTH))

    def pin_status(self, kind: Literal[PinKind.JPKI_AUTH, PinKind.JPKI_SIGN]) -> PinStatus:
        """Tries left for the auth PIN or the signature password, without spending one (§4.4)."""
        fid, max_tries = _pin_file(kind)
        return self._retry_status(fid, kind, max_tries)

    def verify(self, kind: Literal[PinKind.JPKI_AUTH, PinKind.JPKI_SIGN], pin: str) -> None:
        """Present a credential. Raises InvalidPinFormatError (nothing sent), WrongPinError
        (``tries_left`` 0 = just locked) or PinBlockedError (§4.4)."""
        fid, _ = _pin_file(kind)
        value = normalize_pin(kind, pin)
        self._verify(fid, kind, value)

    def read_certificate(self, which: CertificateKind) -> bytes:
        """The DER certificate, read as 4-byte header then chunks, truncated to its length (§4.5).

        The signature certificate needs the signature password verified first, else
        SecurityStatusError (§4.1, §13.6).
        """
        self._select_ef(which.value)
        header = self._read_binary(0, CERTIFICATE_HEADER_LENGTH)
        total = parse_certificate_length(header)
        certificate = self._read_binary(
            CERTIFICATE_HEADER_LENGTH, total - CERTIFICATE_HEADER_LENGTH, prefix=header
        )
        logger.debug("read certificate %s (%d bytes)", which.name, len(certificate))
        return certificate

    def sign(self, key: KeyKind, digest_info: bytes) -> bytes:
        """Sign a DigestInfo with the auth or signature key: SELECT the key EF, then
        ``80 2A 00 80 <Lc> <DigestInfo> 00`` (§4.6). Needs :meth:`verify` of
        ``key.pin_kind`` first, else SecurityStatusError."""
        self._check_sign_input(digest_info)
        self._select_ef(key.ef)
        signature = self._compute_signature(P2_CURRENT_EF_KEY, digest_info)
        logger.debug("signed with the JPKI %s key", key.name)
        return signature
