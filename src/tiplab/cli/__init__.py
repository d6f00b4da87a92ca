"""The ``tiplab`` command line.

Each module of this package that defines ``register(app)`` adds its commands; they are found
at start-up, so a capability adds its commands without editing a shared file. Commands that
act on the web platform's database (``tiplab codes``, ``tiplab consultation``) are plug-ins:
functions ``register(app)`` named in the ``tiplab.commands`` entry-point group, so the core
never imports the web app. Command modules
import heavy libraries (Splink, statsmodels, geopandas) inside the command functions, so that
``tiplab --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="tiplab",
    help="tiplab: turn anti-trafficking data into policy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group="tiplab.commands"), key=lambda e: e.name):
        ep.load()(app)


_register_commands()


def main() -> None:
    app(prog_name="tiplab")
