"""The reservation ID as a QR code, drawn on the server as inline SVG (issue 12).

The code holds only the public ID (a UUID, no personal data), so a counter's scanner that types
what it reads fills the staff look-up field directly. No image is fetched or stored.
"""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from reservations.models import Reservation

register = template.Library()


def qr_svg(text: str) -> str:
    """An SVG document (one path) encoding ``text`` with the default error correction (M)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg: str = image.to_string(encoding="unicode")
    return svg


@register.simple_tag
def reservation_qr(reservation: Reservation) -> SafeString:
    svg = qr_svg(str(reservation.public_id))
    label = _("予約番号のQRコード")
    # qrcode builds the SVG from the UUID alone (hex digits and hyphens): nothing to escape.
    return format_html(
        '<figure class="reservation-qr" role="img" aria-label="{}">{}</figure>',
        label,
        mark_safe(svg),  # noqa: S308
    )
