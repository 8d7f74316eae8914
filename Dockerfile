# syntax=docker/dockerfile:1
# One image for every Clapstream process: web (daphne), worker, recorder, sampler and
# the migrate/topics Jobs. Kubernetes picks the process with `command`.
#
#   docker build -t clapstream:0.1.0 .      (or: make image, with podman)
#
# Both stages use the same base so the virtualenv built in the first one runs
# unchanged in the second (same path, same Python, same libc). The default base is
# pinned by digest; any Debian-based image with python3 (3.11+) and its venv module
# works too (`--build-arg PYTHON_IMAGE=...`): the steps below call python3, which
# both the official images and Debian's own python3 provide, never `python`.
# python:3.11-slim-bookworm, by the digest of its multi-arch index alone (some engines
# refuse or drop a digest that follows a tag).
ARG PYTHON_IMAGE=docker.io/library/python@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN python3 -m venv /opt/venv
WORKDIR /app

# Dependencies first, from the hash-pinned lock alone, so a code change reuses this
# layer. Every dependency ships a binary wheel: no compiler is needed. The project
# itself runs from /app (templates and static files sit beside the code) and is not
# installed; pip and setuptools leave the virtualenv once it is filled, and so do
# what no process reads: the packages' own test suites (django.test is an API, not
# one) and every translation but English (the site speaks English only: LANGUAGE_CODE
# is en-us and no middleware picks another; locale formats stay).
# The optional build secret `pip-ca` is a CA bundle for hosts whose TLS to the
# package index goes through their own certificate authority.
COPY requirements/runtime.lock requirements/
RUN --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
 && pip install --require-hashes --no-deps --only-binary=:all: -r requirements/runtime.lock \
 && pip uninstall --yes setuptools pip \
 && find /opt/venv/lib -depth -type d \( -name tests -o -name test \) \
      ! -path "*/django/test" -exec rm -rf {} + \
 && find /opt/venv/lib -type d -name LC_MESSAGES -path "*/locale/*" \
      ! -path "*/locale/en/*" -prune -exec rm -rf {} +

COPY . .
# Static files are collected at build time: the running pods have a read-only root
# file system. These settings only satisfy Django's production checks for this step.
# JavaScript source maps (the API docs' bundles ship 24 MB of them) are debugging
# aids no page loads: they go once the hashed names referring to them are made.
ENV STATIC_ROOT=/app/staticfiles
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
 && find /opt/venv/lib staticfiles -type f \( -name "*.map" -o -name "*.map.gz" \) -delete \
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
    LOG_FORMAT=json \
    STATIC_ROOT=/app/staticfiles \
    VAR_DIR=/tmp/clapstream
WORKDIR /app
USER 10001:10001
EXPOSE 8000 9102
CMD ["python", "-m", "webapp.server", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "--websocket_connect_timeout", "30", "webapp.asgi:application"]
