"""Published reference numbers for multiple systems estimation, each with its source.

Tables are in ``../shared/data/mse`` (see its README for provenance of the tables).
Sources:

* CSV2021 = Chan, Silverman & Vincent (2021), JASA 116(535):1297-1306, as reproduced by the
  MultipleSystemsEstimation 1.2.0 vignette "reproduce-2021" (bernardsilverman/
  MultipleSystemsEstimation, docs/articles/reproduce-2021.md; values printed by the package).
* SCV2024 = Silverman, Chan & Vincent (2024), Statistics and Computing 34:44, Table 6 and text,
  as reproduced in the vignette "reproduce-2024" (docs/articles/reproduce-2024.md).
* MSE-guide = MultipleSystemsEstimation 1.2.0 user guide (docs/articles/user-guide.md) and
  reference page of estimate_population_bic (printed output).
* S2014 = Silverman (2014), Modern Slavery: an application of Multiple Systems Estimation,
  Home Office: 11,313 for the 5-list UK model; the Rcapture profile "abundance" 11,304
  beside it (shared/data/mse/README.md and shared/reference/mse_methods.md §7.2).
"""

# (file, method, options, published point estimate, decimals it was published to, source)
POINT_ESTIMATES = [
    ("korea_palembang_3lists.csv", "stepwise", {}, 268.7778, 4, "MSE-guide / CSV2021 vignette"),
    ("korea_palembang_3lists.csv", "bic", {"maxorder": 2}, 157.1667, 4, "MSE-guide, BIC"),
    ("korea_palembang_3lists.csv", "fixed", {"model": "[12,23]"}, 157.1667, 4, "MSE-guide"),
    ("new_orleans_8lists_v2.csv", "stepwise", {}, 1110.488, 3, "CSV2021 vignette (186 cases)"),
    ("new_orleans_5lists_v2.csv", "stepwise", {}, 981.4314, 4, "CSV2021 vignette (186 cases)"),
    ("western_us_5lists.csv", "stepwise", {}, 2483.384, 3, "CSV2021 vignette; paper 2483"),
    ("new_orleans_8lists.csv", "stepwise", {}, 1184, 0, "CSV2021 paper §4.1 (185 cases)"),
    ("new_orleans_8lists.csv", "main", {}, 997, 0, "CSV2021 paper §4.1 main effects"),
    ("new_orleans_5lists.csv", "stepwise", {}, 1034, 0, "CSV2021 paper §4.1 five lists"),
    ("kosovo_1999_4lists.csv", "stepwise", {}, 14341.66, 2, "MSE-guide (pairwise stepwise)"),
    ("kosovo_1999_4lists.csv", "bic", {"maxorder": 3}, 10357, 0, "SCV2024 Table 6"),
    ("kosovo_1999_4lists.csv", "bic", {"maxorder": 2}, 14342, 0, "SCV2024 Table 6"),
    ("kosovo_1999_4lists.csv", "downhill", {"maxorder": 3}, 10357, 0, "SCV2024 Table 6"),
    ("new_orleans_5lists_v2.csv", "bic", {"maxorder": 2}, 981, 0, "SCV2024 Table 6"),
    ("uk2013_5lists.csv", "bic", {"maxorder": 2}, 22991, 0, "SCV2024 Table 6"),
    ("uk2013_5lists.csv", "downhill", {"maxorder": 2}, 12262, 0, "SCV2024 Table 6"),
    ("uk2013_5lists.csv", "stepwise", {}, 11313, 0, "S2014 (5-list model)"),
    ("uk2013_5lists.csv", "aic-stepwise", {}, 11313, 0, "S2014; Bales-Hesketh-Silverman 2015"),
]

# slow (6,893 models): UK 5 lists, all models up to order 4 -> 25,311 (SCV2024 Table 6)
UK5_BIC_ORDER4 = 25311
# Rcapture multinomial profile abundance for the UK 5-list AIC model (S2014 / README)
UK5_PROFILE_ABUNDANCE = 11304

# Korea BIC table (MSE-guide, estimate_population_bic example): model -> (abundance, BIC)
KOREA_BIC = {
    "[12,23]": (157.1667, 57.14081),
    "[12,3]": (268.7778, 58.96860),
    "[13,23]": (123.4630, 91.89711),
    "[23,1]": (126.1944, 138.06368),
    "[13,2]": (126.9394, 155.16018),
    "[1,2,3]": (141.9926, 184.14431),
}
# Korea [12,3] fit (CSV2021 vignette glm print): deviance 8.566946, AIC 44.90767 (SparseMSE
# adjusted AIC), 2 residual df
KOREA_12_3 = {"deviance": 8.566946, "aic": 44.90767, "df": 2}

# Kosovo: number of admissible hierarchical models with maxorder 3 (SCV2024 vignette)
KOSOVO_N_MODELS_ORDER3 = 113

# Published BCa 95% intervals (1000 replicates, SparseMSE estimatepopulation, seed 1234 in
# R's RNG), so Monte-Carlo accuracy only: the last field is the number of our seeds whose
# mean is compared with them. Western (1293, 3670) is also quoted in the CSV2021 vignette
# text (section "Western site data: Section 4.2"). With 1000 replicates our limits vary from
# seed to seed by about sd 90 / 160 (Western) and 70 / 80 (New Orleans 8 lists), measured
# over 26 and 10 seeds: the published values lie inside that spread (Western lower limit
# about 1 sd above our mean, the others within 0.5 sd).
BCA_95 = [
    ("western_us_5lists.csv", (1293, 3670), "CSV2021 §4.2", 10),
    ("new_orleans_8lists.csv", (717, 1657), "CSV2021 §4.1", 6),
]

# Worked example of mse_methods.md §4 (artificial_3lists.csv): pairs -> code
ARTIFICIAL_CODES = [
    ("", 0), ("1*3", 0), ("2*3", 0), ("1*3,2*3", 0),
    ("1*2", 1), ("1*2,1*3", 1), ("1*2,2*3", 1),
    ("1*2,1*3,2*3", 2),
]

# SCV2024 Table 6: downhill search on the six-list UK table (maxorder 2) -> 12,350
UK6_DOWNHILL = 12350
