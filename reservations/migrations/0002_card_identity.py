"""One card identity per card (issue 11): from the user-auth certificate, whichever key signed.

Until now `card_identity` hashed the certificate of the key that signed the booking:
- target "sign" was signed by the user-auth key, so its identity already is the user-auth
  certificate's: unchanged;
- target "auth" was signed by the signature key, whose certificate is not the user-auth one and
  cannot be turned into it (only a hash was kept). Such a booking could never be found at a
  kiosk, so an active one is revoked (the resident books again); closed ones keep their history.
Every row records the old value as `signer_identity`, which is exactly what it was.
"""

from typing import Any

from django.db import migrations, models
from django.utils import timezone


def forwards(apps: Any, schema_editor: Any) -> None:
    Reservation = apps.get_model("reservations", "Reservation")  # noqa: N806 - a model class
    Reservation.objects.update(signer_identity=models.F("card_identity"))
    Reservation.objects.filter(target="auth", state="active").update(
        state="revoked", state_changed=timezone.now()
    )


def backwards(apps: Any, schema_editor: Any) -> None:
    """The old scheme named the signer: put that value back as the identity."""
    Reservation = apps.get_model("reservations", "Reservation")  # noqa: N806
    Reservation.objects.filter(state="active").exclude(signer_identity="").update(
        card_identity=models.F("signer_identity")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="reservation",
            name="signer_identity",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(forwards, backwards),
    ]
