#!/usr/bin/env bash
# Install (or reuse) the pinned Go toolchain that hack/build-binaries.sh builds with, for
# machines that have no Go or one older than 1.24: .ci/run calls it on a fresh machine.
#
# The toolchain is the one the go command itself downloads for GOTOOLCHAIN: the module
# golang.org/toolchain@v0.0.1-<GO_VERSION>.linux-<arch> from the Go module proxy
# (GOPROXY's first entry, default proxy.golang.org), checked against the SHA-256 pinned
# in hack/versions.env, unpacked into $KRON_CACHE_DIR (default ~/.cache/kron)/go/
# <GO_VERSION>-<arch>. No root needed, nothing outside that directory is touched.
#
# Usage: install-go.sh    prints the toolchain's bin directory (holding `go`) as its last
#                         line on stdout; progress and errors go to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "$here/versions.env"
msg() { echo "install-go: $*" >&2; }

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 sha256=$GO_SHA256_LINUX_AMD64 ;;
  aarch64 | arm64) arch=arm64 sha256=$GO_SHA256_LINUX_ARM64 ;;
  *) msg "no pinned Go toolchain for $(uname -m) (hack/versions.env): install Go 1.24+"; exit 1 ;;
esac
[[ $(uname -s) == Linux ]] || { msg "no pinned Go toolchain for $(uname -s): install Go 1.24+"; exit 1; }

cache="${KRON_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kron}/go"
root="$cache/$GO_VERSION-$arch"
if [[ -x $root/bin/go ]] && [[ "$("$root/bin/go" env GOVERSION 2>/dev/null)" == "$GO_VERSION" ]]; then
  echo "$root/bin"
  exit 0
fi

proxy="${GOPROXY:-https://proxy.golang.org}"
proxy="${proxy%%[,|]*}"
[[ $proxy == http* ]] || proxy=https://proxy.golang.org # "direct" or "off" first
module="golang.org/toolchain/@v/v0.0.1-$GO_VERSION.linux-$arch.zip"
python="${PYTHON:-python3}"
command -v curl >/dev/null || { msg "curl is missing (apt-get install curl)"; exit 1; }
command -v "$python" >/dev/null || { msg "$python is missing (it unpacks the toolchain)"; exit 1; }

mkdir -p "$cache"
work="$(mktemp -d "$cache/.install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
msg "downloading $GO_VERSION ($arch) from $proxy"
curl --fail --silent --show-error --location --retry 3 -o "$work/go.zip" "$proxy/$module"
got="$(sha256sum "$work/go.zip" | cut -d' ' -f1)"
if [[ $got != "$sha256" ]]; then
  msg "$proxy/$module has SHA-256 $got, hack/versions.env pins $sha256: not installed"
  exit 1
fi
# A module zip holds every file under golang.org/toolchain@<version>/ and keeps no file
# modes: the go command marks bin/ and pkg/tool/ executable when it unpacks one, as here.
"$python" - "$work/go.zip" "$work/unpacked" "golang.org/toolchain@v0.0.1-$GO_VERSION.linux-$arch/" <<'EOF'
import sys, zipfile
from pathlib import Path

archive, target, prefix = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
with zipfile.ZipFile(archive) as zipped:
    for member in zipped.infolist():
        name = member.filename.removeprefix(prefix)
        if name == member.filename or member.is_dir() or ".." in Path(name).parts:
            continue
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(zipped.read(member))
        if name.startswith(("bin/", "pkg/tool/")):
            path.chmod(0o755)
EOF
"$work/unpacked/bin/go" version >/dev/null || { msg "the unpacked toolchain does not run"; exit 1; }
rm -rf "$root"
mv "$work/unpacked" "$root"
msg "installed $("$root/bin/go" env GOVERSION) in $root"
echo "$root/bin"
