"""The anonymous routes leave no trace of who used them: a real web server (gunicorn, JSON
logs as in production) takes a survivor's answer and an anonymous report from a distinctive
address and browser; then the database files, the application log and the server's access
log are searched for that address, that browser and the submitted text in clear. A control
request to an ordinary page, from another distinctive address and browser, must be found in
the access log — so the search is shown able to find what it looks for."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from tests.runtime.site import Site, free_port

SURVIVOR_IP = "203.0.113.77"
SURVIVOR_AGENT = "SurvivorPhone/7.3 (trace-test)"
CONTROL_IP = "198.51.100.9"
CONTROL_AGENT = "ControlAgent/1.0 (trace-test)"
VOICE_TEXT = "Zebulon-Quartermaine shelter had no interpreter for me"
REPORT_TEXT = "Xanthippe-Oakridge saw eleven workers locked in the packhouse"


def _post(base: str, path: str, fields: dict[str, str], ip: str, agent: str) -> str:
    req = urllib.request.Request(
        base + path, data=urllib.parse.urlencode(fields).encode(), method="POST",
        headers={"X-Forwarded-For": ip, "User-Agent": agent, "Referer": base + "/trace-ref"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def _get(base: str, path: str, ip: str, agent: str) -> str:
    req = urllib.request.Request(base + path, headers={"X-Forwarded-For": ip,
                                                       "User-Agent": agent})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def _token(page: str) -> str:
    m = re.search(r'name="t" value="([^"]+)"', page)
    assert m, page[:800]
    return m.group(1)


def _report_fields(page: str) -> dict[str, str]:
    """The reporting form's fields as the page names them (hidden ones with their values),
    with the free text and the reporter's choice filled in."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    for name in re.findall(r'<textarea[^>]*name="([^"]+)"', page):
        fields.setdefault(name, "")
    text_field = next(n for n in fields if n in ("what", "text", "body", "description"))
    fields[text_field] = REPORT_TEXT
    radios = re.findall(r'<input type="radio" name="([^"]+)" value="([^"]+)"', page)
    for name, value in radios:
        fields.setdefault(name, value)
    return fields


@pytest.mark.timeout(300)
def test_no_address_agent_or_text_is_kept(tmp_path: Path):
    site = Site(tmp_path, TIPLAB_LOG_FORMAT="json", TIPLAB_TRUSTED_PROXIES="127.0.0.1")
    try:
        site.manage("migrate", "--verbosity", "0")
        site.op("make_user", username="pol", role="policy_officer", organisation="Office")
        codes = site.op("voice_codes", username="pol", n=1)["codes"]
        port = free_port()
        site.start_web(port)
        base = f"http://127.0.0.1:{port}"

        # a survivor's answer, through the three steps of the page
        _get(base, "/voice/", SURVIVOR_IP, SURVIVOR_AGENT)
        _get(base, "/a/anonymous.css", SURVIVOR_IP, SURVIVOR_AGENT)
        page = _post(base, "/voice/", {"code": codes[0]}, SURVIVOR_IP, SURVIVOR_AGENT)
        page = _post(base, "/voice/consent/", {"t": _token(page), "agree": "yes"},
                     SURVIVOR_IP, SURVIVOR_AGENT)
        page = _post(base, "/voice/send/", {"t": _token(page), "text": VOICE_TEXT},
                     SURVIVOR_IP, SURVIVOR_AGENT)
        assert "receipt" in page

        # an anonymous report
        form = _get(base, "/report/", SURVIVOR_IP, SURVIVOR_AGENT)
        page = _post(base, "/report/", _report_fields(form), SURVIVOR_IP, SURVIVOR_AGENT)
        assert re.search(r"[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}", page), page[:800]

        # the control: an ordinary page, whose visitor the access log does record
        _get(base, "/accounts/login/", CONTROL_IP, CONTROL_AGENT)
    finally:
        site.stop()

    log = site.log("web.log", tail=10**7)
    assert CONTROL_IP in log, "the control request is not in the access log: the search is blind"
    assert '"path": "/voice/send/"' in log, "the anonymous requests are not in the access log"
    stored = b"".join(p.read_bytes() for p in (site.data).glob("tiplab.sqlite3*"))
    for secret in (SURVIVOR_IP, SURVIVOR_AGENT, "trace-ref", VOICE_TEXT, REPORT_TEXT,
                   "Zebulon", "Xanthippe", codes[0]):
        assert secret not in log, f"{secret!r} is in the server's log"
        assert secret.encode() not in stored, f"{secret!r} is in the database"
