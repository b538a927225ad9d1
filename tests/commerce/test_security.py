"""Production refuses staff logins with a well-known password (README, "Running in
production")."""

import pytest
from django.contrib.auth import get_user_model

from commerce.security import staff_users_with_known_password

pytestmark = pytest.mark.django_db

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER


def _user(username: str, password: str | None, **flags):
    user = get_user_model().objects.create_user(username=username, **flags)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    return user


def test_staff_users_with_a_well_known_password_or_their_username_are_named():
    _user("admin", "admin", is_staff=True, is_superuser=True)
    _user("carol", "123456", is_staff=True)
    _user("dave", "dave", is_superuser=True)
    _user("ops", "a long passphrase 1", is_staff=True, is_superuser=True)

    assert staff_users_with_known_password() == ["admin", "carol", "dave"]


def test_inactive_non_staff_and_passwordless_users_are_not_named():
    _user("admin", "admin", is_staff=True, is_superuser=True, is_active=False)
    _user("shopper", "password")
    _user("sso", None, is_staff=True)

    assert staff_users_with_known_password() == []


def test_the_check_does_not_rewrite_a_matching_password(settings):
    _user("admin", "admin", is_staff=True, is_superuser=True)
    # MD5 is now outdated: user.check_password would re-hash and save the password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.ScryptPasswordHasher", *FAST_HASHER]

    assert staff_users_with_known_password() == ["admin"]
    assert get_user_model().objects.get(username="admin").password.startswith("md5$")
