"""Objects the publications ladder rows and tests need (no tests here)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

SPEC = {"title": "Ladder release", "description": "", "years": [2016, 2023],
        "items": [{"key": "key_figures", "kind": "figures", "title": "Key figures",
                   "dimensions": [], "epsilon": 0.1, "delta": 0.0, "mechanism": "laplace",
                   "columns": [], "k": 11, "layout": "ctdc"}]}


def make_release(user: Any, status: str = "checked", title: str = "Ladder release") -> Any:
    """A release of ``user``'s organisation with one version in ``status`` (rows only: no
    files — enough for pages that list and decide)."""
    from tiplab_web.core.access import organisation_of
    from tiplab_web.publications import services
    from tiplab_web.publications.models import Release, ReleaseVersion

    n = (Release.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    rel = Release.objects.create(number=n, identifier=f"tiplab:ZZ-2026-{n:04d}", title=title,
                                 ledger=services.ledger(), organisation=organisation_of(user),
                                 created_by=user)
    v = ReleaseVersion.objects.create(release=rel, number=1, status=status, spec=SPEC,
                                      data_version="dv-test", prepared_by=user,
                                      figures=[{"key": "identified", "label": "Victims identified",
                                                "value": 1234, "error": 30}])
    if status == "published":
        v.approved_by, v.approved_at = user, timezone.now()
        v.citation = services.citation(v)
        v.save()
    return v


def version_kwargs(world: Any, user: Any, status: str = "checked") -> dict[str, Any]:
    v = make_release(user, status)
    return {"number": v.release.number, "version": v.number}


def published_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return version_kwargs(world, user, "published")


def release_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"number": make_release(user).release.number}


def brief_kwargs(world: Any, user: Any) -> dict[str, Any]:
    from tiplab_web.publications.models import Brief

    v = make_release(user, "published")
    b = Brief.objects.create(version=v, kind="brief", title="Ladder brief", updated_by=user)
    return {"pk": b.pk}
