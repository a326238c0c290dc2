"""Entry point of the Stappen API: ``flask --app app run``."""

from stappen.api import create_app

app = create_app()
