"""Crime-trend analytics: trends, profiles and tactics, routes, hotspots.

Each function takes a source (a :class:`tiplab.engine.Engine`, an Ibis table or an Arrow
table with the snapshot's column names), typed settings, and an optional
:class:`tiplab.privacy.DisclosureRule`; it returns an :class:`AnalysisResult` carrying the
data version and parameters, rendering to text, HTML, JSON and data frames.
"""

from tiplab.analysis.aggregates import AggregateTrendSettings, aggregate_trends
from tiplab.analysis.changepoint import ChangePoint, binary_segmentation, lr_test
from tiplab.analysis.denver import load_denver
from tiplab.analysis.errors import AnalysisError, ColumnError, InputDataError
from tiplab.analysis.hotspots import (
    HotspotSettings,
    emerging_hotspots,
    hotspots,
    local_statistics,
    weights_from_adjacency,
    weights_from_geometries,
)
from tiplab.analysis.population import (
    load_population,
    population_from_regions,
    population_from_walkfree,
)
from tiplab.analysis.profiles import ProfileSettings, profiles
from tiplab.analysis.results import AnalysisResult
from tiplab.analysis.routes import RouteSettings, routes
from tiplab.analysis.timeseries import forecast_counts, seasonality_test
from tiplab.analysis.trends import TrendSettings, trends

__all__ = [
    "AggregateTrendSettings", "AnalysisError", "AnalysisResult", "ChangePoint", "ColumnError",
    "HotspotSettings", "InputDataError", "ProfileSettings", "RouteSettings", "TrendSettings",
    "aggregate_trends", "binary_segmentation", "emerging_hotspots", "forecast_counts",
    "hotspots", "load_denver", "load_population", "local_statistics", "lr_test",
    "population_from_regions", "population_from_walkfree", "profiles", "routes",
    "seasonality_test", "trends", "weights_from_adjacency", "weights_from_geometries",
]
