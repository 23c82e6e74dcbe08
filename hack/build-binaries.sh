#!/usr/bin/env bash
# Build (or reuse) the pinned control-plane binaries from Go modules.
#
# Why this exists: these machines have no container engine, so kind and the release
# tarballs' images are out; the Go module proxy is reachable. `go install` refuses
# k8s.io/kubernetes and etcd's server module because of their relative `replace`
# directives, so each is built from a throw-away wrapper module that re-points every
# staging module at its published version.
#
# Output: the last line on stdout is a directory holding all of
#   etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm
# Progress and errors go to stderr; a failed step prints one line naming the step and
# its log file, then that log's tail.
#
# Where the binaries come from, first match wins:
#   KRON_BIN_DIR=DIR          all seven are taken from DIR; nothing is built.
#   KUBEBUILDER_ASSETS=DIR    envtest's layout: kube-apiserver, etcd and kubectl from DIR;
#                             the rest are built; the output is a directory of symlinks.
#   otherwise                 built into $KRON_CACHE_DIR (default ~/.cache/kron)/bin/<key>,
#                             where <key> names every pinned version; reused when complete
#                             and every binary reports the pinned version.
#
# Usage: build-binaries.sh [--no-build]
#   --no-build  print the directory if the binaries are already there, else exit 3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "$here/versions.env"

no_build=0
case "${1:-}" in
  --no-build) no_build=1 ;;
  "") ;;
  *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
esac

want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm)
k8s_cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
msg() { echo "build-binaries: $*" >&2; }

# version_ok BIN PATH: does the binary report the pinned version?
version_ok() {
  local out
  case "$1" in
    etcd) out="$("$2" --version 2>/dev/null | head -n1)"; [[ $out == *" ${ETCD_VERSION#v}" ]] ;;
    kubectl) out="$("$2" version --client 2>/dev/null | head -n1)"; [[ $out == *" ${KUBERNETES_VERSION}" ]] ;;
    kube-*) out="$("$2" --version 2>/dev/null)"; [[ $out == "Kubernetes ${KUBERNETES_VERSION}" ]] ;;
    kwok) out="$("$2" --version 2>/dev/null)"; [[ $out == *" ${KWOK_VERSION} "* || $out == *" ${KWOK_VERSION}" ]] ;;
    helm) out="$("$2" version --template '{{.Version}}' 2>/dev/null)"; [[ $out == "${HELM_VERSION}" ]] ;;
    *) return 1 ;;
  esac
}

