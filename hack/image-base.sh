#!/usr/bin/env bash
# Make (or reuse) the image's base from Debian packages, for machines that reach Debian's
# archive but no container registry: the stand-in for the release base
# python:3.11-slim-bookworm, in the same shape (Debian bookworm's Essential set, a Python
# 3.11, ca-certificates, tzdata; merged /usr), so the Dockerfile is built unchanged.
#
# What differs from the release base (docs/operations/image.md): Python is Debian's
# python3.11 (3.11.2 plus Debian's security fixes) in /usr/bin, not python.org's 3.11.x in
# /usr/local; `python` comes from python-is-python3 and venv/ensurepip from
# python3-venv. No documentation or locales (copyright files are kept), no apt.
#
# mmdebstrap writes a reproducible tarball (SOURCE_DATE_EPOCH below; the same mirror
# content gives the same bytes), cached as $KRON_CACHE_DIR (default ~/.cache/kron)/
# image-base/<key>.tar, where <key> hashes every input: this script, the suite, the
# architecture, the mirrors and the package list. The tarball is imported once into
# container storage as localhost/kron-base:<key>. Debian's security updates do not change
# the key: KRON_BASE_REFRESH=1 rebuilds the tarball (and so the key's image) anyway.
#
# Usage: image-base.sh    prints the image reference as its last line on stdout;
#                         progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# podman's settings for this machine (runtime, storage driver, ulimits).
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers/containers.conf}"
export CONTAINERS_STORAGE_CONF="${CONTAINERS_STORAGE_CONF:-$here/containers/storage.conf}"

suite=bookworm
arch="$(dpkg --print-architecture)"
mirrors=(
  "deb http://deb.debian.org/debian $suite main"
  "deb http://deb.debian.org/debian $suite-updates main"
  "deb http://deb.debian.org/debian-security $suite-security main"
)
# What kron's venv needs of the OS: an interpreter (python3.11 and its stdlib), venv and
# ensurepip for the build stage, the `python` name the Dockerfile calls, CA certificates
# for TLS to the API server, the zone database, and useradd for the Dockerfile's user.
packages=(python3 python3-venv python-is-python3 ca-certificates tzdata passwd)
# The epoch of every file's mtime in the tarball: fixed, so the bytes depend only on the
# mirror's content.
export SOURCE_DATE_EPOCH=1700000000

msg() { echo "image-base: $*" >&2; }

key="$(
  {
    cat "${BASH_SOURCE[0]}"
    printf '%s\n' "$suite" "$arch" "${mirrors[@]}" "${packages[@]}"
  } | sha256sum | cut -c1-16
)"
ref="localhost/kron-base:$key"
cache="${KRON_CACHE_DIR:-$HOME/.cache/kron}/image-base"
tarball="$cache/$key.tar"

if [[ ${KRON_BASE_REFRESH:-0} == 1 ]]; then
  rm -f "$tarball"
  podman image rm --force "$ref" >/dev/null 2>&1 || true
fi

if podman image exists "$ref"; then
  msg "reusing $ref"
  echo "$ref"
  exit 0
fi

if [[ ! -s $tarball ]]; then
  command -v mmdebstrap >/dev/null || {
    msg "mmdebstrap is missing: apt-get install mmdebstrap (or run .ci/run)"
    exit 1
  }
  mkdir -p "$cache"
  msg "building $tarball with mmdebstrap ($suite, $arch: ${packages[*]})"
  t0=$SECONDS
  log="$cache/$key.log"
  # Essential set + the packages above; docs, man pages and locales are not unpacked
  # (path-exclude), but copyright files are; the host's resolv.conf and hostname are
  # not kept (the runtime provides them), nor are device nodes (nor is apt: the
  # essential variant has none).
  if ! mmdebstrap --variant=essential --mode=root --format=tar --architectures="$arch" \
    --include="$(IFS=,; echo "${packages[*]}")" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"' \
    --customize-hook='[ -L "$1/bin" ] && [ -L "$1/lib" ] && [ -L "$1/sbin" ]' \
    --skip=output/dev \
    "$suite" "$tarball.tmp" "${mirrors[@]}" >"$log" 2>&1; then
    msg "mmdebstrap failed; the end of $log:"
    tail -n 20 "$log" >&2
    rm -f "$tarball.tmp"
    exit 1
  fi
  mv "$tarball.tmp" "$tarball"
  msg "built in $((SECONDS - t0)) s ($(du -h "$tarball" | cut -f1))"
fi

msg "importing $tarball as $ref"
podman import --quiet \
  --change 'CMD ["/usr/bin/python3"]' \
  --change 'ENV LANG=C.UTF-8' \
  --message "kron-base $suite $arch: ${packages[*]} (hack/image-base.sh)" \
  "$tarball" "$ref" >/dev/null
echo "$ref"
