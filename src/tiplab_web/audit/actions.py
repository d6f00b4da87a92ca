"""Action names written to the audit log. Apps may add their own dotted names
(``"<app>.<verb>"``); these are the ones the shell writes or expects others to write."""

LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"
LOGOUT = "auth.logout"
LOCKOUT = "auth.lockout"
OTP_ENROLLED = "auth.otp_enrolled"
OTP_VERIFIED = "auth.otp_verified"
OTP_FAILED = "auth.otp_failed"
REAUTH = "auth.reauth"
REAUTH_FAILED = "auth.reauth_failed"
PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"  # noqa: S105
PASSWORD_RESET = "auth.password_reset"  # noqa: S105
INVITATION_SENT = "users.invited"
INVITATION_ACCEPTED = "users.invitation_accepted"
ROLES_CHANGED = "users.roles_changed"
USER_UPDATED = "users.updated"
ORGANISATION_CREATED = "users.organisation_created"
TOKEN_CREATED = "api.token_created"  # noqa: S105
TOKEN_REVOKED = "api.token_revoked"  # noqa: S105
AUDIT_EXPORTED = "audit.exported"
# written by the data apps
IMPORT = "cases.import"
EXPORT = "cases.export"
CASE_VIEWED = "cases.view"
IDENTIFIERS_REVEALED = "cases.reveal_identifiers"
