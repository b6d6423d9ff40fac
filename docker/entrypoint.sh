#!/bin/sh
# One image, several roles: web | worker-cpu | worker-gpu | migrate | any command.
set -e
case "$1" in
  web)
    exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers "${WEB_CONCURRENCY:-3}" --timeout 120 ;;
  worker-cpu)
    exec celery -A config worker -Q cpu --concurrency "${WORKER_CONCURRENCY:-2}" -n "cpu@%h" --loglevel INFO ;;
  worker-gpu)
    # One training/generation at a time per GPU.
    exec celery -A config worker -Q gpu --concurrency 1 -n "gpu@%h" --loglevel INFO ;;
  migrate)
    exec python manage.py migrate --noinput ;;
  *)
    exec "$@" ;;
esac
