"""tiplab: turn anti-trafficking data into policy.

The core library. It never imports Django or the web app (an import-linter contract checked
by ``make test`` keeps it so); it works on Arrow tables and DuckDB relations and returns typed
result objects.
"""

from tiplab.errors import TiplabError

__all__ = ["TiplabError", "__version__"]
__version__ = "0.1.0"