if [[ -n "${KRON_BIN_DIR:-}" ]]; then
  missing=()
  for b in "${want[@]}"; do [[ -x "$KRON_BIN_DIR/$b" ]] || missing+=("$b"); done
  if ((${#missing[@]})); then
    msg "KRON_BIN_DIR=$KRON_BIN_DIR lacks: ${missing[*]} (it must hold all of: ${want[*]})"
    exit 1
  fi
  for b in "${want[@]}"; do
    version_ok "$b" "$KRON_BIN_DIR/$b" || msg "note: $KRON_BIN_DIR/$b is not the pinned version (see hack/versions.env)"
  done
  (cd "$KRON_BIN_DIR" && pwd)
  exit 0
fi

cache_root="${KRON_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kron}"
key="k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
out="$cache_root/bin/$key"
logs="$cache_root/logs/$key"

# From KUBEBUILDER_ASSETS: these are not built, and the output is a merged symlink dir.
provided=()
if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  for b in kube-apiserver etcd kubectl; do
    [[ -x "$KUBEBUILDER_ASSETS/$b" ]] || { msg "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks $b"; exit 1; }
    provided+=("$b")
  done
fi
is_provided() { local p; for p in "${provided[@]}"; do [[ $p == "$1" ]] && return 0; done; return 1; }

# needs BIN: true when BIN must be (re)built: missing, or not the pinned version.
needs() {
  is_provided "$1" && return 1
  [[ -x "$out/$1" ]] && version_ok "$1" "$out/$1" && return 1
  return 0
}

publish() { # print the directory holding all seven binaries
  if ((${#provided[@]} == 0)); then
    echo "$out"
    return
  fi
  local assets merged b
  assets="$(cd "$KUBEBUILDER_ASSETS" && pwd)"
  merged="$cache_root/bin/${key}+assets-$(printf '%s' "$assets" | sha256sum | cut -c1-12)"
  mkdir -p "$merged"
  for b in "${want[@]}"; do
    if is_provided "$b"; then ln -sfn "$assets/$b" "$merged/$b"; else ln -sfn "$out/$b" "$merged/$b"; fi
  done
  echo "$merged"
}

todo=()
for b in "${want[@]}"; do needs "$b" && todo+=("$b"); done
if ((${#todo[@]} == 0)); then
  publish
  exit 0
fi
if ((no_build)); then
  msg "not built yet: ${todo[*]} (run 'make binaries', about 20-30 minutes on 2 cores)"
  exit 3
fi

command -v go >/dev/null || { msg "step 'go' failed: Go toolchain not found (need Go 1.24+)"; exit 1; }
mkdir -p "$out" "$logs"

step() { # step NAME CMD... : run CMD with output to a log, fail with one line naming the log
  local name=$1; shift
  local log="$logs/$name.log"
  msg "$name ..."
  local t0=$SECONDS
  if ! "$@" >"$log" 2>&1; then
    msg "step '$name' failed, see $log"
    tail -n 20 "$log" >&2
    exit 1
  fi
  msg "$name done in $((SECONDS - t0))s"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

gomod_of() { # gomod_of MODULE@VERSION: path of the go.mod the proxy serves for it
  go mod download -json "$1" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p'
}

build_kubernetes() { # build_kubernetes CMD...: the named cmd/ binaries, in one go build
  local mod="$work/k8s"
  mkdir -p "$mod"
  local k8s_minor="${KUBERNETES_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  (cd "$mod" && go mod init kron.dev/hack/k8sbuild >/dev/null 2>&1)
  local gomod
  gomod="$(cd "$mod" && gomod_of "k8s.io/kubernetes@${KUBERNETES_VERSION}")"
  {
    echo "require k8s.io/kubernetes ${KUBERNETES_VERSION}"
    # Every staging module the upstream go.mod replaces with ./staging/... is
    # re-pointed at its published tag (v0.<minor>.<patch>).
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#replace \1 => \1 '"$staging_version"'#p' "$gomod"
  } >>"$mod/go.mod"
  local v=k8s.io/component-base/version c=k8s.io/client-go/pkg/version
  local ld="-s -w"
  for p in $v $c; do
    ld+=" -X $p.gitVersion=${KUBERNETES_VERSION} -X $p.gitMajor=1 -X $p.gitMinor=${k8s_minor}"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  local pkgs=() cmd
  for cmd in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
  (cd "$mod" && go get "k8s.io/kubernetes/cmd/kube-apiserver@${KUBERNETES_VERSION}" \
      && go build -trimpath -ldflags "$ld" -o "$out/" "${pkgs[@]}")
}

build_etcd() {
  local mod="$work/etcd"
  mkdir -p "$mod"
  (cd "$mod" && go mod init kron.dev/hack/etcdbuild >/dev/null 2>&1)
  local gomod
  gomod="$(cd "$mod" && gomod_of "go.etcd.io/etcd/server/v3@${ETCD_VERSION}")"
  {
    echo "require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}"
    # Each sibling module the server replaces with ../<dir> is pinned to the version
    # its own require line names (client/v2 is tagged v2.305.x, not v3.5.x).
    local m
    for m in $(sed -n 's#^[[:space:]]*\(go\.etcd\.io/etcd/[a-z0-9/]*\) => \.\./.*#\1#p' "$gomod"); do
      echo "replace $m => $m $(awk -v m="$m" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$gomod")"
    done
  } >>"$mod/go.mod"
  (cd "$mod" && go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" \
      && go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  GOBIN="$out" GOFLAGS= go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
}

build_helm() {
  # Stamped as helm's own Makefile does: without it `helm version` says v3.18 and,
  # worse, `helm template`/`helm lint` assume Kubernetes 1.20 (.Capabilities.KubeVersion
  # and deprecation checks). The Kubernetes version is the client-go helm is built with.
  # (client-go v0.X.Y pairs with Kubernetes 1.X).
  local gomod client_go major minor
  gomod="$(cd "$work" && GOFLAGS= gomod_of "helm.sh/helm/v3@${HELM_VERSION}")"
  client_go="$(awk '$1 == "k8s.io/client-go" {print $2; exit}' "$gomod")"
  client_go="${client_go#v}"
  major=$(( ${client_go%%.*} + 1 ))
  minor="${client_go#*.}"; minor="${minor%%.*}"
  local ld="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
  ld+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ld+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${major}"
  ld+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}"
  ld+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${major}"
  ld+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}"
  GOBIN="$out" GOFLAGS= go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
}

k8s_todo=()
for b in "${k8s_cmds[@]}"; do needs "$b" && k8s_todo+=("$b"); done
needs etcd && step etcd build_etcd
needs kwok && step kwok build_kwok
needs helm && step helm build_helm
((${#k8s_todo[@]})) && step kubernetes build_kubernetes "${k8s_todo[@]}"

for b in "${want[@]}"; do
  is_provided "$b" && continue
  version_ok "$b" "$out/$b" || { msg "step 'verify' failed: $out/$b does not report the pinned version"; exit 1; }
done
publish
