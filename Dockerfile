# syntax=docker/dockerfile:1
# One image for every Clapstream process: web (daphne), worker, recorder, sampler and
# the migrate/topics Jobs. Kubernetes picks the process with `command`.
#
#   docker build -t clapstream:0.1.0 .
#
# Both stages use the same base so the virtualenv built in the first one runs
# unchanged in the second (same path, same Python, same libc).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change reuses this layer.
# Every dependency ships a binary wheel (confluent-kafka, psycopg[binary], twisted,
# cryptography): no compiler is needed here either. The project itself runs from
# /app (templates and static files sit beside the code), so its own empty
# distribution is removed again and only the pinned dependencies stay in the venv.
COPY pyproject.toml README.md ./
# DL3013 wants pinned packages: this is the local project, whose pyproject.toml pins all.
# hadolint ignore=DL3013
RUN pip install ".[postgres]" \
 && pip uninstall --yes clapstream

COPY . .
# Static files are collected at build time: the running pods have a read-only root
# file system. These settings only satisfy Django's production checks for this step.
ENV STATIC_ROOT=/app/staticfiles
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
 && python -m compileall -q streams webapp worker manage.py


FROM ${PYTHON_IMAGE}
# A fixed numeric user (the manifests' runAsUser), so Kubernetes can verify
# runAsNonRoot without looking the name up.
RUN groupadd --system --gid 10001 clapstream \
 && useradd --system --uid 10001 --gid clapstream --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin clapstream

# Owned by root and read-only for the app user; nothing is written at run time
# except under /tmp (an emptyDir in Kubernetes).
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=webapp.settings \
    STATIC_ROOT=/app/staticfiles \
    VAR_DIR=/tmp/clapstream
WORKDIR /app
USER 10001:10001
EXPOSE 8000 9102
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "webapp.asgi:application"]
