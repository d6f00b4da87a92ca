"""Hotspots: Getis-Ord Gi* and local Moran's I on regional rates, FDR-corrected; emerging
hotspots over years.

- **Gi*** (Getis & Ord 1992, Ord & Getis 1995; ``esda.G_Local(star=True)``, binary weights):
  is the rate in a region *and its neighbours* higher (hot) or lower (cold) than the overall
  mean? Gi* is a z-score, asymptotically normal (Ord & Getis 1995); its two-sided normal
  p-value is what the FDR correction uses (as ArcGIS' Hot Spot Analysis does). The seeded
  conditional-permutation p-value (``gi_p_sim``, doubled folded pseudo p) is reported too; it is
  not used for the decision because with 999 draws its floor (0.002) is too coarse for
  Benjamini-Hochberg over many regions.
- **Local Moran's I** (Anselin 1995; ``esda.Moran_Local``, row-standardised): clusters
  (high-high, low-low) and outliers (high-low, low-high); permutation p-values (the normal
  approximation is poor for local Moran), so with many regions raise ``permutations``.
- Both sets of p-values are corrected with Benjamini-Hochberg at level ``alpha`` across
  regions (false-discovery rate), because testing every region at 5% would flag about one
  in twenty regions by chance.
- **Emerging hotspots**: Gi* z-scores per year, a Mann-Kendall test of each region's z
  series, and a class: *new* (hot in the last year only), *intensifying* / *persistent* /
  *diminishing* (hot in at least 90% of years, with a rising / no / falling z trend),
  *sporadic* (hot in the last year and some earlier years), *historical* (hot in at least 90%
  of earlier years but not the last), else *no pattern*.

Assumptions: rates are comparable across regions (similar detection effort); neighbours
come from shared borders (adjacency) or k nearest centroids; small populations make rates
noisy, so read hotspots next to the counts.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
from scipy import stats

from tiplab.analysis.errors import AnalysisError, InputDataError
from tiplab.analysis.results import AnalysisResult
from tiplab.analysis.source import execute, require, resolve, unit_of
from tiplab.analysis.stats import benjamini_hochberg, mann_kendall
from tiplab.privacy import DisclosureRule, protect_counts

QUADRANTS = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}


@dataclass(frozen=True)
class HotspotSettings:
    region_column: str = "region_of_exploitation"
    start: int | None = None
    end: int | None = None
    per: float = 100_000.0
    permutations: int = 999
    alpha: float = 0.05
    seed: int = 0
    persistent_share: float = 0.9

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def _esda_quiet() -> Iterator[None]:
    """esda 2.9 warns that its permutation test's default alternative will change; we use the
    current folded ('directed') p-value and double it ourselves, so the change cannot alter
    our results."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The alternative hypothesis",
                                category=DeprecationWarning)
        yield


def weights_from_adjacency(adjacency: str | Path | pa.Table | pd.DataFrame,
                           ids: list[str]) -> Any:
    """Binary symmetric libpysal weights from a ``region_a, region_b`` edge list."""
    from libpysal.weights import W

    if isinstance(adjacency, str | Path):
        try:
            df = pd.read_csv(adjacency, dtype=str)
        except OSError as exc:
            raise InputDataError(f"{adjacency}: cannot read adjacency: {exc}") from exc
    elif isinstance(adjacency, pa.Table):
        df = adjacency.to_pandas()
    else:
        df = adjacency
    cols = list(df.columns[:2])
    if len(cols) < 2:
        raise InputDataError("adjacency needs two columns (region_a, region_b)")
    known = set(ids)
    a, b = df[cols[0]].astype(str), df[cols[1]].astype(str)
    unknown = sorted((set(a) | set(b)) - known)
    if unknown:
        raise InputDataError(f"adjacency names regions that are not in the region list: "
                             f"{unknown[:5]}")
    neigh: dict[str, set[str]] = {i: set() for i in ids}
    for x, y in zip(a, b, strict=True):  # edges of the region graph, not records
        if x != y:
            neigh[x].add(y)
            neigh[y].add(x)
    islands = [i for i, v in neigh.items() if not v]
    if islands:
        raise InputDataError(f"regions without neighbours in the adjacency: {islands[:5]}; "
                             "add them or use k-nearest neighbours")
    return W({i: sorted(v) for i, v in neigh.items()}, id_order=list(ids),
             silence_warnings=True)


