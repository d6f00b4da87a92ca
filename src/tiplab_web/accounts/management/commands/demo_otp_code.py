"""``python -m tiplab_web.manage demo_otp_code demo-admin``: the current TOTP code of a demo
account (development only; demo accounts are those in demo-logins.txt)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tiplab_web.accounts.management.commands.seed_demo_users import (
    DEVICE_NAME,
    logins_path,
    read_logins,
)


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo administrator or data steward."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if username not in read_logins(logins_path()):
            raise CommandError(f"{username!r} is not a demo account (see demo-logins.txt)")
        device = TOTPDevice.objects.filter(user__username=username, name=DEVICE_NAME).first()
        if device is None:
            raise CommandError(f"{username!r} has no demo TOTP device; run seed_demo_users")
        self.stdout.write(current_code(device))
