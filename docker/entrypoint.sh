#!/bin/sh
# Container start: apply migrations, then hand the process over to daphne.
set -eu
python manage.py migrate --noinput
exec daphne --bind "${HOST:-0.0.0.0}" --port "${PORT:-8000}" nora.asgi:application
