"""Check the audit log's hash chain; exit 1 naming the first bad record (reservations/audit_log)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reservations.audit_log import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero at the first bad record."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect-head",
            default="",
            help="the head hash noted at an earlier check: also detects removed newest records",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        bad = report.first_break
        if bad is not None:
            raise CommandError(
                f"audit chain broken at record sequence={bad.sequence} id={bad.record_id}: "
                f"{bad.reason} ({report.count - 1} records before it are intact)"
            )
        expected: str = options["expect_head"]
        if expected:
            from reservations.audit_log import AuditRecord

            if not AuditRecord.objects.filter(hash=expected).exists():
                raise CommandError(
                    "the expected head hash is not in the log (newest records removed?)"
                )
        self.stdout.write(f"audit chain intact: {report.count} records, head {report.head_hash}")
