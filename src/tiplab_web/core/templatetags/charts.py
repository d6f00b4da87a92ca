"""Interactive charts: ``{% load charts %}``.

A chart is a Vega-Lite spec with its data inline (``tiplab.reports.charts``: ``trend_spec``,
``bar_spec``, ``region_map_spec``, or any Altair chart through ``vegalite_spec``), shown in
the browser by the vendored Vega builds (``static/vendor/vega``) under the site's strict
Content-Security-Policy, with the server-rendered SVG as its fallback and the PNG/SVG as
downloads. Use on any page (the public portal too)::

    {% load charts %}
    {% block head %}{% chart_assets %}{% endblock %}
    ...
    {% translate "Line chart of ...; the table below gives the same numbers." as alt %}
    {% vega_chart spec alt=alt svg_url=svg png_url=png name="trends" %}

* ``spec``: the spec (a ``dict``), written into the page with ``json_script`` (no inline
  script runs). ``None`` shows the static image alone.
* ``alt`` (required): the text alternative. It is the fallback image's ``alt`` and the
  interactive chart's ``description`` (Vega writes it as the SVG's ``aria-label``). Say
  what the chart shows and where the same numbers are in text (a table).
* ``svg_url``: the server-rendered chart. Without JavaScript it is shown in place (inside
  ``<noscript>``); if the interactive chart fails it replaces it, under a message, so the
  box is never blank. ``png_url`` / ``svg_url`` are also the export links under the chart
  (``exports=False`` leaves the links out, e.g. when the page has its own).
* ``name``: a slug for the element ids (``chart-<name>``), unique on the page; made up
  when not given. ``width`` / ``height``: the fallback image's size attributes.

``{% chart_assets %}`` (once, in the page's head) loads ``vega``, ``vega-lite``,
``vega-embed`` and ``tiplab/charts.js`` with ``defer``, and ``tiplab/charts.css``.
``charts.js`` draws every ``.tiplab-chart`` on the page, and those htmx swaps in later.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify

register = template.Library()

#: loaded in this order (each defer script runs in document order): vega-embed needs the
#: ``vega`` and ``vegaLite`` globals, charts.js needs ``vegaEmbed``
SCRIPTS = ("vendor/vega/vega.min.js", "vendor/vega/vega-lite.min.js",
           "vendor/vega/vega-embed.min.js", "tiplab/charts.js")
STYLES = ("tiplab/charts.css",)


@register.simple_tag
def chart_assets() -> SafeString:
    """The scripts and stylesheet interactive charts need (put once in ``<head>``)."""
    styles = format_html_join("\n", '<link rel="stylesheet" href="{}">',
                              ((static(s),) for s in STYLES))
    scripts = format_html_join("\n", '<script src="{}" defer></script>',
                               ((static(s),) for s in SCRIPTS))
    return format_html("{}\n{}", styles, scripts)


@register.inclusion_tag("core/_chart.html")
def vega_chart(spec: dict[str, Any] | None, *, alt: str, svg_url: str = "",
               png_url: str = "", name: str = "", width: int | None = None,
               height: int | None = None, exports: bool = True) -> dict[str, Any]:
    """A chart container: the spec as JSON, the static fallback, the export links."""
    if not str(alt).strip():
        raise template.TemplateSyntaxError("vega_chart needs alt text (alt=...): say what "
                                           "the chart shows and where its numbers are")
    slug = slugify(name) or uuid.uuid4().hex[:8]
    return {"spec": spec, "alt": alt, "svg_url": svg_url, "png_url": png_url,
            "chart_id": f"chart-{slug}", "spec_id": f"chart-{slug}-spec", "width": width,
            "height": height, "exports": exports}


@register.filter
def with_query(url: str, query: str) -> str:
    """``url`` with the page's query string (``{{ svg|with_query:query }}``): a chart's
    figure URLs take the page's filters."""
    return f"{url}?{query}" if query else str(url)
