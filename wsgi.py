"""WSGI entry point: ``gunicorn wsgi:app``."""

from partsvc import create_app

app = create_app()
