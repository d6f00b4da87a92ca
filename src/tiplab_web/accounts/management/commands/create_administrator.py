"""``python -m tiplab_web.manage create_administrator alice --email a@x.org --organisation
"National Rapporteur's Office" --country FR``: the first administrator of a new deployment.

The password is asked for interactively (or read from the file named by --password-file).
The administrator enrols TOTP at first sign-in, then invites everyone else.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tiplab_web import audit
from tiplab_web.accounts.models import Organisation
from tiplab_web.accounts.services import AccountsError, create_user
from tiplab_web.core.roles import ADMINISTRATOR


class Command(BaseCommand):
    help = "Create an administrator account (and its organisation if new)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--organisation", required=True)
        parser.add_argument("--country", default="ZZ", help="ISO 3166-1 alpha-2 code")
        parser.add_argument(
            "--password-file",
            type=Path,
            help="read the password from this file instead of prompting",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        if o["password_file"]:
            password = o["password_file"].read_text(encoding="utf-8").strip()
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the two passwords differ")
        try:
            validate_password(password)
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from e
        org, _ = Organisation.objects.get_or_create(
            name=o["organisation"],
            defaults={"kind": Organisation.Kind.COORDINATOR, "country": o["country"].upper()},
        )
        try:
            user = create_user(
                o["username"],
                organisation=org,
                roles=[ADMINISTRATOR],
                password=password,
                email=o["email"],
            )
        except AccountsError as e:
            raise CommandError(str(e)) from e
        audit.record(
            None, "users.created", user, username=user.get_username(), via="create_administrator"
        )
        self.stdout.write(
            f"administrator {user.get_username()} created in {org.name}; "
            "TOTP enrolment is asked at first sign-in"
        )
