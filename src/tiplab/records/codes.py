"""Code lists of the case-record schema, taken from IOM's HTCDS 2.0 and CTDC.

Each code list maps a canonical code to an English label. Codes are the HTCDS picklist
values (PascalCase) so that records export to HTCDS unchanged; the CTDC crosswalk lives in
:mod:`tiplab.records.ctdc`. Sources: ``shared/reference/case_data_standards.md`` sections 1-3
(HTCDS Field Standards 2.0, 24 Dec 2021; CTDC K-anon codebook v7, Sept 2021).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: prs_Gender (HTCDS 2.0).
GENDER: Mapping[str, str] = MappingProxyType({
    "Feminine": "Female / woman",
    "Masculine": "Male / man",
    "TransgenderFeminine": "Transgender (feminine)",
    "TransgenderMasculine": "Transgender (masculine)",
    "NonConforming": "Gender non-conforming",
    "NonSpecifiedUnknown": "Not specified / unknown",
})

#: CTDC ageBroad bands (K-anon codebook v7): label -> (lowest age, highest age).
AGE_BANDS: Mapping[str, tuple[int, int]] = MappingProxyType({
    "0-8": (0, 8),
    "9-17": (9, 17),
    "18-20": (18, 20),
    "21-23": (21, 23),
    "24-26": (24, 26),
    "27-29": (27, 29),
    "30-38": (30, 38),
    "39-47": (39, 47),
    "48+": (48, 130),
})

#: CTDC majorityStatus.
MAJORITY_STATUS: Mapping[str, str] = MappingProxyType({
    "Minor": "Minor (under 18)",
    "Adult": "Adult (18 or over)",
    "Unknown": "Unknown",
})

#: vic_TypeOfExploitation (HTCDS 2.0).
EXPLOITATION_FORMS: Mapping[str, str] = MappingProxyType({
    "SexualExploitation": "Sexual exploitation",
    "ForcedLabour": "Forced labour",
    "ChildLabour": "Child labour",
    "ForcedMarriage": "Forced marriage",
    "Servitude": "Servitude",
    "ForcedMilitaryByNonStateActors": "Forced military service by non-state actors",
    "OrganRemoval": "Organ removal",
    "ForcedBegging": "Forced begging",
    "ForcedCriminality": "Forced criminality",
    "ForcedAdoption": "Forced adoption",
    "Surrogacy": "Surrogacy",
    "Other": "Other",
})

#: vic_ForcedLabourIndustry: ISIC Rev.4 sections, as HTCDS 2.0 codes them.
LABOUR_SECTORS: Mapping[str, str] = MappingProxyType({
    "A_AgricultureForestryAndFishing": "Agriculture, forestry and fishing",
    "B_MiningAndQuarrying": "Mining and quarrying",
    "C_Manufacturing": "Manufacturing",
    "D_ElectricityGasSteamAndAirConditioningSupply": "Electricity, gas, steam",
    "E_WaterSupplySewerageWasteManagement": "Water supply, sewerage, waste",
    "F_Construction": "Construction",
    "G_WholesaleAndRetailTradeRepairOfMotorVehicles": "Wholesale and retail trade",
    "H_TransportationAndStorage": "Transportation and storage",
    "I_AccommodationAndFoodServiceActivities": "Accommodation and food services",
    "J_InformationAndCommunication": "Information and communication",
    "K_FinancialAndInsuranceActivities": "Financial and insurance activities",
    "L_RealEstateActivities": "Real estate",
    "M_ProfessionalScientificAndTechnicalActivities": "Professional, scientific, technical",
    "N_AdministrativeAndSupportServiceActivities": "Administrative and support services",
    "O_PublicAdministrationAndDefence": "Public administration and defence",
    "P_Education": "Education",
    "Q_HumanHealthAndSocialWorkActivities": "Human health and social work",
    "R_ArtsEntertainmentAndRecreation": "Arts, entertainment and recreation",
    "S_OtherServiceActivities": "Other service activities",
    "T_ActivitiesOfHouseholdsAsEmployers": "Households as employers (domestic work)",
    "U_ActivitiesOfExtraterritorialOrganizations": "Extraterritorial organisations",
})

#: vic_TypeOfSexExploitation (HTCDS 2.0).
SEXUAL_EXPLOITATION_TYPES: Mapping[str, str] = MappingProxyType({
    "Prostitution": "Prostitution",
    "Pornography": "Pornography",
    "RemoteInteractiveServices": "Remote interactive services",
    "PrivateSexualServices": "Private sexual services",
})

#: vic_MethodsOfControl (HTCDS 2.0).
MEANS_OF_CONTROL: Mapping[str, str] = MappingProxyType({
    "PhysicalThreats": "Threats of harm",
    "ThreatsLawEnforcement": "Threat of law enforcement",
    "ThreatensChildrenFamily": "Threatens children or family",
    "DebtBondage": "Debt bondage",
    "FalsePromises": "False promises / deception",
    "PhysicalAbuse": "Physical abuse",
    "SexualAbuse": "Sexual abuse",
    "TakesEarnings": "Takes earnings",
    "RestrictsFinancialAccess": "Restricts access to finances",
    "RestrictsMedicalCare": "Restricts medical care",
    "WithholdsNecessities": "Withholds necessities",
    "PsychologicalAbuse": "Psychological abuse",
    "PsychoactiveSubstance": "Psychoactive substances",
    "ExcessiveWorkingHours": "Excessive working hours",
    "WithholdsDocuments": "Withholds documents",
    "RestrictsMovement": "Restricts movement / isolation",
    "Other": "Other",
})

#: Recruiter relation. HTCDS has Familial/Acquainted/Unaquainted; CTDC separates intimate
#: partners from other acquaintances, so we keep CTDC's finer split and map HTCDS onto it.
RECRUITER_RELATION: Mapping[str, str] = MappingProxyType({
    "IntimatePartner": "Intimate partner",
    "Familial": "Family member or relative",
    "Acquainted": "Friend or acquaintance",
    "Unacquainted": "Other (stranger, broker, employer)",
    "Unknown": "Unknown / not specified",
})

#: vic_TraffickingStatus (HTCDS 2.0), shortened.
TRAFFICKING_STATUS: Mapping[str, str] = MappingProxyType({
    "Actual": "Confirmed victim (formally identified)",
    "Possible": "Presumed victim (indicators, not yet determined)",
    "NotAVictim": "Determined not to be a victim",
})

#: cas_Status (HTCDS 2.0).
CASE_STATUS: Mapping[str, str] = MappingProxyType({
    "Active": "Active",
    "FollowUp": "Follow-up",
    "Closed": "Closed",
    "ClosedReferred": "Closed and referred",
})

#: Sex categories of aggregate statistics (UNODC GLOTIP).
AGGREGATE_SEX: Mapping[str, str] = MappingProxyType({
    "Total": "Total", "Female": "Female", "Male": "Male", "Other": "Other", "Unknown": "Unknown",
})

#: Age groups of aggregate statistics (UNODC GLOTIP).
AGGREGATE_AGE: Mapping[str, str] = MappingProxyType({
    "Total": "Total", "0 to 17 years": "Children (0-17)", "18 years or over": "Adults (18+)",
    "Unknown": "Unknown",
})

CODE_LISTS: Mapping[str, Mapping[str, object]] = MappingProxyType({
    "gender": GENDER,
    "age_band": AGE_BANDS,
    "majority_status": MAJORITY_STATUS,
    "exploitation_form": EXPLOITATION_FORMS,
    "labour_sector": LABOUR_SECTORS,
    "sexual_exploitation_type": SEXUAL_EXPLOITATION_TYPES,
    "means_of_control": MEANS_OF_CONTROL,
    "recruiter_relation": RECRUITER_RELATION,
    "trafficking_status": TRAFFICKING_STATUS,
    "case_status": CASE_STATUS,
    "aggregate_sex": AGGREGATE_SEX,
    "aggregate_age": AGGREGATE_AGE,
})


def age_band(age: int) -> str:
    """Return the CTDC ``ageBroad`` band of an age in whole years."""
    for label, (low, high) in AGE_BANDS.items():
        if low <= age <= high:
            return label
    raise ValueError(f"age {age} is outside every band")
