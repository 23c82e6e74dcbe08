#!/usr/bin/env bash
# `make image`: build kron's operator image from the Dockerfile with buildah (no daemon,
# --isolation chroot), on the base hack/image-base.sh makes from Debian packages, and
# tag it with the version (pyproject.toml, = the chart's appVersion) and the commit:
#
#   localhost/kron:<version>               what the chart's default image.tag names
#   localhost/kron:<version>-<commit>      <commit>: 12 hex digits, "-dirty" appended when
#                                          the build context has uncommitted changes
#
# Layers are cached (--layers): with an unchanged lock only the layer holding kron's
# wheel is rebuilt. The build's pip trusts the CAs the host's pip trusts and uses its
# package index: the bundle is bind-mounted read-only into the RUN steps (never copied
# into a layer), its path passed as PIP_CERT; proxy variables pass through as buildah
# does by default.
#
# Environment:
#   KRON_IMAGE       repository to tag (default localhost/kron; localhost/kron-ui with KRON_UI)
#   KRON_UI          1: add the `kron ui` extra (Dockerfile build-arg KRON_UI)
#   KRON_IMAGE_BASE  build on this base instead of the local one, e.g. the Dockerfile's
#                    release default where a registry is reachable: KRON_IMAGE_BASE=release
#   PYTHON           interpreter used to read pyproject.toml and pip's settings (python3)
#
# The last line on stdout is the <version>-<commit> reference; progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers/containers.conf}"
export CONTAINERS_STORAGE_CONF="${CONTAINERS_STORAGE_CONF:-$here/containers/storage.conf}"

msg() { echo "image: $*" >&2; }
command -v buildah >/dev/null || {
  msg "buildah is missing: apt-get install buildah podman mmdebstrap runc (or run .ci/run)"
  exit 1
}

python="${PYTHON:-python3}"
[[ -x .venv/bin/python && -z ${PYTHON:-} ]] && python=.venv/bin/python
version="$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
if revision="$(git rev-parse HEAD 2>/dev/null)"; then
  commit="${revision:0:12}"
  # Only what enters the build context (.dockerignore) decides whether the tree is dirty.
  if [[ -n "$(git status --porcelain -- Dockerfile .dockerignore pyproject.toml README.md operator)" ]]; then
    commit="$commit-dirty"
  fi
else
  revision=unknown commit=nogit # a source tree without its git history
fi
repo="${KRON_IMAGE:-localhost/kron${KRON_UI:+-ui}}"

build_args=()
[[ -z ${KRON_UI:-} ]] || build_args+=(--build-arg "KRON_UI=$KRON_UI")
case "${KRON_IMAGE_BASE:-}" in
  "") base="$(bash "$here/image-base.sh")"; build_args+=(--build-arg "PYTHON_IMAGE=$base") ;;
  release) base="the Dockerfile's default"; base_ref="$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile)" ;;
  *) base="$KRON_IMAGE_BASE"; build_args+=(--build-arg "PYTHON_IMAGE=$base") ;;
esac

# What the host's pip uses: PIP_CERT / PIP_INDEX_URL, else its configuration files.
pip_setting() {
  local env_value=$1 key=$2
  if [[ -n $env_value ]]; then
    echo "$env_value"
  else
    "$python" -m pip config get "$key" 2>/dev/null || true
  fi
}
cert="$(pip_setting "${PIP_CERT:-}" global.cert)"
if [[ -n $cert ]]; then
  [[ -f $cert ]] || { msg "the host's pip trusts $cert, which is not a file"; exit 1; }
  # Over the base's own bundle (present in both bases), so no mount point is left behind.
  build_args+=(--volume "$(realpath "$cert"):/etc/ssl/certs/ca-certificates.crt:ro")
  build_args+=(--build-arg "PIP_CERT=/etc/ssl/certs/ca-certificates.crt")
fi
index="$(pip_setting "${PIP_INDEX_URL:-}" global.index-url)"
[[ -z $index ]] || build_args+=(--build-arg "PIP_INDEX_URL=$index")

msg "building $repo:$version-$commit on $base${cert:+ (pip trusts $cert)}"
t0=$SECONDS
buildah build --isolation chroot --layers \
  "${build_args[@]}" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.base.name=${base_ref:-$base}" \
  --tag "$repo:$version" --tag "$repo:$version-$commit" \
  --file Dockerfile . >&2
msg "built in $((SECONDS - t0)) s"
echo "$repo:$version-$commit"