def weights_from_geometries(gdf: Any, *, method: str = "knn", k: int = 5) -> Any:
    """Queen contiguity (islands joined to their nearest neighbour) or k-nearest centroids.

    Centroids are computed in the Equal Earth projection (EPSG:8857) so that distances are
    not distorted by longitude/latitude.
    """
    from libpysal.weights import KNN, Queen, W

    pts = gdf.geometry.to_crs("EPSG:8857").centroid if gdf.crs else gdf.geometry.centroid
    coords = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    ids = list(range(len(gdf)))
    knn = KNN.from_array(coords, k=k, ids=ids, silence_warnings=True)
    if method == "knn":
        return knn
    if method != "queen":
        raise AnalysisError(f"unknown weights method {method!r}; use queen or knn")
    q = Queen.from_dataframe(gdf.reset_index(drop=True), use_index=False,
                             silence_warnings=True)
    neigh = {i: list(q.neighbors.get(i, [])) or list(knn.neighbors[i][:1]) for i in ids}
    for i, ns in list(neigh.items()):
        for j in ns:
            if i not in neigh[j]:
                neigh[j] = [*neigh[j], i]
    return W(neigh, id_order=ids, silence_warnings=True)


def local_statistics(values: npt.ArrayLike, w: Any, *, permutations: int = 999,
                     seed: int = 0, alpha: float = 0.05) -> pd.DataFrame:
    """Gi* and local Moran's I for ``values`` (ordered like ``w.id_order``)."""
    import esda

    y = np.asarray(values, dtype=np.float64)
    if y.size < 3 or not np.isfinite(y).all():
        raise AnalysisError("hotspot statistics need at least 3 regions with finite rates")
    if np.allclose(y, y[0]):
        raise AnalysisError("every region has the same rate; there are no hotspots to find")
    with _esda_quiet():
        g = esda.G_Local(y, w, transform="B", permutations=permutations, star=True,
                         seed=seed, n_jobs=1, keep_simulations=False)
        lm = esda.Moran_Local(y, w, transformation="r", permutations=permutations, seed=seed,
                              n_jobs=1, keep_simulations=False)
    z = np.asarray(g.Zs, np.float64)
    gi_p = 2.0 * stats.norm.sf(np.abs(z))
    gi_p_sim = np.minimum(1.0, 2.0 * np.asarray(g.p_sim, np.float64))
    lm_p = np.minimum(1.0, 2.0 * np.asarray(lm.p_sim, np.float64))
    gi_q = benjamini_hochberg(gi_p)
    lm_q = benjamini_hochberg(lm_p)
    sig = gi_q < alpha
    out = pd.DataFrame({
        "gi_z": z, "gi_p": gi_p, "gi_p_sim": gi_p_sim, "gi_q": gi_q,
        "gi_class": np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold",
                                                            "not significant")),
        "lisa_i": np.asarray(lm.Is, np.float64), "lisa_p": lm_p, "lisa_q": lm_q,
        "lisa_quadrant": [QUADRANTS.get(int(q), "") for q in lm.q],
    })
    out["lisa_class"] = np.where(lm_q < alpha, out["lisa_quadrant"], "not significant")
    return out


def region_query(t: ir.Table, s: HotspotSettings, by_year: bool = False) -> ir.Table:
    """Ibis: records per region (and year)."""
    require(t, s.region_column, "registration_date")
    x = t.filter(t[s.region_column].notnull() & t.registration_date.notnull())
    yr = x.registration_date.year()
    if s.start is not None:
        x = x.filter(yr >= s.start)
    if s.end is not None:
        x = x.filter(yr <= s.end)
    keys = [s.region_column]
    if by_year:
        x = x.mutate(year=x.registration_date.year())
        keys.append("year")
    return x.group_by(keys).agg(n=ibis._.count())


def _regions_frame(regions: Any) -> pd.DataFrame:
    """Accept a regions GeoJSON path, GeoDataFrame or table with ``code``/``population``."""
    if isinstance(regions, str | Path):
        from tiplab.analysis.population import population_from_regions

        df = population_from_regions(regions, key="region").to_pandas()
    elif isinstance(regions, pa.Table):
        df = regions.to_pandas()
    else:
        df = pd.DataFrame(regions)
    df = df.rename(columns={"code": "region", "region_of_exploitation": "region"})
    if "region" not in df.columns or "population" not in df.columns:
        raise InputDataError("regions need 'code' (or 'region') and 'population' columns")
    return df[["region", "population"]].astype({"region": str})


