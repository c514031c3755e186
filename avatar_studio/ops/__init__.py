"""Operations: what staff need to see how the avatar pipeline is doing (the admin dashboard).

A plain package, not a Django app: it has no models, and its page (``views.dashboard``) is
served through the avatar jobs' admin (``AvatarJobAdmin.dashboard_view``), so the admin's own
login and permission checks apply.
"""
