"""Record linkage: one person, many lists; in clear text or on privacy-preserving encodings.

Public API::

    from tiplab.linkage import LinkInput, LinkSettings, link, evaluate_clusters
    result = link([LinkInput("police", table, "case_no", {"first_name": "fname"})])
    result.write("out/")
"""

from tiplab.linkage.cluster import Conflict
from tiplab.linkage.encode import encode, generate_key, key_fingerprint, load_key
from tiplab.linkage.errors import EncodingError, LinkageError, RolesError
from tiplab.linkage.incremental import link_incremental, resume
from tiplab.linkage.link import link
from tiplab.linkage.quality import LinkageQuality, evaluate_clusters
from tiplab.linkage.result import LinkResult
from tiplab.linkage.review import apply_decisions, review_queue
from tiplab.linkage.roles import InputRoles, LinkInput, RolesFile
from tiplab.linkage.settings import EncodingSettings, LinkSettings
from tiplab.linkage.threshold import ThresholdChoice, choose_threshold

__all__ = [
    "Conflict",
    "EncodingError",
    "EncodingSettings",
    "InputRoles",
    "LinkInput",
    "LinkResult",
    "LinkSettings",
    "LinkageError",
    "LinkageQuality",
    "RolesError",
    "RolesFile",
    "ThresholdChoice",
    "apply_decisions",
    "choose_threshold",
    "encode",
    "evaluate_clusters",
    "generate_key",
    "key_fingerprint",
    "link",
    "link_incremental",
    "load_key",
    "resume",
    "review_queue",
]
