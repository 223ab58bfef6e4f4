"""User model shapes the app must work with, one small app and settings module each.

AUTH_USER_MODEL cannot change within one process, so ``tests/test_user_models.py``
runs ``tests/user_models/test_flow.py`` in a subprocess per shape, with
``settings_<shape>.py``; the main run runs it with the default ``auth.User``.
"""
