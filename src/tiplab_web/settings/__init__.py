"""Settings modules: ``base`` (shared), ``dev`` (make run), ``production``, ``test``."""
