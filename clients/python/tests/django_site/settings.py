"""A small Django site that downloads through django-sendfile2, handed to xsendfiled.

pytest drives it with Django's test client (tests/test_django.py); tests/clients_python.rs in the
xsendfiled repository runs it under gunicorn behind nginx and xsendfiled, once as it is and once as
it was before the migration of docs/migrate-django-sendfile2.md.
"""

import os

SECRET_KEY = "test-only-not-a-secret"
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "django_site.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True

# django-sendfile2: the files the site hands out, and who sends them.
SENDFILE_ROOT = os.environ.get("DOWNLOADS_ROOT", "/srv/files")
SENDFILE_BACKEND = "xsendfiled.django"  # xsendfiled --root is SENDFILE_ROOT
SENDFILE_URL = "/_xsendfiled"  # the internal nginx location that passes to xsendfiled

# Where the view with ?ask=1 asks xsendfiled directly (xsendfiled --app-socket).
XSENDFILED_APP_SOCKET = os.environ.get("APP_SOCKET", "/run/xsendfiled/app.sock")
