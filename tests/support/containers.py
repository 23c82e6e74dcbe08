"""kron's image under podman, for the image tests: build it as `make image` does, run it
hardened as the chart runs it, look inside it.

podman and buildah read their settings for this machine (runtime, storage, ulimits)
from hack/containers/, as hack/image.sh does; nothing here configures them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "hack" / "containers"
TOOLS = ("buildah", "podman", "mmdebstrap", "runc")

# What the chart's securityContext asks of the kubelet (values.yaml: read-only root, all
# capabilities dropped, no privilege escalation; /tmp an emptyDir), with no --user: the
# image's own USER must be the non-root one.
HARDENED = (
    "--read-only",
    "--read-only-tmpfs=false",
    "--tmpfs=/tmp:rw,nosuid,nodev,size=64m",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
    "--pull=never",
)


def engine_env() -> dict[str, str]:
    return {
        **os.environ,
        "CONTAINERS_CONF": str(CONF / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(CONF / "storage.conf"),
    }


def require_tools() -> None:
    """Fail when the container tools are missing where they can be installed (the
    project installs them: .ci/run); skip, saying why, only where they cannot."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        if os.geteuid() != 0:
            pytest.fail(
                "the image tests run podman and buildah as root (hack/containers holds "
                "rootful settings); run them as root"
            )
        return
    if not sys.platform.startswith("linux") or shutil.which("apt-get") is None:
        pytest.skip(
            f"{', '.join(missing)} cannot be installed here (they are Debian packages and "
            "this machine has no apt-get); the image tests need them"
        )
    pytest.fail(
        f"{', '.join(missing)} missing: apt-get install buildah podman mmdebstrap runc "
        "(bash .ci/run installs them)"
    )


def podman(
    *args: str, check: bool = True, timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["podman", *args],
        capture_output=True,
        text=True,
        env=engine_env(),
        timeout=timeout,
        input=input,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
    return result


def build_image() -> str:
    """`make image` (hack/image.sh): the <version>-<commit> reference it tagged."""
    result = subprocess.run(
        ["bash", str(REPO / "hack" / "image.sh")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=engine_env(),
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"make image failed:\n{result.stderr[-6000:]}", pytrace=False)
    return result.stdout.strip().splitlines()[-1]


def run_hardened(image: str, *argv: str, entrypoint: str | None = None) -> str:
    """Run the image as the chart does, without network; its stdout (exit 0 asserted)."""
    options = [*HARDENED, "--network=none", "--rm"]
    if entrypoint is not None:
        options.append(f"--entrypoint={entrypoint}")
    return podman("run", *options, image, *argv).stdout


@contextmanager
def mounted(image: str) -> Iterator[Path]:
    """The image's root file system, mounted read-only for reading from the host."""
    path = Path(podman("image", "mount", image).stdout.strip())
    try:
        yield path
    finally:
        podman("image", "unmount", image, check=False)
