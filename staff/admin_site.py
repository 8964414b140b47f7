"""The Django admin behind the same second factor as the staff console (issue 12).

django-otp's OTPAdminSite lets only users verified by a TOTP device in (its login form asks for
the code); a password alone, or a session that skipped the second factor, is sent back to the
admin login. Installed as the default site (settings: `staff.admin_config.OTPAdminConfig` in place
of `django.contrib.admin`), so every `admin.site.register` lands on it. It keeps the name "admin"
so `admin:` URLs reverse as before (OTPAdminSite's own default name is "otpadmin").
"""

from __future__ import annotations

from django_otp.admin import OTPAdminSite


class StaffOTPAdminSite(OTPAdminSite):
    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
