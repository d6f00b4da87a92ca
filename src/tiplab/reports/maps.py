"""Maps: the world layer, the simulated country's regions, static maps and Leaflet data.

Static maps are drawn with GeoPandas + Matplotlib (``matplotlib.figure.Figure``, no pyplot
state, fully offline) and saved as PNG or SVG. For the web, :func:`leaflet_geojson` returns
a GeoJSON FeatureCollection with the values and a class per feature; the web app draws it
with its vendored Leaflet (no tiles or CDNs needed).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from tiplab.analysis.errors import InputDataError

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
WORLD_FILE = GEO_DIR / "world_110m.parquet"
EQUAL_EARTH = "EPSG:8857"
HOTSPOT_COLOURS = {"hot": "#c0392b", "cold": "#2e86c1", "not significant": "#e5e7e9"}


@lru_cache(maxsize=1)
def _world() -> Any:
    import geopandas as gpd

    return gpd.read_parquet(WORLD_FILE)


def world_layer(extra: Any = None) -> Any:
    """Natural Earth 1:110m countries (GeoDataFrame, EPSG:4326; see data/geo/README.md),
    with the countries of ``extra`` (e.g. :func:`country_from_regions`) added."""
    w = _world().copy()
    if extra is None or len(extra) == 0:
        return w
    import geopandas as gpd

    added = extra.to_crs(w.crs)[["iso_a3", "name", "geometry"]]
    return gpd.GeoDataFrame(pd.concat([w[~w["iso_a3"].isin(added["iso_a3"])], added],
                                      ignore_index=True), crs=w.crs)


def country_from_regions(regions: Any, *, iso_a3: str, name: str,
                         anchor: tuple[float, float] | None = None) -> Any:
    """A country for the world layer made of a regions layer (the simulated country).

    The regions (a GeoJSON path or a GeoDataFrame) are dissolved into one outline. With
    ``anchor`` (lon, lat) the outline is moved so that a point inside it sits there, its
    east-west extent rescaled for the new latitude so that its size on the ground stays
    the same; without it the country stays where its geometry puts it.
    """
    import geopandas as gpd
    from shapely import affinity
    from shapely.ops import unary_union

    g = regions if isinstance(regions, gpd.GeoDataFrame) else regions_layer(regions)
    if len(g) == 0:
        raise InputDataError(f"{regions}: no regions to make country {iso_a3} of")
    shape = unary_union(list(g.to_crs("EPSG:4326").geometry))
    if anchor is not None:
        lon, lat = (float(v) for v in anchor)
        if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 80.0):
            raise InputDataError(f"anchor of {iso_a3}: ({lon}, {lat}) is not a longitude in "
                                 "-180..180 and a latitude in -80..80")
        here = shape.representative_point()
        factor = np.cos(np.radians(here.y)) / np.cos(np.radians(lat))
        shape = affinity.scale(shape, xfact=factor, yfact=1.0, origin=here)
        shape = affinity.translate(shape, xoff=lon - here.x, yoff=lat - here.y)
    return gpd.GeoDataFrame({"iso_a3": [iso_a3], "name": [name]}, geometry=[shape],
                            crs="EPSG:4326")


def regions_layer(geojson: str | Path) -> Any:
    """The simulated country's regions (GeoDataFrame with ``code``, ``name``, ``population``)."""
    import geopandas as gpd

    try:
        g = gpd.read_file(geojson)
    except Exception as exc:  # pyogrio raises its own error types
        raise InputDataError(f"{geojson}: cannot read regions: {exc}") from exc
    if "code" not in g.columns:
        raise InputDataError(f"{geojson}: regions need a 'code' property")
    if g.crs is None:
        g = g.set_crs("EPSG:4326")
    return g


