"""`manage.py createsupportuser --email X [--password Y]`: a staff account in the Support group."""

import sys
from getpass import getpass

from django.core.management.base import BaseCommand, CommandError

from accounts.services import SUPPORT_GROUP, support_user_create
from nora.errors import ApplicationError


class Command(BaseCommand):
    help = (
        f"Create a staff account in the {SUPPORT_GROUP} group: it signs in to the admin and reads "
        "conversations and messages, and can change nothing. Not a superuser."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--password",
            help="Asked for at the terminal when left out, which keeps it out of the shell history.",
        )

    def handle(self, *args, email: str, password: str | None, **options):
        if password is None:
            password = self._password_prompt(stdin=options.get("stdin", sys.stdin))
        try:
            user = support_user_create(email=email, password=password)
        except ApplicationError as error:
            details = " ".join(message for messages in error.errors.values() for message in messages)
            raise CommandError(f"{error.message} {details}".strip()) from error
        self.stdout.write(self.style.SUCCESS(f"Support user {user.email} created; sign in at /admin/."))

    def _password_prompt(self, *, stdin) -> str:
        if not stdin.isatty():
            raise CommandError("Pass --password, or run this in a terminal to be asked for one.")
        password = getpass("Password: ")
        if password != getpass("Password (again): "):
            raise CommandError("The passwords did not match.")
        return password
