"""The glossary: short, plain-word explanations of the methods the pages name, linked from
every page that uses the term (``{% term "slug" %}`` puts a "?" link beside it)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: slug -> (term, explanation)
TERMS = {
    "mse": (_("Multiple systems estimation (MSE)"), _(
        "Estimates how many victims no agency has seen from how the agencies' lists overlap: "
        "if most people seen by the police are also known to an NGO, few are missed by both; "
        "if the lists hardly overlap, many are. It needs the same person to be recognised on "
        "every list (record linkage) and assumes the population does not change during the "
        "period.")),
    "persons": (_("Persons and records"), _(
        "Agencies keep records; one victim can have several - with the police, a shelter and "
        "the hotline. Record linkage finds the records of the same person. Once a data steward "
        "designates a link run, the figures count persons: each victim once, in the year, "
        "region and form of exploitation of her first record. Counting records instead counts "
        "contacts with agencies, not people.")),
    "dark-figure": (_("Dark figure"), _(
        "The estimated number of victims that no list recorded: the estimate minus the "
        "persons identified.")),
    # xgettext:no-python-format
    "interval": (_("95% interval"), _(
        "The range that, by the method used, contains the true value in 95 of 100 repetitions. "
        "Every interval tiplab shows is such a 95 in 100 interval unless it says otherwise. A "
        "wide interval means the data cannot say much more precisely.")),
    "bootstrap": (_("Bootstrap (BCa interval)"), _(
        "The data are resampled many times and the whole estimate - model choice included - "
        "repeated on each resample; the spread of the results gives the interval, corrected "
        "for bias and skewness (bias-corrected and accelerated, BCa).")),
    "log-linear": (_("Log-linear model"), _(
        "The model MSE fits to the counts of each pattern of lists. Its terms describe which "
        "lists tend to see the same people (dependence); the stepwise method adds the terms "
        "the data support.")),
    "gi-star": (_("Getis-Ord Gi* (hotspots)"), _(
        "Compares a region and its neighbours with the whole country: a high positive z-score "
        "means the area has clearly more recorded cases per resident than elsewhere (a hot "
        "spot), a low negative one clearly fewer (a cold spot).")),
    "bh": (_("Benjamini–Hochberg correction"), _(
        "Testing many regions at once would find some hotspots by chance. The correction keeps "
        "the expected share of false discoveries among the reported hotspots at 5% (the "
        "q-value).")),
    "moran": (_("Moran's I"), _(
        "One number for the whole map: above 0 when neighbouring regions have similar rates, "
        "near 0 when rates are spread at random.")),
    "mann-kendall": (_("Mann–Kendall trend test"), _(
        "Tests whether a series rises or falls over the years without assuming a straight "
        "line; used for each region's hotspot scores.")),
    "disclosure": (_("Disclosure control"), _(
        "Small counts could identify a person. Cells below the threshold are shown as "
        "suppressed, and other cells too where a small one could be worked out from the "
        "totals.")),
    "linkage": (_("Record linkage"), _(
        "Finding the records of one person across agencies despite spelling variants and "
        "missing fields. Precision is the share of linked pairs that are truly one person; "
        "recall the share of true pairs that were linked.")),
    "change-point": (_("Change point"), _(
        "A year where the level of a series shifts more than chance would explain.")),
}