@lru_cache(maxsize=1)
def _centroids() -> pd.DataFrame:
    w = _world()
    parts = w[w["iso_a3"].notna()].explode(index_parts=False).to_crs(EQUAL_EARTH)
    parts = parts.assign(_area=parts.geometry.area)
    main = parts.sort_values("_area", ascending=False).drop_duplicates("iso_a3")
    pts = main.geometry.representative_point().to_crs("EPSG:4326")
    return pd.DataFrame({"iso_a3": main["iso_a3"].to_numpy(), "lon": pts.x.to_numpy(),
                         "lat": pts.y.to_numpy()})


def country_centroids(extra: Any = None) -> pd.DataFrame:
    """A point inside each country's largest polygon (lon/lat), keyed by ``iso_a3``; the
    countries of ``extra`` (see :func:`world_layer`) included."""
    base = _centroids()
    if extra is None or len(extra) == 0:
        return base.copy()
    pts = extra.to_crs("EPSG:4326").geometry.representative_point()
    added = pd.DataFrame({"iso_a3": extra["iso_a3"].to_numpy(), "lon": pts.x.to_numpy(),
                          "lat": pts.y.to_numpy()})
    return pd.concat([base[~base["iso_a3"].isin(added["iso_a3"])], added], ignore_index=True)


def great_circle(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray,
                 steps: int = 32) -> np.ndarray:
    """Points along great circles (vectorised over edges): shape (edges, steps, 2) lon/lat."""
    p0 = _xyz(lon0, lat0)
    p1 = _xyz(lon1, lat1)
    omega = np.arccos(np.clip((p0 * p1).sum(axis=1), -1.0, 1.0))[:, None, None]
    f = np.linspace(0.0, 1.0, steps)[None, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sin(omega)
        a = np.where(s > 1e-9, np.sin((1 - f) * omega) / s, 1 - f)
        b = np.where(s > 1e-9, np.sin(f * omega) / s, f)
    p = a * p0[:, None, :] + b * p1[:, None, :]
    lon = np.degrees(np.arctan2(p[..., 1], p[..., 0]))
    lat = np.degrees(np.arcsin(np.clip(p[..., 2] / np.linalg.norm(p, axis=-1), -1, 1)))
    return np.stack([lon, lat], axis=-1)


def _xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _figure(width: float = 10.0, height: float = 5.5) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_axis_off()
    return fig, ax


def _save(fig: Any, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, bbox_inches="tight", format=p.suffix.lstrip(".") or "png")
    return p


def choropleth(layer: Any, values: pd.DataFrame | pa.Table, *, key: str, layer_key: str,
               value: str, path: str | Path, title: str = "", source_note: str = "") -> Path:
    """A choropleth (quantile classes) of ``values[value]`` joined on ``key`` = ``layer_key``."""
    v = values.to_pandas() if isinstance(values, pa.Table) else values
    g = layer.merge(v[[key, value]], left_on=layer_key, right_on=key, how="left")
    if g.crs is not None and layer_key == "iso_a3":
        g = g.to_crs(EQUAL_EARTH)
    fig, ax = _figure()
    g.plot(ax=ax, color="#f2f3f4", edgecolor="#aab7b8", linewidth=0.3)
    has = g[g[value].notna()]
    if len(has):
        has.plot(ax=ax, column=value, cmap="OrRd", legend=True, edgecolor="#7f8c8d",
                 linewidth=0.3, legend_kwds={"shrink": 0.6, "label": value})
    ax.set_title(title)
    if source_note:
        fig.text(0.01, 0.01, source_note, fontsize=7, color="#566573")
    return _save(fig, path)


def hotspot_map(layer: Any, hotspot_table: pa.Table | pd.DataFrame, *, path: str | Path,
                layer_key: str = "code", key: str = "region", title: str = "") -> Path:
    """Regions coloured by Gi* class (hot / cold / not significant), labelled by code."""
    h = hotspot_table.to_pandas() if isinstance(hotspot_table, pa.Table) else hotspot_table
    g = layer.merge(h[[key, "gi_class"]], left_on=layer_key, right_on=key, how="left")
    g["gi_class"] = g["gi_class"].fillna("not significant")
    fig, ax = _figure(7.0, 7.0)
    for cls, colour in HOTSPOT_COLOURS.items():
        part = g[g["gi_class"] == cls]
        if len(part):
            part.plot(ax=ax, color=colour, edgecolor="#34495e", linewidth=0.5, label=cls)
    pts = g.to_crs(EQUAL_EARTH).representative_point().to_crs(g.crs) if g.crs else \
        g.representative_point()
    for x, y, lab in zip(pts.x, pts.y, g[layer_key], strict=True):
        ax.annotate(str(lab), (x, y), fontsize=6, ha="center", color="#17202a")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=c, label=k) for k, c in HOTSPOT_COLOURS.items()],
              loc="lower left", fontsize=8)
    ax.set_title(title or "Getis-Ord Gi* hotspots (BH-corrected)")
    return _save(fig, path)


