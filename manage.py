#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "swstudio_site.settings")
    from django.core.management import execute_from_command_line

    from syncapp import startup

    # A database or broker that is not there is reported in one paragraph that names the
    # variable and the address, before the command starts and if it goes away while it runs.
    startup.preflight(sys.argv)
    try:
        execute_from_command_line(sys.argv)
    except Exception as exc:
        if not startup.is_connection_error(exc):
            raise
        message = startup.explain(exc)
        if message is None:
            raise
        startup.fail(message)


if __name__ == "__main__":
    main()
