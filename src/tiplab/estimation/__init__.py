"""Multiple systems estimation (MSE): how many victims do the lists not see?

Log-linear capture-recapture over several agencies' overlapping lists, faithful to the
reference R packages (SparseMSE, MultipleSystemsEstimation, modslavmse, Rcapture):

>>> from tiplab.estimation import CaptureTable, estimate
>>> table = CaptureTable.from_csv("uk2013_5lists.csv")          # doctest: +SKIP
>>> result = estimate(table, method="stepwise", nboot=1000, seed=1234)  # doctest: +SKIP
>>> result.estimate, result.conf_int()                           # doctest: +SKIP
"""

from tiplab.estimation.api import (
    METHODS,
    estimate,
    estimate_strata,
    sensitivity_table,
    sparse_warnings,
)
from tiplab.estimation.bic import bic_select, downhill
from tiplab.estimation.bootstrap import BootstrapResult, bootstrap
from tiplab.estimation.checks import ModelChecker, check_all_models, check_model, count_triples
from tiplab.estimation.errors import EstimationError
from tiplab.estimation.glm import fit_poisson
from tiplab.estimation.loglinear import ModelFit, fit_model
from tiplab.estimation.person import StratifiedTables, capture_tables_from_persons
from tiplab.estimation.rcapture import aic_stepwise, closed_model, profile_interval
from tiplab.estimation.results import MSEResult, SensitivityTable, StratifiedResult
from tiplab.estimation.stepwise import stepwise_fit
from tiplab.estimation.table import CaptureTable
from tiplab.estimation.terms import parse_model

__all__ = [
    "METHODS",
    "BootstrapResult",
    "CaptureTable",
    "EstimationError",
    "MSEResult",
    "ModelChecker",
    "ModelFit",
    "SensitivityTable",
    "StratifiedResult",
    "StratifiedTables",
    "aic_stepwise",
    "bic_select",
    "bootstrap",
    "capture_tables_from_persons",
    "check_all_models",
    "check_model",
    "closed_model",
    "count_triples",
    "downhill",
    "estimate",
    "estimate_strata",
    "fit_model",
    "fit_poisson",
    "parse_model",
    "profile_interval",
    "sensitivity_table",
    "sparse_warnings",
    "stepwise_fit",
]