def _top_flows(corridors: pd.DataFrame | pa.Table, source: str, target: str, value: str,
               top: int) -> pd.DataFrame:
    c = corridors.to_pandas() if isinstance(corridors, pa.Table) else corridors
    return c[(c[source] != c[target]) & c[value].notna()].nlargest(top, value)


def flow_lines(corridors: pd.DataFrame | pa.Table, *, source: str = "origin_country",
               target: str = "country_of_exploitation", value: str = "n",
               top: int = 30, steps: int = 32, extra: Any = None) -> pd.DataFrame:
    """Great-circle polylines for the ``top`` corridors between country centroids.

    Corridors with a point that is not on the world layer (with the countries of ``extra``)
    are left out here; list them with :func:`unmapped_flows` so that a reader is told.
    """
    c = _top_flows(corridors, source, target, value, top)
    cen = country_centroids(extra).set_index("iso_a3")
    c = c[c[source].isin(cen.index) & c[target].isin(cen.index)]
    a, b = cen.loc[c[source]], cen.loc[c[target]]
    lines = great_circle(a["lon"].to_numpy(), a["lat"].to_numpy(), b["lon"].to_numpy(),
                         b["lat"].to_numpy(), steps)
    out = c[[source, target, value]].reset_index(drop=True)
    out["path"] = [ln.tolist() for ln in lines]
    return out


def unmapped_flows(corridors: pd.DataFrame | pa.Table, *, source: str = "origin_country",
                   target: str = "country_of_exploitation", value: str = "n",
                   top: int = 30, extra: Any = None) -> pd.DataFrame:
    """The ``top`` corridors :func:`flow_lines` cannot draw, and why.

    A point is off the map when it is not an ISO alpha-3 code of the Natural Earth layer: a
    region label ("Europe"), a fictional country (the simulated country, ``XTL``), a code the
    layer lacks (small states), or a missing value; a country given in ``extra`` (see
    :func:`country_from_regions`) is on the map. Columns: ``source``, ``target``, ``value``
    and ``not_on_map`` (the offending labels, comma-separated).
    """
    c = _top_flows(corridors, source, target, value, top)
    known = set(country_centroids(extra)["iso_a3"])
    rows = []
    for s_, t_, v in zip(c[source], c[target], c[value], strict=True):  # at most ``top``
        missing = [str(x) for x in (s_, t_) if x not in known]
        if missing:
            rows.append({source: s_, target: t_, value: v, "not_on_map": ", ".join(missing)})
    return pd.DataFrame(rows, columns=[source, target, value, "not_on_map"])


def off_map_note(unmapped: pd.DataFrame) -> str:
    """One line for a figure or page: which labels are not on the map, how many corridors."""
    if unmapped.empty:
        return ""
    labels = sorted({x.strip() for v in unmapped["not_on_map"] for x in v.split(",")})
    shown = ", ".join(labels[:8]) + (f" and {len(labels) - 8} more" if len(labels) > 8 else "")
    return (f"{len(unmapped)} of the top corridors are not drawn: not on the map: {shown} "
            "(see the table)")


