"""The synthetic country: regions, their shapes, neighbours, covariates and true prevalence.

The outline is a smooth random "blob" (a circle whose radius is perturbed by a few low
harmonics), placed in the empty South Atlantic so that it never pretends to be a real place.
Regions are the Voronoi cells of seeded points (relaxed twice, Lloyd-style, so cells have
even sizes) clipped to the outline and snapped to a 1e-6 degree grid, so the GeoJSON written
is exactly the geometry tested. Neighbours are regions whose polygons touch.

Covariates are spatially smooth: independent normal draws averaged with each region's
neighbours (four rounds, 70% weight on the neighbours), then standardised. The *true*
expected prevalence follows a stated log-linear model on the standardised covariates
(:class:`PrevalenceModel`); hotspots are the top fifth of regions by that prevalence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import MultiPoint, Polygon

from tiplab.simulate.rng import stream

#: Centre of the fictional country (lon, lat): open ocean, far from any real coast.
CENTRE = (-25.0, -38.0)
#: Radius of the outline in degrees of latitude (about 280 km).
RADIUS_DEG = 2.5
GRID = 1e-6

_PREFIXES = (
    "Vel",
    "Mar",
    "Tor",
    "Kar",
    "Lun",
    "Bre",
    "Sor",
    "Al",
    "Dun",
    "Fen",
    "Gal",
    "Hol",
    "Ister",
    "Jor",
    "Kest",
    "Lor",
    "Mor",
    "Nal",
    "Orv",
    "Pel",
    "Quen",
    "Ros",
    "Sal",
    "Tam",
    "Ul",
    "Var",
    "Wen",
    "Yar",
    "Zel",
    "Cor",
    "Bel",
    "Est",
)
_SUFFIXES = (
    "ia",
    "ova",
    "land",
    "mark",
    "vale",
    "dor",
    "ana",
    "esti",
    "ora",
    "enne",
    "holm",
    "gard",
    "ino",
    "ara",
    "ica",
    "ovo",
)

COVARIATES: tuple[str, ...] = (
    "poverty_rate",
    "unemployment_rate",
    "migrant_share",
    "informal_labour_share",
    "education_years",
    "conflict_exposure",
    "urbanisation",
    "border_region",
)


class PrevalenceModel(BaseModel):
    """log(victims per person) = intercept + sum(beta_k * z_k), z_k standardised covariates.

    The intercept is not a free parameter: it is fixed by the size of the hidden population.
    ``border_region`` enters as 0/1, not standardised.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    poverty_rate: float = 0.35
    unemployment_rate: float = 0.15
    migrant_share: float = 0.30
    informal_labour_share: float = 0.25
    education_years: float = -0.15
    conflict_exposure: float = 0.20
    urbanisation: float = 0.20
    border_region: float = 0.40
    hotspot_share: float = Field(
        0.2, gt=0, lt=1, description="top share of regions (by true prevalence) that are hotspots"
    )


@dataclass
class Country:
    """The regions of the synthetic country and everything known about them."""

    code: str
    name: str
    regions: pa.Table  # code, name, population, covariates, prevalence, hotspot, ...
    geometries: list[Polygon]
    adjacency: list[tuple[int, int]]  # index pairs i < j
    #: Relative enforcement intensity of each agency family per region (truth).
    enforcement: dict[str, np.ndarray]
    probabilities: np.ndarray  # share of the hidden population exploited in each region

    @property
    def codes(self) -> list[str]:
        return [str(c) for c in self.regions.column("code").to_pylist()]

    @property
    def names(self) -> list[str]:
        return [str(c) for c in self.regions.column("name").to_pylist()]


def _outline(rng: np.random.Generator) -> Polygon:
    theta = np.linspace(0.0, 2 * math.pi, 240, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 7):
        r += rng.uniform(0.03, 0.12) / (k - 1) ** 0.5 * np.cos(k * theta + rng.uniform(0, 6.3))
    lat_scale = math.cos(math.radians(CENTRE[1]))
    x = CENTRE[0] + RADIUS_DEG * r * np.cos(theta) / lat_scale
    y = CENTRE[1] + RADIUS_DEG * r * np.sin(theta) * 0.8
    return Polygon(np.column_stack([x, y]))


