"""Manage the reporting channel's recipient keys (docs/reporting.md).

    manage.py reporting_keys list
    manage.py reporting_keys create --label "2026 server key"
    manage.py reporting_keys add --public <base64> --label "offline workstation"
    manage.py reporting_keys retire <key id>

New content is sealed to every active key. Retiring a key stops sealing to it; what was sealed
to it stays readable as long as its private file is kept in the key directory.
"""

from __future__ import annotations

import base64
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tiplab_web.reporting import sealing
from tiplab_web.reporting.models import RecipientKey


class Command(BaseCommand):
    help = "List, create, add (public key held offline) or retire reporting-channel keys."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every key, active and retired")
        create = sub.add_parser("create", help="a new key pair; the private half goes to the "
                                               "key directory")
        create.add_argument("--label", default="")
        add = sub.add_parser("add", help="a recipient whose private key is held elsewhere")
        add.add_argument("--public", required=True, help="the 32-byte public key, base64")
        add.add_argument("--label", default="")
        retire = sub.add_parser("retire", help="stop sealing new content to a key")
        retire.add_argument("key_id")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        try:
            if action == "create":
                key = sealing.create_key(opts["label"])
                self.stdout.write(f"created {key.key_id}; private key in "
                                  f"{sealing.private_path(key.key_id)} (back it up)")
            elif action == "add":
                key = sealing.add_public_key(opts["public"], opts["label"])
                self.stdout.write(f"added {key.key_id} (private key held offline)")
            elif action == "retire":
                key = sealing.retire_key(opts["key_id"])
                self.stdout.write(f"retired {key.key_id}; content sealed to it stays readable "
                                  "while its private file is kept")
            else:
                self._list()
        except sealing.KeyManagementError as e:
            raise CommandError(str(e)) from e

    def _list(self) -> None:
        keys = RecipientKey.objects.all()
        if not keys:
            self.stdout.write("no keys yet (one is created with the first report)")
        for k in keys:
            state = f"retired {k.retired_at:%Y-%m-%d}" if k.retired_at else "active"
            where = ("private key on this server" if sealing.private_path(k.key_id).exists()
                     else "private key held elsewhere" if not k.on_server
                     else "PRIVATE KEY MISSING from the key directory")
            public = base64.b64encode(bytes(k.public_key)).decode()
            self.stdout.write(f"{k.key_id}  {state:<18} {where}  {public}  {k.label}")
