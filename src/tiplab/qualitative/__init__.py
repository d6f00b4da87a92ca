"""Qualitative evidence: interview notes, thematic coding with human review, and screening.

Core logic only (no Django): the codebook, text extraction and segmentation, the embedded
model (:mod:`tiplab.qualitative.embed`), coding suggestions and their classifier,
inter-rater agreement, redaction of notes, and batch screening of free texts. The web app
``tiplab_web.evidence`` stores notes sealed at rest and drives the human review.
"""
