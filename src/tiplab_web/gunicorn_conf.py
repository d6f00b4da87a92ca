"""Gunicorn's configuration for ``tiplab-web serve`` (read with ``-c``). Every value comes
from the environment ``tiplab-web serve`` sets, so the same file serves ``make run`` and a
production unit (docs/deploy.md)."""

from __future__ import annotations

import os

from tiplab_web.logs import logging_config

bind = os.environ.get("TIPLAB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("TIPLAB_WEB_WORKERS", "3"))
# Threads let a worker wait on the database or a slow client without holding a process;
# requests are CPU-bound Python otherwise, so processes carry the load (benchmarks/README.md).
worker_class = "gthread"
threads = int(os.environ.get("TIPLAB_WEB_THREADS", "4"))
# Imports and estimates run on the job workers; a request that takes this long is stuck.
timeout = int(os.environ.get("TIPLAB_WEB_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Load the application once, before forking: less memory, and a broken configuration stops
# the server at start instead of in every worker.
preload_app = True
# Recycle workers now and then (caches of old data versions, fragmentation).
max_requests = 5000
max_requests_jitter = 500
# The TLS proxy on this host sets X-Forwarded-Proto (settings.production trusts it).
forwarded_allow_ips = os.environ.get("TIPLAB_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# No control socket: it lives at one fixed path per user, so two servers on a host (a test
# run beside ``make run``) would fight over it; systemd signals are enough to manage it.
control_socket_disable = True
# Gunicorn's worker heartbeat files go to RAM (its own advice; no data is written there).
_SHM = "/dev/shm"  # noqa: S108 - heartbeat files only, created by gunicorn with mode 0600
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

_format = os.environ.get("TIPLAB_LOG_FORMAT", "text")
logconfig_dict = logging_config(_format)
accesslog = "-"
# As text; with TIPLAB_LOG_FORMAT=json each field is also a key of the JSON line.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def when_ready(server: object) -> None:
    """Import the analysis and estimation stack once, in the master, before the workers are
    forked: each worker would otherwise pay 4-6 s of imports on its first analysis page
    (and again after every ``max_requests`` recycle), and hold its own copy."""
    import tiplab.analysis
    import tiplab.engine
    import tiplab.estimation
    import tiplab.privacy
    import tiplab.reports  # noqa: F401
