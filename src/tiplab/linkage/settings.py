"""Typed settings of a linkage run; they round-trip through JSON so a run can be repeated."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EncodingSettings(BaseModel):
    """Parameters of the Bloom-filter encodings (must be equal at every agency of a round)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bits: int = Field(1024, description="Bloom filter length in bits (multiple of 64).")
    hashes: int = Field(20, ge=1, le=100, description="k hash functions per q-gram.")
    q: int = Field(2, ge=1, le=4, description="q-gram length (2 = bigrams).")
    flip_probability: float = Field(
        0.0,
        ge=0.0,
        lt=0.5,
        description="BLIP: each bit is flipped with this probability (0 = off).",
    )
    fold: bool = Field(False, description="XOR-fold the filter to half its length.")

    @model_validator(mode="after")
    def _check_bits(self) -> EncodingSettings:
        if self.bits % 128 != 0 or self.bits < 128:
            raise ValueError(f"bits must be a positive multiple of 128, got {self.bits}")
        return self


class LinkSettings(BaseModel):
    """Settings of :func:`tiplab.linkage.link`.

    ``threshold`` is the match probability at which pairs join a cluster; ``None`` picks
    the threshold that maximises the estimated pairwise F1 (see :mod:`.threshold`).
    """

    model_config = ConfigDict(extra="forbid")

    engine: Literal["duckdb", "spark"] = "duckdb"
    threshold: float | None = Field(None, gt=0.0, lt=1.0)
    min_pair_probability: float = Field(
        0.01, ge=0.0, lt=1.0, description="Scored pairs below this are not kept."
    )
    review_low: float = Field(0.5, ge=0.0, le=1.0)
    review_high: float = Field(0.95, ge=0.0, le=1.0)
    recall_of_deterministic_rules: float = Field(
        0.7,
        gt=0.0,
        le=1.0,
        description="Assumed recall of the exact rules used to estimate the prior.",
    )
    # u from 1 million random pairs (Splink's default): 2 million cost 0.9 s more training at
    # 200k victims for the same F1 to three digits (seed 79242: 0.9679 vs 0.9680; 1M seed
    # 30737: 0.9482 vs 0.9481), measured when the case characteristics were added.
    u_max_pairs: float = Field(1e6, gt=0)
    # 2 million training pairs per EM session: with EM on agreement-pattern counts, building
    # the sample's comparison vectors is the session's cost; 5 million gave the same F1,
    # B-cubed and estimated precision to four digits (seeds 60192, 34192 at 200k victims).
    em_max_pairs: float = Field(
        2e6, gt=0, description="Cap on EM training pairs per rule (used above 100k records)."
    )
    seed: int = 42
    threshold_grid: list[float] = Field(
        default_factory=lambda: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
    )
    clustering: Literal["average", "components"] = Field(
        "average",
        description="average: average linkage inside completed components (weak bridges are "
        "cut); components: connected components of the pairs above the threshold (the "
        "method before average linkage, kept for comparison).",
    )
    constraints: bool = Field(
        True,
        description="Two records of one agency with different document numbers or "
        "incompatible birth dates are never one person (unless their own probability "
        "reaches 0.99 or a reviewer says match).",
    )
    agency_comparison: bool = Field(
        True, description="Compare whether two records come from the same agency."
    )
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 8

    @model_validator(mode="after")
    def _check_band(self) -> LinkSettings:
        if self.review_low > self.review_high:
            raise ValueError("review_low must not exceed review_high")
        return self
