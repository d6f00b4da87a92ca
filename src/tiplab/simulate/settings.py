"""Typed settings of a simulation; they round-trip through JSON and are written to truth/.

Every number that shapes the synthetic world is here (or in :mod:`tiplab.simulate.defaults`,
whose values are copied into :class:`SimulationSettings` when a run starts), so a published
figure can be re-run exactly from ``truth/parameters.json``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tiplab.simulate.capture_model import CaptureSettings
from tiplab.simulate.country import PrevalenceModel
from tiplab.simulate.errors import SimulationError

#: The six agencies of the default world, in export order.
DEFAULT_AGENCIES: tuple[str, ...] = (
    "police",
    "labour_inspectorate",
    "ngo_shelters",
    "hotline",
    "immigration",
    "health",
)

#: Defect kinds the generator can inject, each named by the importer reason code it triggers.
DEFECT_CODES: tuple[str, ...] = (
    "E_DATE_INVALID",
    "E_DATE_FUTURE",
    "E_MISSING_REQUIRED",
    "E_CODE_UNKNOWN",
    "E_COUNTRY_UNKNOWN",
    "E_AGE_RANGE",
    "E_AGE_CONTRADICTION",
    "E_INTEGER_INVALID",
    "E_FLAG_INVALID",
    "E_DUPLICATE_RECORD_ID",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoiseSettings(_Model):
    """Rates of identifier noise: realistic variation that is *not* an error.

    Each rate is the probability, per exported record, that the field is altered this way.
    """

    typo: float = Field(0.04, ge=0, le=1, description="one-character edit in a name")
    transliteration: float = Field(
        0.15, ge=0, le=1, description="another Latin spelling of a non-Latin name"
    )
    native_script: float = Field(
        0.10, ge=0, le=1, description="name written in its original script (UTF-8 exports only)"
    )
    nickname: float = Field(0.03, ge=0, le=1)
    name_order_swap: float = Field(0.03, ge=0, le=1)
    day_month_swap: float = Field(
        0.02,
        ge=0,
        le=1,
        description="birth date with day and month exchanged "
        "(only when both are <= 12, so still a date)",
    )
    birth_date_missing: float = Field(0.12, ge=0, le=1)
    phone_changed: float = Field(0.15, ge=0, le=1)
    phone_missing: float = Field(0.35, ge=0, le=1)
    document_missing: float = Field(0.45, ge=0, le=1)
    form_recoded: float = Field(
        0.10,
        ge=0,
        le=1,
        description="exploitation form recorded as another form (agencies classify the "
        "same case differently); an assumption, see docs/simulation.md",
    )
    recruiter_recoded: float = Field(
        0.20,
        ge=0,
        le=1,
        description="recruiter relationship recorded as another category; an assumption, "
        "see docs/simulation.md",
    )
    means_recorded: float = Field(
        0.70,
        ge=0,
        le=1,
        description="each means of control the victim suffered is recorded (the rest go "
        "unrecorded); an assumption, see docs/simulation.md",
    )
    means_spurious: float = Field(
        0.02,
        ge=0,
        le=1,
        description="each means of control the victim did not suffer is recorded all the "
        "same; an assumption, see docs/simulation.md",
    )

    @model_validator(mode="after")
    def _name_rates(self) -> NoiseSettings:
        total = self.typo + self.transliteration + self.native_script + self.nickname
        if total > 1:
            raise ValueError(
                f"typo + transliteration + native_script + nickname = {total:g}; "
                "they are shares of one draw per name and must sum to at most 1"
            )
        return self


class MeasureSettings(_Model):
    """A plan measure that changes capture in chosen regions from a chosen year (off by default).

    From 1 January of ``year`` on, every capture probability of a victim exploited in one of
    ``regions`` (and identified that year or later) is multiplied by ``factor`` (capped at 1),
    for the agencies in ``agencies`` (all when empty). The hidden population is unchanged: the
    measure changes who is *found*, e.g. a training of labour inspectors. The true effect on
    identified victims per region and year is written to ``truth/measure.csv``.
    """

    regions: tuple[str, ...] = Field(min_length=1, description="region codes, e.g. XT-03")
    year: int = Field(description="first identification year the measure applies to")
    factor: float = Field(gt=0, le=20, description="multiplier of the capture probability")
    agencies: tuple[str, ...] = Field(
        (), description="agencies whose capture changes (empty = all)"
    )

    @field_validator("regions", "agencies", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            return tuple(a.strip() for a in v.split(",") if a.strip())
        return v


class SimulationSettings(_Model):
    """Everything a run depends on. ``victims`` is the size of the hidden population."""

    seed: int = Field(42, ge=0)
    victims: int = Field(20_000, ge=100, le=50_000_000)
    year_start: int = Field(2015, ge=1960)
    year_end: int = Field(2024, ge=1960)
    agencies: tuple[str, ...] = DEFAULT_AGENCIES
    defect_rate: float = Field(
        0.02, ge=0, le=0.5, description="share of exported records given one defect"
    )
    defect_codes: tuple[str, ...] = DEFECT_CODES
    duplicate_intake_rate: float = Field(
        0.02,
        ge=0,
        le=0.5,
        description="share of captures recorded twice by the same agency under a new record id",
    )
    n_regions: int = Field(30, ge=20, le=40)
    country_code: str = Field(
        "XTL", pattern=r"^X[A-Z]{2}$", description="user-assigned ISO 3166-1 alpha-3 (X..)"
    )
    country_name: str = "Tiplandia"
    xlsx_max_rows: int = Field(
        100_000,
        ge=1,
        description="above this many rows the XLSX agency is written as CSV (same columns) instead",
    )
    name_frequencies: Literal["census", "short_lists"] = Field(
        "census",
        description="how common each name is: 'census' follows the US 1990 census's "
        "rank-frequency curves with generated rarer names; 'short_lists' draws every name "
        "from the short built-in lists (about 100x the census's shared surnames: a stress "
        "setting)",
    )
    noise: NoiseSettings = NoiseSettings()
    prevalence: PrevalenceModel = PrevalenceModel()
    capture: CaptureSettings = CaptureSettings()
    #: A measure that changes capture in some regions from some year; None = no measure (the
    #: default, so runs without one are byte-identical to earlier versions).
    measure: MeasureSettings | None = None
    #: Mean days from a victim's first registration to a duplicate intake.
    duplicate_lag_days: float = Field(120.0, gt=0)
    #: Paths of the real-data sources used for the default shares (relative to the working
    #: directory); missing files fall back to the built-in defaults derived from them.
    glotip_path: str | None = "../shared/data/unodc_glotip/data_glotip.csv"
    ctdc_missing_path: str | None = "../shared/data/ctdc/kanon_2021_aggregates/missing_summary.csv"

    @field_validator("agencies", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            return tuple(a.strip() for a in v.split(",") if a.strip())
        return v

    @model_validator(mode="after")
    def _check(self) -> SimulationSettings:
        if self.year_end < self.year_start:
            raise ValueError(
                f"years {self.year_start}-{self.year_end}: the end is before the start"
            )
        unknown = sorted(set(self.agencies) - set(DEFAULT_AGENCIES))
        if unknown:
            raise ValueError(
                f"unknown agencies {unknown}; choose from {', '.join(DEFAULT_AGENCIES)}"
            )
        if len(set(self.agencies)) != len(self.agencies) or not self.agencies:
            raise ValueError("agencies must be a non-empty list without repeats")
        bad = sorted(set(self.defect_codes) - set(DEFECT_CODES))
        if bad:
            raise ValueError(f"unknown defect codes {bad}; choose from {', '.join(DEFECT_CODES)}")
        if self.measure is not None:
            m = self.measure
            if not self.year_start < m.year <= self.year_end:
                raise ValueError(
                    f"measure.year {m.year} must lie after the first year {self.year_start} "
                    f"and no later than {self.year_end}, so there are years before and after"
                )
            bad_agencies = sorted(set(m.agencies) - set(self.agencies))
            if bad_agencies:
                raise ValueError(f"measure.agencies {bad_agencies} are not simulated agencies")
            cc = self.country_code[:2]
            codes = {f"{cc}-{i:02d}" for i in range(1, self.n_regions + 1)}
            bad_regions = sorted(set(m.regions) - codes)
            if bad_regions:
                raise ValueError(
                    f"measure.regions {bad_regions} are not regions of this country "
                    f"(codes {cc}-01 to {cc}-{self.n_regions:02d})"
                )
        return self

    def dump(self) -> dict[str, Any]:
        """JSON-ready settings; ``measure`` is left out when there is none."""
        return self.model_dump(mode="json", exclude={"measure"} if self.measure is None else None)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.year_start, self.year_end + 1))

    def check_against_today(self, today: dt.date) -> None:
        """Registration dates after today would be (rightly) rejected as future dates."""
        if self.year_end >= today.year:
            raise SimulationError(
                f"--years ends in {self.year_end}, but registration dates must lie before "
                f"today ({today.isoformat()}) or the importer rejects them as future dates; "
                f"end the span in {today.year - 1} or earlier"
            )

    def to_json(self) -> str:
        return self.model_dump_json(
            indent=2, exclude={"measure"} if self.measure is None else None
        )

    @classmethod
    def from_json(cls, text: str) -> SimulationSettings:
        return cls.model_validate_json(text)


def parse_years(text: str) -> tuple[int, int]:
    """``"2015-2024"`` -> (2015, 2024); a single year is a one-year span."""
    parts = text.replace("–", "-").split("-")
    try:
        if len(parts) == 1:
            y = int(parts[0])
            return y, y
        if len(parts) == 2:
            return int(parts[0]), int(parts[1])
    except ValueError:
        pass
    raise SimulationError(f"--years {text!r}: write a span such as 2015-2024")
