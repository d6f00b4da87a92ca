"""The policy half of the loop: assessment of the legal framework (``legal``), and, as the
issues land, plans, budgets, indicators and reviews. Core logic only, no Django."""