def _seed_points(rng: np.random.Generator, outline: Polygon, n: int) -> np.ndarray:
    minx, miny, maxx, maxy = outline.bounds
    pts = np.empty((0, 2))
    while len(pts) < n:
        cand = np.column_stack([rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)])
        inside = shapely.contains_xy(outline, cand[:, 0], cand[:, 1])
        pts = np.vstack([pts, cand[inside]])
    pts = pts[:n]
    for _ in range(2):  # Lloyd relaxation: move each point to its cell's centroid
        cells = _cells(pts, outline)
        pts = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    return pts


def _cells(points: np.ndarray, outline: Polygon) -> list[Polygon]:
    vor = shapely.voronoi_polygons(
        MultiPoint(points), extend_to=outline.envelope.buffer(1.0), ordered=True
    )
    cells = [shapely.intersection(g, outline) for g in shapely.get_parts(vor)]
    out: list[Polygon] = []
    for c in cells:
        if c.geom_type != "Polygon":  # keep the largest piece of a split cell
            c = max(shapely.get_parts(c), key=lambda g: g.area)
        out.append(c)
    return out


def _names(rng: np.random.Generator, n: int) -> list[str]:
    combos = [p + s for p in _PREFIXES for s in _SUFFIXES]
    order = rng.permutation(len(combos))
    names: list[str] = []
    stems: set[str] = set()
    for i in order:
        name = combos[int(i)]
        if name[:3] in stems:  # avoid near-duplicates such as Velia / Velova
            continue
        stems.add(name[:3])
        names.append(name)
        if len(names) == n:
            break
    return names


def _smooth(x: np.ndarray, nbrs: list[list[int]], rounds: int = 4) -> np.ndarray:
    for _ in range(rounds):
        x = np.array(
            [0.3 * x[i] + 0.7 * np.mean(x[nb]) if nb else x[i] for i, nb in enumerate(nbrs)]
        )
    return np.asarray((x - x.mean()) / (x.std() or 1.0))


