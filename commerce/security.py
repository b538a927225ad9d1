"""Production safety checks that read the database (README, "Running in production").

A database first set up in development keeps the demo's admin/admin superuser; served
in production, that login would open the whole admin to anyone who read the README.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db.models import Q

# Short on purpose: each candidate is one full password hash (about 0.5 s with Django's
# PBKDF2), tried for every active staff user when production starts.
WELL_KNOWN_PASSWORDS = ("admin", "password", "123456", "12345678", "qwerty", "letmein", "changeme")


def staff_users_with_known_password() -> list[str]:
    """Usernames, sorted, of the active superusers and staff users whose password is a
    well-known one or their own username. Reads only: a matching hash is not upgraded."""
    User = get_user_model()
    users = User.objects.filter(Q(is_superuser=True) | Q(is_staff=True), is_active=True)
    weak = []
    for user in users.order_by(User.USERNAME_FIELD):
        if not user.has_usable_password():
            continue
        username = user.get_username()
        candidates = dict.fromkeys((*WELL_KNOWN_PASSWORDS, username))
        # hashers.check_password is what user.check_password runs, without its setter,
        # which would save a re-hashed password: a start-up check must not write.
        if any(check_password(candidate, user.password) for candidate in candidates):
            weak.append(username)
    return weak