def hotspots(source: Any, regions: Any, adjacency: Any, settings: HotspotSettings | None = None,
             *, protect: DisclosureRule | None = None,
             data_version: str | None = None) -> AnalysisResult:
    """Gi* and local Moran's I on case rates per region.

    ``regions``: the simulated country's ``regions.geojson`` (or a table with ``code`` and
    ``population``); ``adjacency``: its ``adjacency.csv`` (or a libpysal ``W`` ordered like
    the regions). Returns table ``regions`` (region, n, population, rate, Gi*, LISA) and
    ``global_moran`` in ``extra``.
    """

    s = settings or HotspotSettings()
    t, version = resolve(source, "case", data_version)
    reg = _regions_frame(regions)
    counts = execute(region_query(t, s)).to_pandas().rename(columns={s.region_column: "region"})
    df = reg.merge(counts, on="region", how="left")
    unknown = sorted(set(counts["region"]) - set(reg["region"]))
    df["n"] = df["n"].fillna(0).astype(np.int64)
    df["rate"] = df["n"] / df["population"] * s.per
    w = adjacency if hasattr(adjacency, "neighbors") else weights_from_adjacency(
        adjacency, df["region"].tolist())
    stats_df = local_statistics(df["rate"].to_numpy(), w, permutations=s.permutations,
                                seed=s.seed, alpha=s.alpha)
    out = pd.concat([df.reset_index(drop=True), stats_df], axis=1)
    mi = global_moran(df["rate"].to_numpy(np.float64), w, permutations=s.permutations,
                      seed=s.seed) if s.permutations else None
    notes = [f"Gi* p-values from its z-score, local Moran p-values from {s.permutations} "
             f"permutations; both Benjamini-Hochberg corrected at {s.alpha}"]
    if unknown:
        notes.append(f"{sum(counts['region'].isin(unknown))} region codes not in the region "
                     f"list were left out: {unknown[:5]}")
    table = pa.Table.from_pandas(out, preserve_index=False)
    prot = None
    if protect is not None:
        table, prot = protect_counts(table, "n", rule=protect, also=["rate"])
        notes.append("region counts and rates below the threshold suppressed; hotspot "
                     "classes are published for every region")
    extra = {"global_moran": mi}
    return AnalysisResult(
        unit=unit_of(source), kind="hotspots", tables={"regions": table}, data_version=version,
                          parameters=s.to_dict(), notes=notes, protection=prot, extra=extra)


def global_moran(y: npt.ArrayLike, w: Any, *, permutations: int = 999, seed: int = 0
                 ) -> dict[str, float]:
    """Global Moran's I (row-standardised) with its permutation p-value.

    The same statistic and the same permutations as ``esda.Moran`` (NumPy's global generator
    seeded with ``seed``, one ``np.random.permutation`` per draw, in order), but the permuted
    statistics are computed in one matrix product instead of one call each.
    """
    import esda

    yy = np.asarray(y, dtype=np.float64)
    with _esda_quiet():
        mi = esda.Moran(yy, w, permutations=0)
    z = yy - yy.mean()
    np.random.seed(seed)
    perms = np.stack([np.random.permutation(z) for _ in range(permutations)])
    lagged = np.asarray((mi.w.sparse @ perms.T).T)
    sims = mi.n / mi.w.s0 * (perms * lagged).sum(axis=1) / mi.z2ss
    larger = int((sims >= mi.I).sum())
    larger = min(larger, permutations - larger)
    return {"I": float(mi.I), "expected": float(mi.EI),
            "p_value": (larger + 1.0) / (permutations + 1.0)}


