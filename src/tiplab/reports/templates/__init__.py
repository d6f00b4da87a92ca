"""HTML templates (Jinja2) and CSS of the evidence brief and the annual report
(:mod:`tiplab.reports.brief`). Package data: every fixed word comes from ``brief.TEXTS``."""
