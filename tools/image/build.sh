#!/usr/bin/env bash
# `make image`: builds the Dockerfile with podman. When the pinned base image cannot
# be pulled (no registry reachable), a local base is made instead: a minimal Debian
# bookworm with python3, python3-venv and ca-certificates from the machine's own
# Debian mirror, imported into podman and passed as PYTHON_IMAGE. The base is cached
# (a rootfs tarball under CLAPSTREAM_IMAGE_CACHE, and the imported image), so only the
# first run pays for it.
#
#   IMAGE         the tag to build (clapstream:0.1.0)
#   PYTHON_IMAGE  a base to use as is, skipping the pull and the local base
#   PIP_CA        a CA bundle for pip inside the build (default: the host's, if any)
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${IMAGE:-clapstream:0.1.0}
CACHE=${CLAPSTREAM_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clapstream/image}
SUITE=bookworm
PACKAGES=python3,python3-venv,ca-certificates
LOCAL_BASE=localhost/clapstream-base:$SUITE-python3
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tools/image/containers.conf}
podman=(podman --runtime runc)

log() { printf '%s\n' "image: $*" >&2; }

# The first Debian mirror the machine's apt sources name (deb822 or one-line format).
debian_mirror() {
  local found
  found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
      /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v -- '-security' | head -n1 | tr -d ' ')
  echo "${found:-http://deb.debian.org/debian}"
}

local_base() {
  if "${podman[@]}" image exists "$LOCAL_BASE"; then
    echo "$LOCAL_BASE"
    return
  fi
  local tarball=$CACHE/$SUITE-python3.tar
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { log "debootstrap is needed for a local base"; exit 1; }
    [ "$(id -u)" = 0 ] || { log "debootstrap needs root"; exit 1; }
    local mirror rootfs
    mirror=$(debian_mirror)
    rootfs=$CACHE/rootfs.partial
    mkdir -p "$CACHE"
    rm -rf "$rootfs"
    log "building a local $SUITE base from $mirror (about a minute, once)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" >&2
    # What these containers never need: package caches and indexes, documentation,
    # message catalogues and glibc's iconv modules (Python converts text itself).
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/info \
      "$rootfs"/usr/share/locale "$rootfs"/usr/lib/*/gconv
    tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    rm -rf "$rootfs"
  fi
  "${podman[@]}" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    "$tarball" "$LOCAL_BASE" >/dev/null
  echo "$LOCAL_BASE"
}

base=${PYTHON_IMAGE:-}
if [ -z "$base" ]; then
  pinned=$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile)
  if "${podman[@]}" image exists "$pinned" || "${podman[@]}" pull --quiet "$pinned" >/dev/null 2>&1; then
    base=$pinned
  else
    log "cannot pull $pinned: using a local Debian $SUITE base"
    base=$(local_base)
  fi
fi

build=("${podman[@]}" build --network host --build-arg "PYTHON_IMAGE=$base" --tag "$IMAGE")
ca=${PIP_CA:-${PIP_CERT:-${SSL_CERT_FILE:-}}}
if [ -n "$ca" ] && [ -s "$ca" ]; then
  build+=(--secret "id=pip-ca,src=$ca")
fi
log "building $IMAGE on $base"
"${build[@]}" .
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$IMAGE")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit with uncommitted changes"
log "built $IMAGE: $((size / 1000000)) MB ($(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, load average $(cut -d' ' -f1-3 /proc/loadavg))"
