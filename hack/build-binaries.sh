#!/usr/bin/env bash
# Build (or reuse) the pinned control-plane binaries from Go modules.
#
# Why this exists: these machines have no container engine, so kind and the release
# tarballs' images are out; the Go module proxy is reachable. `go install` refuses
# k8s.io/kubernetes and etcd's server module because of their relative `replace`
# directives, so each is built from a throw-away wrapper module that re-points every
# staging module at its published version.
#
# Output: one directory per version set under $KRON_CACHE_DIR (default
# ~/.cache/kron), printed on stdout as the last line. Reused when complete.
# Users who bring their own binaries set KRON_BIN_DIR (or KUBEBUILDER_ASSETS for
# kube-apiserver/etcd/kubectl) and skip this script entirely.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "$here/versions.env"

cache_root="${KRON_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kron}"
key="k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
out="$cache_root/bin/$key"
logs="$cache_root/logs/$key"
mkdir -p "$out" "$logs"

want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm)
complete=1
for b in "${want[@]}"; do [[ -x "$out/$b" ]] || complete=0; done
if [[ $complete == 1 ]]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-binaries: step 'go' failed: Go toolchain not found (need Go 1.24+)" >&2; exit 1; }

step() { # step NAME CMD... : run CMD with output to a log, fail with one line naming the log
  local name=$1; shift
  local log="$logs/$name.log"
  echo "build-binaries: $name ..." >&2
  local t0=$SECONDS
  if ! "$@" >"$log" 2>&1; then
    echo "build-binaries: step '$name' failed, see $log" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  echo "build-binaries: $name done in $((SECONDS - t0))s" >&2
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

build_kubernetes() {
  local mod="$work/k8s"
  mkdir -p "$mod"
  local k8s_minor="${KUBERNETES_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  (cd "$mod" && go mod init kron.dev/hack/k8sbuild >/dev/null 2>&1)
  local gomod
  gomod="$(cd "$mod" && go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
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
  (cd "$mod" && go get "k8s.io/kubernetes/cmd/kube-apiserver@${KUBERNETES_VERSION}" \
      && go build -trimpath -ldflags "$ld" -o "$out/" \
        k8s.io/kubernetes/cmd/kube-apiserver \
        k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler \
        k8s.io/kubernetes/cmd/kubectl)
}

build_etcd() {
  local mod="$work/etcd"
  mkdir -p "$mod"
  (cd "$mod" && go mod init kron.dev/hack/etcdbuild >/dev/null 2>&1)
  local gomod
  gomod="$(cd "$mod" && go mod download -json "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
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

build_go_install() { # name module/cmd@version
  GOBIN="$out" GOFLAGS= go install -trimpath -ldflags "-s -w" "$2"
}

[[ -x "$out/etcd" ]] || step etcd build_etcd
[[ -x "$out/kwok" ]] || step kwok build_go_install kwok "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
[[ -x "$out/helm" ]] || step helm build_go_install helm "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
if [[ ! -x "$out/kube-apiserver" || ! -x "$out/kube-controller-manager" || ! -x "$out/kube-scheduler" || ! -x "$out/kubectl" ]]; then
  step kubernetes build_kubernetes
fi
echo "$out"