def flow_map(corridors: pd.DataFrame | pa.Table, *, path: str | Path, top: int = 30,
             title: str = "", source_note: str = "", extra: Any = None) -> Path:
    """Corridors as great-circle lines (width ~ volume) on the world layer.

    The countries of ``extra`` (the simulated country) join the layer, outlined darker.
    Corridors with a point that is not on the world layer are named under the map, never
    dropped silently; when none can be drawn the map says so.
    """
    import geopandas as gpd
    from shapely.geometry import LineString

    lines = flow_lines(corridors, top=top, extra=extra)
    missing = off_map_note(unmapped_flows(corridors, top=top, extra=extra))
    world = world_layer(extra)
    fig, ax = _figure()
    world.to_crs(EQUAL_EARTH).plot(ax=ax, color="#f2f3f4", edgecolor="#aab7b8", linewidth=0.3)
    if extra is not None and len(extra):
        added = extra.to_crs(EQUAL_EARTH)
        added.plot(ax=ax, color="#d6eaf8", edgecolor="#1b4f72", linewidth=0.8)
        for pt, label in zip(added.geometry.representative_point(), added["name"],
                             strict=True):
            ax.annotate(str(label), (pt.x, pt.y), xytext=(4, -10), textcoords="offset points",
                        fontsize=7, color="#1b4f72")
    if len(lines):
        geoms = [LineString(p) for p in lines["path"]]
        gl = gpd.GeoDataFrame(lines.drop(columns="path"), geometry=geoms, crs="EPSG:4326")
        gl = gl.to_crs(EQUAL_EARTH)
        widths = 0.5 + 4.0 * lines["n"].to_numpy(float) / float(lines["n"].max())
        gl.plot(ax=ax, linewidth=widths, color="#c0392b", alpha=0.7)
    else:
        ax.text(0.5, 0.5, "No corridor can be drawn on the world map", transform=ax.transAxes,
                ha="center", va="center", fontsize=11, color="#566573")
    ax.set_title(title or f"Top {len(lines)} corridors")
    notes = [n for n in (missing, source_note) if n]
    if notes:
        fig.text(0.01, 0.01, "\n".join(notes), fontsize=7, color="#566573")
    return _save(fig, path)


def leaflet_geojson(layer: Any, values: pd.DataFrame | pa.Table | None = None, *,
                    layer_key: str, key: str | None = None,
                    columns: tuple[str, ...] = (), precision: int = 4) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326) with ``columns`` of ``values`` as properties.

    Missing or suppressed values are ``null``. The web page styles features from the
    properties (e.g. ``gi_class`` or ``rate``) with its vendored Leaflet.
    """
    g = layer.to_crs("EPSG:4326") if layer.crs is not None else layer
    if values is not None:
        v = values.to_pandas() if isinstance(values, pa.Table) else values
        k = key or layer_key
        g = g.merge(v[[k, *columns]], left_on=layer_key, right_on=k, how="left")
    keep = [layer_key, *(c for c in ("name",) if c in g.columns), *columns]
    g = g[[*list(dict.fromkeys(keep)), "geometry"]]
    text = g.to_json(na="null", drop_id=True, to_wgs84=False)
    fc: dict[str, Any] = json.loads(text)
    if precision is not None:
        for f in fc["features"]:
            f["geometry"] = _round(f["geometry"], precision)
    return fc


def _round(geom: dict[str, Any], nd: int) -> dict[str, Any]:
    def r(c: Any) -> Any:
        if isinstance(c, list | tuple) and c and isinstance(c[0], int | float):
            return [round(float(x), nd) for x in c]
        return [r(x) for x in c]

    return {"type": geom["type"], "coordinates": r(geom["coordinates"])}
