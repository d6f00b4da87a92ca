"""Charts and maps for reports (PNG/SVG) and map data for the web (GeoJSON for Leaflet)."""

from tiplab.reports.charts import bar_chart, trend_chart
from tiplab.reports.maps import (
    choropleth,
    country_centroids,
    country_from_regions,
    flow_lines,
    flow_map,
    hotspot_map,
    leaflet_geojson,
    off_map_note,
    regions_layer,
    unmapped_flows,
    world_layer,
)

__all__ = [
    "bar_chart", "choropleth", "country_centroids", "country_from_regions", "flow_lines",
    "flow_map", "hotspot_map", "leaflet_geojson", "off_map_note", "regions_layer",
    "trend_chart", "unmapped_flows", "world_layer",
]
