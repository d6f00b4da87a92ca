"""Parameters of the capture (detection) model: who each agency finds, and referrals.

For victim *i* and agency *a* the primary capture probability is

    logit p_ia = base_a + form_a[form_i] + sex_a[sex_i] + minor_a * minor_i
                 + foreign_a * foreign_i + log(enforcement_{family_a}[region_i])
                 + visibility_a * theta_i

with theta_i ~ N(0, 1) a latent visibility shared by all agencies (heterogeneity that no
listed covariate explains). Referrals then add captures: a victim captured by ``source``
is also captured by ``target`` with probability ``p`` (in list order, one pass, so
hotline -> police -> NGO chains happen). Pairs in ``never_overlap`` cannot share a victim:
the second agency's capture is removed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

FORM_GROUPS: tuple[str, ...] = ("SexualExploitation", "ForcedLabour", "Other")
ENFORCEMENT_FAMILIES: tuple[str, ...] = ("police", "labour", "ngo", "flat")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgencyModel(_Model):
    base: float
    form: dict[str, float] = Field(
        default_factory=dict, description="effect per form group (log-odds)"
    )
    sex: dict[str, float] = Field(
        default_factory=dict, description="effect per HTCDS gender code (log-odds)"
    )
    minor: float = 0.0
    foreign: float = 0.0
    domestic_excluded: bool = Field(False, description="never captures nationals")
    enforcement: str = Field("flat", pattern="^(police|labour|ngo|flat)$")
    visibility: float = 0.6
    lag_days: float = Field(10.0, gt=0, description="mean days from identification to registration")


class Referral(_Model):
    source: str
    target: str
    p: float = Field(ge=0, le=1)


def _default_agencies() -> dict[str, AgencyModel]:
    return {
        "police": AgencyModel(
            base=-2.9,
            form={"SexualExploitation": 0.7, "ForcedLabour": -0.4, "Other": 0.4},
            minor=0.2,
            enforcement="police",
            lag_days=5,
        ),
        "labour_inspectorate": AgencyModel(
            base=-3.6,
            form={"SexualExploitation": -2.5, "ForcedLabour": 1.6, "Other": -0.6},
            sex={"Masculine": 0.3},
            minor=-0.5,
            enforcement="labour",
            lag_days=3,
        ),
        "ngo_shelters": AgencyModel(
            base=-3.2,
            form={"SexualExploitation": 0.5},
            sex={"Feminine": 0.4},
            minor=0.3,
            enforcement="ngo",
            lag_days=12,
        ),
        "hotline": AgencyModel(
            base=-3.1,
            form={"SexualExploitation": 0.2, "ForcedLabour": 0.3},
            enforcement="flat",
            lag_days=2,
        ),
        "immigration": AgencyModel(
            base=-3.0,
            form={"ForcedLabour": 0.3},
            foreign=0.4,
            domestic_excluded=True,
            enforcement="police",
            lag_days=8,
        ),
        "health": AgencyModel(
            base=-4.0,
            form={"SexualExploitation": 0.5},
            minor=0.4,
            enforcement="flat",
            visibility=0.3,
            lag_days=15,
        ),
    }


def _default_referrals() -> tuple[Referral, ...]:
    return (
        Referral(source="hotline", target="police", p=0.30),
        Referral(source="labour_inspectorate", target="police", p=0.25),
        Referral(source="police", target="ngo_shelters", p=0.35),
        Referral(source="immigration", target="ngo_shelters", p=0.20),
        Referral(source="health", target="ngo_shelters", p=0.15),
    )


class CaptureSettings(_Model):
    agencies: dict[str, AgencyModel] = Field(default_factory=_default_agencies)
    referrals: tuple[Referral, ...] = Field(default_factory=_default_referrals)
    never_overlap: tuple[tuple[str, str], ...] = (("health", "immigration"),)
    referral_lag_days: float = Field(7.0, gt=0)
