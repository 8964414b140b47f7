"""The done page's QR code decodes (OpenCV's detector) to exactly the reservation's public ID."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from django.test import Client

from mynacard.targets import TargetPassword
from reservations.models import Reservation
from reservations.templatetags.reservation_qr import qr_svg
from reset import reservation_cookie


def _decode(svg: str) -> str:
    """Rasterise the one-path SVG (a square per dark module) and read it with OpenCV."""
    view = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    assert view is not None
    scale = 8
    side = round(float(view.group(1)) * scale)
    pixels = np.full((side, side), 255, dtype=np.uint8)
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", svg)
    assert len(squares) > 100
    for x1, y1, x2, y2 in squares:
        pixels[
            round(float(y1) * scale) : round(float(y2) * scale),
            round(float(x1) * scale) : round(float(x2) * scale),
        ] = 0
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR))
    return str(text)


def test_the_svg_decodes_to_the_text() -> None:
    assert _decode(qr_svg("1b4e28ba-2fa1-11d2-883f-0016d3cca427")) == (
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    )
    assert _decode(qr_svg("something else")) != "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.mark.django_db
def test_the_done_page_shows_the_id_and_its_qr_code() -> None:
    booked = Reservation.book(card_identity="cd" * 32, target=TargetPassword.AUTH)
    client = Client()
    response = client.get("/")
    reservation_cookie.remember(response.wsgi_request, response, booked)
    client.cookies.update(response.cookies)
    page = client.get("/reset/reservation/").content.decode()
    assert f'<code id="reservation-id">{booked.public_id}</code>' in page
    svg = page[page.index('<figure class="reservation-qr"') :]
    svg = svg[svg.index("<svg") : svg.index("</svg>") + 6]
    assert _decode(svg) == str(booked.public_id)
