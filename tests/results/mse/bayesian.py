"""Published reference figures for the Bayesian MSE methods, each with its source.

Tables are in ``../shared/data/mse`` (see its README for their provenance). Sources:

* DGA-TEST = the R package dga (cran/dga), tests/testthat/test-BMAfunctions.R, "3 lists
  example against Madigan and York": Madigan & York (1997), Biometrika 84(1):19-31, the
  3-list table below, delta = 1, grid 1..300 missing, their negative-binomial prior
  (a = 13.14, b = 55.17).
* MSETOOLS = OlivierBinette/MSETools README.md at commit 0af58a1 (Binette & Steorts 2022,
  JRSS A, arXiv:2112.01594), printed output of ``dga(UK)`` and ``lcmcr(UK)`` on the 5-list
  UK table.
* MSE-BT = MultipleSystemsEstimation 1.2.0 vignette "bayesian-threshold"
  (bernardsilverman/MultipleSystemsEstimation, docs/articles/bayesian-threshold.md): printed
  output of ``estimate_population_bayesthresh`` (MCMCpack, its default seed) on Kosovo.

No public source with the figures of Binette & Steorts' Netherlands, New Orleans and
Western US comparisons was found: MSETools keeps them only as binary RData caches, and the
paper's tables were not available offline (see docs/estimation.md, "Published figures").
"""

# Madigan & York's 3-list table, cells in pattern order 000, 100, 010, 110, 001, ... (DGA-TEST)
MY_3 = [0, 60, 49, 4, 247, 112, 142, 12]
MY_PRIOR_NEGBIN = (13.14, 55.17)
# top model: posterior probability, Bayes estimate E[1/N]/E[1/N^2], mode; averaged: estimate, mode
MY_TOP_MODEL = {"probability": 0.37, "bayes": 731, "mode": 729}
MY_AVERAGED = {"bayes": 731, "mode": 728}

# MSETOOLS, UK 5 lists. dga: grid of 1,000 points from 1 to 30 n, prior 1/N, delta 2^-5.
UK5_DGA = {"median": 23016, "interval": (10408, 33481)}
# lcmcr: K = 10, 200 chains of 100,000 sweeps thinned to 100 draws each
UK5_LCMCR = {"median": 20232, "interval": (10935, 32842)}

# MSE-BT, Kosovo (kosovo_1999_4lists.csv), proper N(0, 1) interaction prior.
# (settings, median, 95% interval, interactions kept, threshold statistics |mean| / sd)
KOSOVO_BAYES_THRESHOLD = [
    ({"threshold": 2.0}, 13971.48, (12236.22, 16389.40),
     {"EXH:ABA", "EXH:OSCE", "ABA:OSCE", "EXH:HRW", "OSCE:HRW"},
     {"EXH:ABA": 8.464526, "EXH:OSCE": 9.162971, "ABA:OSCE": 12.540216,
      "EXH:HRW": 6.929278, "ABA:HRW": 0.196996, "OSCE:HRW": 10.605549}),
    ({"threshold": 2.5, "order3": True}, 10313.86, (9031.819, 12094.699),
     {"EXH:ABA", "EXH:OSCE", "ABA:OSCE", "EXH:HRW", "OSCE:HRW", "EXH:ABA:OSCE"},
     {"EXH:ABA:OSCE": 4.263698, "EXH:OSCE:HRW": 2.451189}),
    # given in the vignette's text, rounded: "an estimate of 11,800; the 2.5% and 97.5%
    # posterior quantiles are about 10,000 and 14,600"
    ({"threshold": 2.0, "order3": True}, 11800, (10000, 14600),
     {"EXH:ABA", "EXH:OSCE", "ABA:OSCE", "EXH:HRW", "OSCE:HRW", "EXH:ABA:OSCE",
      "EXH:OSCE:HRW"}, {}),
]
