"""``python -m tiplab_web.manage seed_demo_users``: one demo account per role.

Logins are written to ``$TIPLAB_DATA_DIR/demo-logins.txt`` (mode 0600) and reused on later
runs, so they stay stable across restarts. Administrators and data stewards need TOTP: their
demo accounts get a TOTP device with the secret printed in that file (add it to any
authenticator app, or run ``python -m tiplab_web.manage demo_otp_code demo-admin``).
Never run this on a production database.
"""

from __future__ import annotations

import base64
import os
import secrets
import string
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from tiplab_web.accounts.models import Organisation, Profile
from tiplab_web.accounts.services import set_roles
from tiplab_web.core import roles as R

ORGANISATIONS = {
    "National Rapporteur's Office": Organisation.Kind.COORDINATOR,
    "National Police": Organisation.Kind.POLICE,
    "Labour Inspectorate": Organisation.Kind.LABOUR_INSPECTORATE,
    "Shelter NGO": Organisation.Kind.SHELTER,
    "Migrant Workers' Association": Organisation.Kind.NGO,
}

#: Organisation -> the source agency its demo data is imported under (see setup_demo).
DEMO_SOURCE_AGENCY = {"National Police": "police", "Labour Inspectorate": "labour_inspectorate",
                      "Shelter NGO": "ngo_shelters"}

#: username, role, organisation
DEMO_USERS = [
    ("demo-admin", R.ADMINISTRATOR, "National Rapporteur's Office"),
    ("demo-analyst", R.ANALYST, "National Rapporteur's Office"),
    ("demo-steward", R.DATA_STEWARD, "National Rapporteur's Office"),
    ("demo-policy", R.POLICY_OFFICER, "National Rapporteur's Office"),
    ("demo-police", R.AGENCY_REPORTER, "National Police"),
    ("demo-shelter", R.AGENCY_REPORTER, "Shelter NGO"),
    ("demo-stakeholder", R.STAKEHOLDER, "Migrant Workers' Association"),
]
FILE_NAME = "demo-logins.txt"
DEVICE_NAME = "demo"


_ALPHABET = string.ascii_letters + string.digits


def make_password_text(length: int = 16) -> str:
    """A random password of letters and digits (easy to copy from a terminal)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def logins_path() -> Path:
    return Path(settings.DATA_DIR) / FILE_NAME


def read_logins(path: Path) -> dict[str, tuple[str, str]]:
    """username -> (password, TOTP secret in base32 or "")."""
    found: dict[str, tuple[str, str]] = {}
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 4:
            found[parts[0]] = (parts[2], parts[3] if parts[3] != "-" else "")
    return found


def write_logins(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    lines = [
        "# tiplab demo logins (development only). Tab-separated:",
        "# username\trole\tpassword\tTOTP secret (base32; '-' when the role needs no 2FA)",
        "# Administrators and data stewards: add the secret to an authenticator app, or run",
        "#   python -m tiplab_web.manage demo_otp_code <username>",
    ]
    lines += ["\t".join(r) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    path.chmod(0o600)


class Command(BaseCommand):
    help = "Create one demo user per role; logins go to $TIPLAB_DATA_DIR/demo-logins.txt."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and "production" in os.environ.get("DJANGO_SETTINGS_MODULE", ""):
            raise CommandError("refusing to create demo users with production settings")
        path = logins_path()
        known = read_logins(path)
        rows = []
        User = get_user_model()
        with transaction.atomic():
            orgs = {}
            for name, kind in ORGANISATIONS.items():
                orgs[name], _ = Organisation.objects.get_or_create(
                    name=name, defaults={"kind": kind, "country": "ZZ"}
                )
                # The simulated country's exports are imported under its agency keys.
                code = DEMO_SOURCE_AGENCY.get(name, "")
                if orgs[name].source_agency != code:
                    orgs[name].source_agency = code
                    orgs[name].save(update_fields=["source_agency"])
            for username, role, org_name in DEMO_USERS:
                password, otp_secret = known.get(username, ("", ""))
                password = password or make_password_text()
                user, _ = User.objects.get_or_create(username=username)
                user.set_password(password)
                user.email = f"{username}@example.org"
                user.is_active = True
                user.save()
                Profile.objects.update_or_create(
                    user=user, defaults={"organisation": orgs[org_name]}
                )
                set_roles(user, [role])
                if role in settings.TIPLAB_TWO_FACTOR_ROLES:
                    key = (
                        base64.b32decode(otp_secret).hex() if otp_secret else secrets.token_hex(20)
                    )
                    TOTPDevice.objects.filter(user=user).exclude(name=DEVICE_NAME).delete()
                    TOTPDevice.objects.update_or_create(
                        user=user, name=DEVICE_NAME, defaults={"key": key, "confirmed": True}
                    )
                    otp_secret = base64.b32encode(bytes.fromhex(key)).decode()
                else:
                    otp_secret = ""
                rows.append((username, role, password, otp_secret or "-"))
        write_logins(path, rows)
        self.stdout.write(f"Demo logins (also in {path}, mode 0600):")
        for username, role, password, otp_secret in rows:
            extra = f"  TOTP secret {otp_secret}" if otp_secret != "-" else ""  # noqa: S105
            self.stdout.write(f"  {username:<18} {password:<18} {role}{extra}")
