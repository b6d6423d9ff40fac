#!/bin/sh
# One image, several roles: web | worker-cpu | worker-gpu | beat | migrate | any command.
set -e
case "$1" in
  web)
    # Production WSGI server: settings in docker/gunicorn.conf.py (4 sync workers, WEB_CONCURRENCY to change).
    exec gunicorn config.wsgi:application --config docker/gunicorn.conf.py --bind 0.0.0.0:8000 ;;
  worker-cpu)
    exec celery -A config worker -Q cpu --concurrency "${WORKER_CONCURRENCY:-2}" -n "cpu@%h" --loglevel INFO ;;
  worker-gpu)
    # One training/generation at a time per GPU.
    exec celery -A config worker -Q gpu --concurrency 1 -n "gpu@%h" --loglevel INFO ;;
  beat)
    # The schedule: the run reaper (every kind of run) and the audit checkpoint tick (issue 16 §1, §6).
    exec celery -A config beat --loglevel INFO --schedule /tmp/celerybeat-schedule ;;
  migrate)
    exec python manage.py migrate --noinput ;;
  *)
    exec "$@" ;;
esac
