"""Charts and maps for reports (PNG/SVG) and map data for the web (GeoJSON for Leaflet);
evidence briefs and annual reports rendered from a release bundle.

Names are imported on first use: ``import tiplab.reports.bundle`` must not pay for Altair,
GeoPandas and statsmodels.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "bar_chart": "charts", "trend_chart": "charts",
    "choropleth": "maps", "country_centroids": "maps", "country_from_regions": "maps",
    "flow_lines": "maps", "flow_map": "maps", "hotspot_map": "maps",
    "leaflet_geojson": "maps", "off_map_note": "maps", "regions_layer": "maps",
    "unmapped_flows": "maps", "world_layer": "maps",
    "BundleChart": "bundle", "BundleTable": "bundle", "KeyFigure": "bundle",
    "ReleaseBundle": "bundle", "ReportError": "bundle",
    "render": "brief", "check_narrative": "brief", "fill_narrative": "brief",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'tiplab.reports' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tiplab.reports.{_HOME[name]}"), name)
    globals()[name] = value
    return value
