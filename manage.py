#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reads the environment (README "Configuration")
    except ImproperlyConfigured as error:
        # A value the settings refuse is one line naming the variable, not a traceback.
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
