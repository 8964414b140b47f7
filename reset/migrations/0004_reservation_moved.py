"""Reservation now belongs to the `reservations` app (its migration 0001 took over the state);
the table is kept, so nothing happens in the database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reset", "0003_servernonce"),
        ("reservations", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="Reservation")],
        ),
    ]