def build_country(
    seed: int, n_regions: int, total_victims: int, code: str, name: str, model: PrevalenceModel
) -> Country:
    """Build the regions, their geometry, adjacency, covariates and true prevalence."""
    rng = stream(seed, "country")
    outline = _outline(rng)
    pts = _seed_points(rng, outline, n_regions)
    cells = shapely.set_precision(np.array(_cells(pts, outline), dtype=object), GRID)
    # Number regions from north-west to south-east, as atlases tend to.
    cent = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    order = np.lexsort((cent[:, 0], -np.round(cent[:, 1], 1)))
    cells = cells[order]
    geoms: list[Polygon] = [shapely.make_valid(c) if not c.is_valid else c for c in cells]
    n = len(geoms)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="touches")
    adjacency = sorted({(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b})
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in adjacency:
        nbrs[a].append(b)
        nbrs[b].append(a)

    # Land border: the northern and eastern arcs of the outline face neighbouring states.
    land_arc = shapely.intersection(
        outline.exterior,
        Polygon(
            [
                (CENTRE[0], CENTRE[1]),
                (CENTRE[0] - 10, CENTRE[1] + 10),
                (CENTRE[0] + 10, CENTRE[1] + 10),
                (CENTRE[0] + 10, CENTRE[1] - 10),
            ]
        ),
    )
    border = np.array([g.boundary.intersection(land_arc.buffer(1e-4)).length > 0.05 for g in geoms])

    # Three smooth latent fields drive the covariates, so they correlate as real ones do.
    deprivation = _smooth(rng.normal(size=n), nbrs)
    urban_latent = _smooth(rng.normal(size=n), nbrs)
    unrest = _smooth(rng.normal(size=n), nbrs)
    capital = int(np.argmax(urban_latent))
    urban_latent[capital] = max(urban_latent.max(), 2.0)
    area_km2 = np.array([g.area for g in geoms]) * (111.32**2) * math.cos(math.radians(CENTRE[1]))
    density = np.exp(4.0 + 0.8 * urban_latent + rng.normal(0, 0.25, n))  # persons per km2
    population = np.round(density * area_km2, -2).astype(np.int64)

    def noisy(z: np.ndarray, sd: float = 0.25) -> np.ndarray:
        v = z + rng.normal(0, sd, n)
        return np.asarray((v - v.mean()) / v.std())

    z = {
        "poverty_rate": noisy(deprivation - 0.3 * urban_latent),
        "unemployment_rate": noisy(0.8 * deprivation),
        "migrant_share": noisy(0.6 * urban_latent + 0.5 * border),
        "informal_labour_share": noisy(0.7 * deprivation - 0.4 * urban_latent),
        "education_years": noisy(-0.6 * deprivation + 0.5 * urban_latent),
        "conflict_exposure": noisy(unrest + 0.3 * border),
        "urbanisation": noisy(urban_latent, 0.2),
    }
    covariates = {
        "poverty_rate": np.clip(14 + 6 * z["poverty_rate"], 2, 45),
        "unemployment_rate": np.clip(7 + 3 * z["unemployment_rate"], 1.5, 25),
        "migrant_share": np.clip(9 + 4 * z["migrant_share"], 0.5, 35),
        "informal_labour_share": np.clip(22 + 8 * z["informal_labour_share"], 3, 60),
        "education_years": np.clip(11.5 - 1.5 * -z["education_years"], 6, 16),
        "conflict_exposure": 1 / (1 + np.exp(-(z["conflict_exposure"] - 1.0))),
        "urbanisation": np.clip(55 + 18 * z["urbanisation"], 8, 99),
    }
    lin = sum(getattr(model, k) * z[k] for k in z) + model.border_region * border
    weights = population * np.exp(lin)
    probabilities = weights / weights.sum()
    expected = total_victims * probabilities
    prevalence = expected / population * 1e5
    k = max(1, math.ceil(model.hotspot_share * n))
    hot = np.zeros(n, dtype=bool)
    hot[np.argsort(-prevalence, kind="stable")[:k]] = True

    # Enforcement: police follow cities; inspectors a separate, patchy field; NGO shelters
    # exist only in the most urban regions. Independent of prevalence, so rural hotspots
    # become detection gaps.
    enforcement = {
        "police": np.exp(0.5 * z["urbanisation"] + 0.35 * noisy(np.zeros(n), 1.0)),
        "labour": np.exp(0.7 * noisy(np.zeros(n), 1.0)),
        "ngo": np.where(z["urbanisation"] >= np.quantile(z["urbanisation"], 0.6), 1.0, 0.25),
        "flat": np.ones(n),
    }
    codes = [f"{code[:2]}-{i + 1:02d}" for i in range(n)]
    names = _names(rng, n)
    cols: dict[str, pa.Array | np.ndarray | list[object]] = {
        "code": codes,
        "name": names,
        "population": population,
        "area_km2": np.round(area_km2, 1),
        "capital": np.arange(n) == capital,
    }
    for key, values in covariates.items():
        cols[key] = np.round(values, 3)
    cols["border_region"] = border
    cols["linear_predictor"] = np.round(lin, 6)
    cols["true_expected_victims"] = np.round(expected, 3)
    cols["true_prevalence_per_100k"] = np.round(prevalence, 4)
    cols["true_hotspot"] = hot
    for fam in ("police", "labour", "ngo"):
        cols[f"enforcement_{fam}"] = np.round(enforcement[fam], 4)
    return Country(
        code=code,
        name=name,
        regions=pa.table(cols),
        geometries=geoms,
        adjacency=adjacency,
        enforcement=enforcement,
        probabilities=probabilities,
    )


def geojson(country: Country) -> dict[str, object]:
    """A GeoJSON FeatureCollection (EPSG:4326, lon/lat degrees) of the regions."""
    props = country.regions.select(["code", "name", "population", "capital"]).to_pylist()
    features = []
    for p, g in zip(props, country.geometries, strict=True):
        features.append(
            {"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)}
        )
    return {
        "type": "FeatureCollection",
        "name": f"{country.code} regions",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": features,
    }
