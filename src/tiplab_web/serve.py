"""``tiplab-web``: run the platform — the web server and its job workers — with one command.

* ``tiplab-web serve``: gunicorn (the WSGI application, static files by whitenoise) and
  ``--workers`` job workers, supervised: a job worker that dies is started again (its job is
  settled by the reaper: re-queued when safe, failed otherwise); SIGTERM or Ctrl-C stops the
  web server and lets each worker finish its current job first (then ends it after
  ``--grace`` seconds). ``make run`` uses it with the embedded defaults
  (``--settings tiplab_web.settings.dev``); a production host runs it from systemd with
  ``settings.production`` (docs/deploy.md), or runs ``gunicorn`` and ``tiplab-web worker``
  as two units.
* ``tiplab-web worker``: one job worker in the foreground.
* ``tiplab-web check``: the ``/healthz`` checks, from the command line (exit 1 on failure).
* ``tiplab-web prepare``: what a deployment does before it starts or after an upgrade —
  ``migrate``, ``collectstatic`` (production settings) and ``check --deploy``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

log = logging.getLogger("tiplab.web.serve")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Run tiplab's web server and job workers.")

SettingsOpt = Annotated[str, typer.Option(
    "--settings", envvar="DJANGO_SETTINGS_MODULE",
    help="Django settings module (tiplab_web.settings.dev for local runs).")]


def _env(settings: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings
    env.update(extra)
    return env


def _manage(*args: str) -> list[str]:
    return [sys.executable, "-m", "tiplab_web.manage", *args]


@dataclass
class Child:
    name: str
    cmd: list[str]
    env: dict[str, str]
    restart: bool
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    restarts: int = field(default=0)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, env=self.env)  # noqa: S603 - our own commands
        self.started = time.monotonic()
        _say(f"started {self.name} (pid {self.proc.pid})")


def _say(message: str) -> None:
    print(f"tiplab-web: {message}", file=sys.stderr, flush=True)


class Supervisor:
    """Start the children, restart job workers that die, stop everything on a signal."""

    def __init__(self, children: list[Child], grace: float) -> None:
        self.children = children
        self.grace = grace
        self.stopping = False

    def _signal(self, signum: int, frame: Any) -> None:
        if self.stopping:  # a second signal: no more waiting
            for c in self.children:
                if c.proc is not None and c.proc.poll() is None:
                    c.proc.kill()
            return
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._signal)
        signal.signal(signal.SIGINT, self._signal)
        for c in self.children:
            c.start()
        code = 0
        while not self.stopping:
            time.sleep(0.5)
            for c in self.children:
                assert c.proc is not None
                rc = c.proc.poll()
                if rc is None or self.stopping:
                    continue
                if not c.restart:
                    _say(f"{c.name} exited with status {rc}; stopping")
                    self.stopping, code = True, rc or 1
                    break
                # a worker that keeps dying at once would spin: wait a little first
                if time.monotonic() - c.started < 10:
                    time.sleep(min(30, 2 ** min(c.restarts, 5)))
                c.restarts += 1
                _say(f"{c.name} exited with status {rc}; starting it again")
                c.start()
        self.stop()
        return code

    def stop(self) -> None:
        for c in self.children:
            if c.proc is not None and c.proc.poll() is None:
                c.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for c in self.children:
            if c.proc is None:
                continue
            try:
                c.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _say(f"{c.name} did not stop within {self.grace:.0f} s; killing it")
                c.proc.kill()
                c.proc.wait()
        _say("stopped")


def children(settings: str, *, bind: str, web_workers: int, threads: int,
             workers: int) -> list[Child]:
    env = _env(settings, TIPLAB_BIND=bind, TIPLAB_WEB_WORKERS=str(web_workers),
               TIPLAB_WEB_THREADS=str(threads))
    web = Child("web server", [sys.executable, "-m", "gunicorn", "-c",
                               "python:tiplab_web.gunicorn_conf", "tiplab_web.wsgi:application"],
                env, restart=False)
    jobs = [Child(f"job worker {i + 1}", _manage("jobs_worker"), env, restart=True)
            for i in range(workers)]
    return [web, *jobs]


@app.command()
def serve(
    settings: SettingsOpt = "tiplab_web.settings.production",
    bind: Annotated[str, typer.Option(envvar="TIPLAB_BIND",
                                      help="host:port (or unix:/path) to listen on")]
    = "127.0.0.1:8000",
    web_workers: Annotated[int, typer.Option(envvar="TIPLAB_WEB_WORKERS", min=1,
                                             help="web server processes")] = 3,
    threads: Annotated[int, typer.Option(envvar="TIPLAB_WEB_THREADS", min=1,
                                         help="threads per web server process")] = 4,
    workers: Annotated[int, typer.Option(envvar="TIPLAB_JOB_WORKERS", min=0,
                                         help="job worker processes")] = 2,
    grace: Annotated[float, typer.Option(help="seconds a worker may take to finish its "
                                         "job when stopping")] = 60.0,
) -> None:
    """Serve tiplab: the web server and the job workers, supervised, until stopped."""
    _say(f"serving on {bind} with {settings}: {web_workers} web process(es) x {threads} "
         f"thread(s), {workers} job worker(s)")
    sup = Supervisor(children(settings, bind=bind, web_workers=web_workers, threads=threads,
                              workers=workers), grace=grace)
    raise typer.Exit(sup.run())


@app.command()
def worker(settings: SettingsOpt = "tiplab_web.settings.production") -> None:
    """Run one job worker in the foreground (a second systemd unit, or more capacity)."""
    os.execve(sys.executable, _manage("jobs_worker"), _env(settings))  # noqa: S606


@app.command()
def check(
    settings: SettingsOpt = "tiplab_web.settings.production",
    only: Annotated[str, typer.Option(help="comma-separated checks")] = "",
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Run the health checks of /healthz here; exit 1 if one fails."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    import json

    import django

    django.setup()
    from tiplab_web.core.health import main_text, run_checks

    body = run_checks([n for n in only.split(",") if n] or None)
    typer.echo(json.dumps(body, indent=1) if json_out else main_text(body))
    raise typer.Exit(0 if body["status"] == "ok" else 1)


@app.command()
def prepare(settings: SettingsOpt = "tiplab_web.settings.production") -> None:
    """Migrate the database, collect static files and run the deployment checks."""
    env = _env(settings)
    steps = [_manage("migrate", "--noinput")]
    if settings.endswith("production"):
        steps += [_manage("collectstatic", "--noinput", "-v", "0"),
                  _manage("check", "--deploy", "--fail-level", "WARNING")]
    for cmd in steps:
        _say(" ".join(cmd[2:]))
        done = subprocess.run(cmd, env=env, check=False)  # noqa: S603 - our own commands
        if done.returncode:
            raise typer.Exit(done.returncode)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
