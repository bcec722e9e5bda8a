"""Tokens of "forgot password" links: single use, at most STAFF_PASSWORD_RESET_MINUTES old.

Django's token generator already makes a link single use (its hash covers the password
hash and the last sign-in, which both change when it is used). This one has its own salt,
so a staff invitation (which stays valid for days) is not a reset link and a reset link is
not an invitation, and its own, short validity.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.http import base36_to_int


class StaffPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "alliance.web.accounts.tokens.StaffPasswordResetTokenGenerator"

    def check_token(self, user, token):
        if not user or not token or "-" not in token:
            return False
        try:
            made = base36_to_int(token.split("-", 1)[0])
        except ValueError:
            return False
        age = self._num_seconds(self._now()) - made
        if age > settings.STAFF_PASSWORD_RESET_MINUTES * 60:
            return False
        return super().check_token(user, token)


reset_token_generator = StaffPasswordResetTokenGenerator()
