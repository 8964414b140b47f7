"""The admin app with the two-factor site as its default (staff/admin_site.py).

A module of its own: INSTALLED_APPS imports it before models can load, and django_otp.admin
imports models.
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class OTPAdminConfig(AdminConfig):
    default_site = "staff.admin_site.StaffOTPAdminSite"
