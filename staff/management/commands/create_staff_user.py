"""Development: create a clerk or supervisor with a TOTP device; prints the otpauth URI once.

The password is read from MYNA_STAFF_PASSWORD or asked for (never an argument, so it stays out
of shell history). Scan the printed URI into an authenticator app (or `qrencode -t ansiutf8`).
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.roles import StaffRole


class Command(BaseCommand):
    help = "Create a staff user (clerk or supervisor) with a TOTP device; prints its otpauth URI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role", choices=[r.value for r in StaffRole], default=StaffRole.CLERK.value
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} already exists")
        password = os.environ.get("MYNA_STAFF_PASSWORD") or getpass.getpass("Password: ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        with transaction.atomic():
            user = user_model.objects.create_user(username=username, password=password)
            user.groups.add(Group.objects.get(name=options["role"]))
            device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
        self.stdout.write(f"created {options['role']} {username!r}; add this to an authenticator:")
        self.stdout.write(device.config_url)
