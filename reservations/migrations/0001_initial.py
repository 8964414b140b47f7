"""Reservation moves here from `reset` (state only): the table `reset_reservation`, its rows and
its constraint stay exactly as they are; only Django's model state changes app."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("reset", "0003_servernonce"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Reservation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "public_id",
                            models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
                        ),
                        ("card_identity", models.CharField(db_index=True, max_length=64)),
                        (
                            "target",
                            models.CharField(
                                choices=[
                                    ("sign", "署名用パスワード"),
                                    ("auth", "利用者証明用パスワード"),
                                ],
                                max_length=8,
                            ),
                        ),
                        ("created", models.DateTimeField()),
                        ("expires", models.DateTimeField()),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("active", "有効"),
                                    ("used", "使用済み"),
                                    ("expired", "期限切れ"),
                                    ("revoked", "取消"),
                                    ("superseded", "再予約により無効"),
                                ],
                                default="active",
                                max_length=16,
                            ),
                        ),
                        ("state_changed", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "ordering": ["-created"],
                        "db_table": "reset_reservation",
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("state", "active")),
                                fields=("card_identity", "target"),
                                name="reservation_one_active_per_card_target",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
