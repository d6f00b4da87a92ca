"""The navigation registry. Each app adds its menu entries in ``AppConfig.ready()``::

    from tiplab_web.core import nav
    nav.register(nav.NavItem(key="cases", label=_("Cases"), url_name="cases:list",
                             capability="cases.view", order=30))

The base template shows the entries the signed-in user's roles allow, ordered by ``order``
(home 0, data intake 10, cases 20, linkage 30, estimates 40, trends 50, profiles 60,
routes 70, hotspots 80, plans 90, audit log 900, users 910, API tokens 920).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from django.urls import NoReverseMatch, reverse

from tiplab_web.core.access import can
from tiplab_web.core.roles import roles_with


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Any  # a (lazy) translated string
    url_name: str
    capability: str
    order: int = 100
    #: other pages of the entry (view names, ``*`` wildcards): the entry is marked current
    #: on them too, e.g. a batch page under "Data intake"; nothing else is marked
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class NavLink:
    key: str
    label: Any
    url: str
    current: bool


_REGISTRY: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    """Add (or replace, by ``key``) a menu entry."""
    roles_with(item.capability)
    _REGISTRY[item.key] = item


def registered() -> list[NavItem]:
    return sorted(_REGISTRY.values(), key=lambda i: (i.order, i.key))


def links_for(request: Any) -> list[NavLink]:
    """The menu for this request's user, with the current page's entry marked (one at most:
    the entry of the page itself, else the first entry that lists it in ``also``)."""
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    here = match.view_name if match else ""
    links = []
    for item in registered():
        if not can(user, item.capability):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # the app is not mounted in this deployment
        links.append(NavLink(item.key, item.label, url, False))
    exact = [i for i, link in enumerate(links) if _item(link).url_name == here]
    covering = [i for i, link in enumerate(links)
                if any(fnmatchcase(here, pattern) for pattern in _item(link).also)]
    if here and (exact or covering):
        i = (exact or covering)[0]
        links[i] = NavLink(links[i].key, links[i].label, links[i].url, True)
    return links


def _item(link: NavLink) -> NavItem:
    return _REGISTRY[link.key]
