"""The web platform shell: roles and access, navigation, dashboard panels, CSP, rate limits.

Other apps use:

* ``tiplab_web.core.access``: ``has_role``, ``can``, ``role_required``,
  ``capability_required``, ``get_object_for``;
* ``tiplab_web.core.nav.register`` and ``tiplab_web.core.panels.register`` (in ``ready()``);
* ``tiplab_web.core.reauth.require_recent_password`` for destructive and bulk-export views;
* ``tiplab_web.audit.record`` to write the audit log.
"""
