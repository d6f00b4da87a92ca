"""Accounts: organisations, roles, invitations, two-factor authentication and API tokens."""
