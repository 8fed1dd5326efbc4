"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from learning import create_app

app = create_app()
