from django.dispatch import Signal

#: Sent by ``services.set_roles`` after a user's roles changed.
#: Arguments: user, actor, request (or None), added, removed (tuples of role names).
roles_changed = Signal()