def gi_star_z(values: npt.ArrayLike, w: Any) -> npt.NDArray[np.float64]:
    """Gi* z-scores (binary weights, self included) for each column of ``values`` at once.

    The formula of ``esda.G_Local(star=True, transform="B")`` (Ord & Getis 1995), vectorised
    over columns (years); columns with a constant value get z = 0.
    """
    y = np.asarray(values, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    from scipy.sparse import csr_matrix, identity

    a = csr_matrix(w.sparse, dtype=np.float64)
    a.data[:] = 1.0
    a.setdiag(0.0)
    a.eliminate_zeros()
    ws = (a + identity(a.shape[0], format="csr")).tocsr()
    n = y.shape[0]
    constant = np.isclose(y.max(axis=0), y.min(axis=0))
    total = np.where(constant, 1.0, y.sum(axis=0))
    statistic = np.asarray(ws @ y) / total
    mean = y.sum(axis=0) / n
    variance = (y**2).sum(axis=0) / n - mean**2
    card = np.asarray(ws.sum(axis=1)).ravel()[:, None]
    expected = card / n
    var_g = card * (n - card) / (n - 1) / n**2 * (variance / np.where(constant, 1.0, mean**2))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (statistic - expected) / np.sqrt(var_g)
    z[:, constant] = 0.0
    return np.asarray(z, dtype=np.float64)


def classify_emerging(z: npt.ArrayLike, hot: npt.ArrayLike, *, alpha: float = 0.05,
                      persistent_share: float = 0.9) -> pd.DataFrame:
    """Emerging-hotspot classes from per-year Gi* z-scores and significance (regions x years)."""
    zz = np.asarray(z, np.float64)
    hh = np.asarray(hot, bool)
    _, mk_z, mk_p = mann_kendall(zz)
    share = hh.mean(axis=1)
    last = hh[:, -1]
    earlier = hh[:, :-1]
    rising = (mk_p < alpha) & (mk_z > 0)
    falling = (mk_p < alpha) & (mk_z < 0)
    mostly = share >= persistent_share
    prev_mostly = earlier.mean(axis=1) >= persistent_share if earlier.shape[1] else mostly
    cls = np.select(
        [last & ~earlier.any(axis=1), last & mostly & rising, last & mostly & falling,
         last & mostly, last, ~last & prev_mostly],
        ["new", "intensifying", "diminishing", "persistent", "sporadic", "historical"],
        "no pattern")
    return pd.DataFrame({"years_hot": hh.sum(axis=1), "share_hot": share, "mk_z": mk_z,
                         "mk_p": mk_p, "pattern": cls})


def emerging_hotspots(source: Any, regions: Any, adjacency: Any,
                      settings: HotspotSettings | None = None, *,
                      protect: DisclosureRule | None = None,
                      data_version: str | None = None) -> AnalysisResult:
    """Gi* per year on regional rates, Mann-Kendall trend of z, and a pattern per region.

    Returns tables ``patterns`` (one row per region: years hot, share of years hot,
    Mann-Kendall z and p of the Gi* z series, pattern) and ``yearly`` (region x year: ``n``,
    ``rate``, ``gi_z``, ``gi_q``, ``hot``). With ``protect``, small region-year counts are
    suppressed with secondary suppression over the region x year table (with their rates);
    z-scores and classes are published, as on the single-period hotspot map.
    """

    s = settings or HotspotSettings()
    t, version = resolve(source, "case", data_version)
    reg = _regions_frame(regions)
    counts = execute(region_query(t, s, by_year=True)).to_pandas().rename(
        columns={s.region_column: "region"})
    if counts.empty:
        raise AnalysisError("no records with a region and a registration date")
    years = np.arange(int(counts["year"].min()), int(counts["year"].max()) + 1)
    if years.size < 3:
        raise AnalysisError("emerging hotspots need at least 3 years")
    grid = counts.pivot_table(index="region", columns="year", values="n", aggfunc="sum")
    grid = grid.reindex(index=reg["region"], columns=years).fillna(0.0)
    rates = grid.to_numpy() / reg["population"].to_numpy()[:, None] * s.per
    w = adjacency if hasattr(adjacency, "neighbors") else weights_from_adjacency(
        adjacency, reg["region"].tolist())
    # Only the analytical z-score is used (see the module notes): all years at once.
    zs = gi_star_z(rates, w)
    ps = np.ones_like(rates)
    for j in range(years.size):  # BH across regions within each year
        if np.any(zs[:, j] != 0):
            ps[:, j] = benjamini_hochberg(2.0 * stats.norm.sf(np.abs(zs[:, j])))
    hot = (zs > 0) & (ps < s.alpha)
    cls = classify_emerging(zs, hot, alpha=s.alpha, persistent_share=s.persistent_share)
    cls.insert(0, "region", reg["region"].to_numpy())
    long = pd.DataFrame({"region": np.repeat(reg["region"].to_numpy(), years.size),
                         "year": np.tile(years, len(reg)),
                         "n": grid.to_numpy().ravel().astype(np.int64), "rate": rates.ravel(),
                         "gi_z": zs.ravel(), "gi_q": ps.ravel(), "hot": hot.ravel()})
    yearly = pa.Table.from_pandas(long, preserve_index=False)
    notes = ["hot = Gi* z > 0 with BH q < alpha in that year"]
    prot = None
    if protect is not None:
        yearly, prot = protect_counts(yearly, "n", rows="region", cols="year", rule=protect,
                                      also=["rate"])
        notes.append("region-year counts and rates below the threshold suppressed; z-scores "
                     "and patterns are published for every region")
    return AnalysisResult(
        unit=unit_of(source), kind="emerging_hotspots",
                          tables={"patterns": pa.Table.from_pandas(cls, preserve_index=False),
                                  "yearly": yearly},
                          data_version=version, parameters=s.to_dict(), notes=notes,
                          protection=prot)
