"""How each agency writes its export: file type, encoding, column names, codes, dates.

An :class:`ExportSpec` is data; the renderer (:mod:`tiplab.simulate.render`) turns the true
records into its columns and :mod:`tiplab.simulate.profilegen` turns the same spec into the
mapping profile that imports it, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Logical fields a column can render.
FIELDS = (
    "record_id",
    "registration_date",
    "given_name",
    "family_name",
    "full_name",
    "birth_date",
    "age",
    "majority_status",
    "sex",
    "citizenship",
    "origin_country",
    "transit_countries",
    "region",
    "exploitation_forms",
    "labour_sectors",
    "means_of_control",
    "means_of_control_flags",
    "recruiter_relation",
    "phone",
    "document_number",
    "extra",
)


@dataclass(frozen=True)
class Column:
    name: str
    field: str
    #: Field-specific option: country style (en|fr|de|alpha2|alpha3), region style
    #: (code|name), full-name order (given_first|family_comma), phone style
    #: (e164|intl00|spaced), extra-column kind.
    style: str = ""


@dataclass(frozen=True)
class ExportSpec:
    agency: str
    label: str
    file: str
    kind: str  # csv | xlsx | ndjson
    columns: tuple[Column, ...]
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | cp1252 | utf-16
    delimiter: str = ","
    date_format: str = "%Y-%m-%d"  # registration date
    birth_date_format: str = "%Y-%m-%d"
    record_id: str = "{seq:06d}"  # python format with year and seq
    sex: dict[str, str] = field(default_factory=dict)  # HTCDS code -> raw
    forms: dict[str, str] = field(default_factory=dict)  # HTCDS form -> raw
    means: dict[str, str] = field(default_factory=dict)  # HTCDS means -> raw (or column)
    recruiter: dict[str, str] = field(default_factory=dict)
    sectors: dict[str, str] = field(default_factory=dict)
    majority: dict[str, str] = field(default_factory=dict)  # Minor/Adult -> raw
    split: str = ";"
    #: Field completeness: share of records where the field is left empty.
    missing: dict[str, float] = field(default_factory=dict)
    #: Names in their original script are possible (a Unicode encoding).
    unicode_names: bool = True
    #: Flag columns are written as numbers (NDJSON) rather than text.
    numeric_flags: bool = False

    def column_for(self, fld: str) -> Column | None:
        return next((c for c in self.columns if c.field == fld), None)

    def has(self, fld: str) -> bool:
        return self.column_for(fld) is not None


_FORMS_EN = {
    "SexualExploitation": "Sexual exploitation",
    "ForcedLabour": "Labour exploitation",
    "ForcedCriminality": "Criminal exploitation",
    "ForcedBegging": "Forced begging",
    "Servitude": "Domestic servitude",
    "ForcedMarriage": "Forced marriage",
    "Other": "Other",
}
_RECRUITER_EN = {
    "IntimatePartner": "Partner",
    "Familial": "Family member",
    "Acquainted": "Friend/acquaintance",
    "Unacquainted": "Stranger/employer",
    "Unknown": "Not known",
}

#: CTDC K-anon flag columns (codebook v7) and the HTCDS code each stands for.
CTDC_MEANS_FLAGS = {
    "DebtBondage": "meansOfControlDebtBondage",
    "TakesEarnings": "meansOfControlTakesEarnings",
    "RestrictsFinancialAccess": "meansOfControlRestrictsFinancialAccess",
    "PhysicalThreats": "meansOfControlThreats",
    "PhysicalAbuse": "meansOfControlPhysicalAbuse",
    "SexualAbuse": "meansOfControlSexualAbuse",
    "FalsePromises": "meansOfControlFalsePromises",
    "PsychoactiveSubstance": "meansOfControlPsychoactiveSubstances",
    "RestrictsMovement": "meansOfControlRestrictsMovement",
    "RestrictsMedicalCare": "meansOfControlRestrictsMedicalCare",
    "ExcessiveWorkingHours": "meansOfControlExcessiveWorkingHours",
    "ThreatensChildrenFamily": "meansOfControlUsesChildren",
    "ThreatsLawEnforcement": "meansOfControlThreatOfLawEnforcement",
    "WithholdsNecessities": "meansOfControlWithholdsNecessities",
    "WithholdsDocuments": "meansOfControlWithholdsDocuments",
    "PsychologicalAbuse": "meansOfControlPsychologicalAbuse",
}


def specs(missing_ctdc: dict[str, float], birth_missing: float) -> dict[str, ExportSpec]:
    """The six agencies' formats. ``missing_ctdc`` are CTDC's missing shares by variable."""
    hotline_missing = {
        "sex": missing_ctdc["gender"],
        "age": missing_ctdc["ageBroad"],
        "citizenship": missing_ctdc["citizenship"],
        "exploitation_forms": missing_ctdc["typeOfExploitConcatenated"],
        "means_of_control": missing_ctdc["meansOfControlConcatenated"],
        "recruiter_relation": missing_ctdc["RecruiterRelationship"],
    }
    casework = {k: v / 2 for k, v in hotline_missing.items()}
    casework["birth_date"] = birth_missing
    casework.pop("age")
    return {
        "police": ExportSpec(
            agency="police",
            label="National Police, anti-trafficking unit",
            file="police.csv",
            kind="csv",
            encoding="utf-8",
            delimiter=",",
            date_format="%d.%m.%Y",
            birth_date_format="%d.%m.%Y",
            record_id="P-{year}-{seq:06d}",
            columns=(
                Column("Case No", "record_id"),
                Column("Registered", "registration_date"),
                Column("First Name", "given_name"),
                Column("Last Name", "family_name"),
                Column("DOB", "birth_date"),
                Column("Age", "age"),
                Column("Sex", "sex"),
                Column("Nationality", "citizenship", "en"),
                Column("Region", "region", "code"),
                Column("Offence Type", "exploitation_forms"),
                Column("Recruiter", "recruiter_relation"),
                Column("Phone", "phone", "spaced"),
                Column("Passport/ID No", "document_number"),
                Column("Officer", "extra", "officer"),
            ),
            sex={"Feminine": "F", "Masculine": "M", "NonConforming": "X"},
            forms=_FORMS_EN,
            recruiter=_RECRUITER_EN,
            missing=casework,
        ),
        "labour_inspectorate": ExportSpec(
            agency="labour_inspectorate",
            label="Labour Inspectorate",
            file="labour_inspectorate.xlsx",
            kind="xlsx",
            date_format="%Y-%m-%d",
            birth_date_format="%d/%m/%Y",
            record_id="LI/{year}/{seq:05d}",
            columns=(
                Column("Inspection ID", "record_id"),
                Column("Date of inspection", "registration_date"),
                Column("Worker name", "full_name", "given_first"),
                Column("Date of birth", "birth_date"),
                Column("Gender", "sex"),
                Column("Citizenship", "citizenship", "alpha2"),
                Column("Region", "region", "name"),
                Column("Case type", "exploitation_forms"),
                Column("Sector (ISIC)", "labour_sectors"),
                Column("Indicators", "means_of_control"),
                Column("Workplace", "extra", "workplace"),
            ),
            sex={"Feminine": "female", "Masculine": "male", "NonConforming": "other"},
            forms={
                "SexualExploitation": "Sexual exploitation",
                "ForcedLabour": "Forced labour",
                "ForcedCriminality": "Other",
                "ForcedBegging": "Other",
                "Servitude": "Domestic servitude",
                "ForcedMarriage": "Other",
                "Other": "Other",
            },
            sectors={
                c: c[0]
                for c in (
                    "A_AgricultureForestryAndFishing",
                    "C_Manufacturing",
                    "F_Construction",
                    "G_WholesaleAndRetailTradeRepairOfMotorVehicles",
                    "H_TransportationAndStorage",
                    "I_AccommodationAndFoodServiceActivities",
                    "S_OtherServiceActivities",
                    "T_ActivitiesOfHouseholdsAsEmployers",
                )
            },
            means={
                "DebtBondage": "Debt bondage",
                "TakesEarnings": "Withheld wages",
                "WithholdsDocuments": "Retention of identity documents",
                "ExcessiveWorkingHours": "Excessive overtime",
                "FalsePromises": "Deception",
                "RestrictsMovement": "Restriction of movement",
                "PhysicalThreats": "Intimidation and threats",
                "PhysicalAbuse": "Physical violence",
                "SexualAbuse": "Sexual violence",
                "WithholdsNecessities": "Abusive living conditions",
                "ThreatsLawEnforcement": "Threat of denunciation",
                "PsychologicalAbuse": "Psychological abuse",
                "ThreatensChildrenFamily": "Threats against family",
                "PsychoactiveSubstance": "Drugs or alcohol",
                "RestrictsFinancialAccess": "No access to bank account",
                "RestrictsMedicalCare": "Denied medical care",
            },
            split=",",
            missing=casework,
        ),
        "ngo_shelters": ExportSpec(
            agency="ngo_shelters",
            label="Réseau des foyers (NGO shelters)",
            file="ngo_shelters.csv",
            kind="csv",
            encoding="utf-8-sig",
            delimiter=";",
            date_format="%d/%m/%Y",
            birth_date_format="%d/%m/%Y",
            record_id="ND-{seq:06d}",
            columns=(
                Column("N° dossier", "record_id"),
                Column("Date d'accueil", "registration_date"),
                Column("Nom", "family_name"),
                Column("Prénom", "given_name"),
                Column("Date de naissance", "birth_date"),
                Column("Âge", "age"),
                Column("Mineur·e", "majority_status"),
                Column("Sexe", "sex"),
                Column("Nationalité", "citizenship", "fr"),
                Column("Région", "region", "name"),
                Column("Forme d'exploitation", "exploitation_forms"),
                Column("Moyens de contrôle", "means_of_control"),
                Column("Relation avec le recruteur", "recruiter_relation"),
                Column("Téléphone", "phone", "intl00"),
                Column("Foyer", "extra", "shelter"),
            ),
            sex={"Feminine": "Femme", "Masculine": "Homme", "NonConforming": "Autre"},
            majority={"Minor": "Oui", "Adult": "Non"},
            forms={
                "SexualExploitation": "Exploitation sexuelle",
                "ForcedLabour": "Travail forcé",
                "ForcedCriminality": "Contrainte à commettre des délits",
                "ForcedBegging": "Mendicité forcée",
                "Servitude": "Servitude domestique",
                "ForcedMarriage": "Mariage forcé",
                "Other": "Autre",
            },
            means={
                "FalsePromises": "Fausses promesses",
                "PsychologicalAbuse": "Violence psychologique",
                "PhysicalThreats": "Menaces",
                "PhysicalAbuse": "Violence physique",
                "SexualAbuse": "Violence sexuelle",
                "TakesEarnings": "Confiscation des gains",
                "RestrictsMovement": "Restriction de mouvement",
                "DebtBondage": "Servitude pour dettes",
                "PsychoactiveSubstance": "Substances psychoactives",
                "WithholdsDocuments": "Confiscation des papiers",
                "ThreatensChildrenFamily": "Menaces envers la famille",
                "ExcessiveWorkingHours": "Heures de travail excessives",
                "ThreatsLawEnforcement": "Menace de dénonciation",
                "WithholdsNecessities": "Privation de nourriture ou de soins de base",
                "RestrictsFinancialAccess": "Accès à l'argent restreint",
                "RestrictsMedicalCare": "Soins médicaux refusés",
            },
            recruiter={
                "IntimatePartner": "Partenaire intime",
                "Familial": "Famille",
                "Acquainted": "Connaissance",
                "Unacquainted": "Inconnu / employeur",
                "Unknown": "Non précisé",
            },
            split="|",
            missing=casework,
        ),
        "hotline": ExportSpec(
            agency="hotline",
            label="National trafficking hotline",
            file="hotline.ndjson",
            kind="ndjson",
            date_format="%m/%d/%Y",
            record_id="HL{seq:08d}",
            columns=(
                Column("call_id", "record_id"),
                Column("call_date", "registration_date"),
                Column("caller_reported_name", "full_name", "given_first"),
                Column("age_reported", "age"),
                Column("sex", "sex"),
                Column("nationality", "citizenship", "en"),
                Column("location", "region", "name"),
                Column("exploitation", "exploitation_forms"),
                Column("recruiter_relationship", "recruiter_relation"),
                Column("callback_number", "phone", "e164"),
                Column("means", "means_of_control_flags"),
                Column("call_handler", "extra", "handler"),
            ),
            sex={"Feminine": "female", "Masculine": "male", "NonConforming": "nonbinary"},
            forms={
                "SexualExploitation": "Sex trafficking",
                "ForcedLabour": "Labor trafficking",
                "ForcedCriminality": "Forced criminal activity",
                "ForcedBegging": "Forced begging",
                "Servitude": "Domestic servitude",
                "ForcedMarriage": "Forced marriage",
                "Other": "Other",
            },
            means=dict(CTDC_MEANS_FLAGS),
            recruiter={
                "IntimatePartner": "Intimate Partner",
                "Familial": "Family",
                "Acquainted": "Friend / Acquaintance",
                "Unacquainted": "Other",
                "Unknown": "Unknown",
            },
            missing=hotline_missing,
            numeric_flags=True,
        ),
        "immigration": ExportSpec(
            agency="immigration",
            label="Ausländerbehörde (immigration service)",
            file="immigration.csv",
            kind="csv",
            encoding="cp1252",
            delimiter=";",
            date_format="%d.%m.%Y",
            birth_date_format="%d.%m.%Y",
            record_id="IMM-{year}-{seq:05d}",
            columns=(
                Column("Aktenzeichen", "record_id"),
                Column("Erfasst am", "registration_date"),
                Column("Familienname", "family_name"),
                Column("Vorname", "given_name"),
                Column("Geburtsdatum", "birth_date"),
                Column("Geschlecht", "sex"),
                Column("Staatsangehörigkeit", "citizenship", "de"),
                Column("Herkunftsland", "origin_country", "de"),
                Column("Transitländer", "transit_countries", "alpha2"),
                Column("Reisepass-Nr.", "document_number"),
                Column("Region", "region", "code"),
                Column("Ausbeutungsform", "exploitation_forms"),
                Column("Sachbearbeiter", "extra", "clerk"),
            ),
            sex={"Feminine": "W", "Masculine": "M", "NonConforming": "D"},
            forms={
                "SexualExploitation": "Sexuelle Ausbeutung",
                "ForcedLabour": "Ausbeutung der Arbeitskraft",
                "ForcedCriminality": "Ausnutzung strafbarer Handlungen",
                "ForcedBegging": "Ausnutzung der Bettelei",
                "Servitude": "Häusliche Dienstbarkeit",
                "ForcedMarriage": "Zwangsheirat",
                "Other": "Sonstige",
            },
            split=",",
            missing=casework,
            unicode_names=False,
        ),
        "health": ExportSpec(
            agency="health",
            label="Public health service (hospital referrals)",
            file="health.csv",
            kind="csv",
            encoding="utf-16",
            delimiter="\t",
            date_format="%m/%d/%Y",
            birth_date_format="%m/%d/%Y",
            record_id="PAT{seq:07d}",
            columns=(
                Column("Patient ID", "record_id"),
                Column("Admission date", "registration_date"),
                Column("Patient name", "full_name", "family_comma"),
                Column("Date of birth", "birth_date"),
                Column("Sex", "sex"),
                Column("Age (years)", "age"),
                Column("Nationality", "citizenship", "alpha3"),
                Column("District", "region", "code"),
                Column("Suspected exploitation", "exploitation_forms"),
                Column("Contact phone", "phone", "e164"),
                Column("Ward", "extra", "ward"),
            ),
            # ISO/IEC 5218: 1 male, 2 female; 3 is this service's local code for "other".
            sex={"Masculine": "1", "Feminine": "2", "NonConforming": "3"},
            forms={
                "SexualExploitation": "sexual",
                "ForcedLabour": "labour",
                "ForcedCriminality": "other",
                "ForcedBegging": "other",
                "Servitude": "other",
                "ForcedMarriage": "other",
                "Other": "other",
            },
            missing=casework,
        ),
    }


def canonical_form(spec: ExportSpec, form: str) -> str:
    """The HTCDS form the agency's label for ``form`` imports as (coarse labels merge)."""
    firsts: dict[str, str] = {}
    for code, label in spec.forms.items():
        firsts.setdefault(label, code if label != spec.forms.get("Other") else "Other")
    return firsts[spec.forms[form]]
