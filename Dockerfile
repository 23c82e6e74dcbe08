# kron operator image: `make image` (buildah, on a base made from Debian packages), or
# `docker build -t <registry>/kron:<version> .` on the release base below.
#
# Two stages: the first installs kron's locked runtime dependencies (hash-checked) and
# kron's wheel into a virtualenv; the second copies that virtualenv onto a clean Python.
# No compiler, pip, pip cache, sources or test tools reach the final image, and no
# setuid/setgid file is left in it.
#
# `--build-arg KRON_UI=1` adds the `kron ui` extra (Jinja2, from its own hashed lock,
# operator/ui-requirements.lock) for an image that also serves the web page behind an
# authentication proxy (`kron ui --auth bearer`, docs/cli/ui.md); without it the image
# holds the operator's runtime only.
#
# The release base is pinned by tag and by the digest of its multi-platform index; bump
# both together (`docker buildx imagetools inspect python:<tag>` prints the digest).
# `make image` passes the locally made base instead (hack/image-base.sh).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1

FROM ${PYTHON_IMAGE} AS build
# The CA bundle and package index the build's pip uses, when not its defaults; `make
# image` sets them to what the host's pip uses (the bundle is bind-mounted, never copied).
ARG PIP_CERT
ARG PIP_INDEX_URL
ARG KRON_UI=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The locks alone first: this layer is reused until a lock changes (`make lock`). The
# dependencies' own test suites (kubernetes' *_test.py, websocket/tests, ...) go.
COPY operator/requirements.lock operator/build-requirements.lock operator/ui-requirements.lock \
     operator/
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes --only-binary :all: \
       -r operator/build-requirements.lock \
    && python -m venv /opt/kron \
    && /opt/kron/bin/pip install --require-hashes --only-binary :all: \
       -r operator/requirements.lock ${KRON_UI:+-r operator/ui-requirements.lock} \
    && find /opt/kron/lib -depth \( -type d -name tests -o -name 'test_*.py' \
       -o -name '*_test.py' -o -name 'test_*.cpython-*.pyc' -o -name '*_test.cpython-*.pyc' \) \
       -exec rm -rf {} +
COPY pyproject.toml README.md ./
COPY operator/ operator/
# kron itself with --no-deps (its dependencies are the locked ones above; `pip check`
# proves they satisfy its wheel), then the venv's own pip and setuptools go.
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/kron/bin/pip install --no-deps /wheels/kron-*.whl \
    && /opt/kron/bin/pip check \
    && /opt/kron/bin/pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="kron" \
      org.opencontainers.image.description="Kubernetes operator for scheduled workloads" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed numeric uid/gid (Kubernetes' runAsNonRoot can only verify a numeric USER).
# Then what kron never runs goes from the base: the setuid/setgid bits of su, passwd,
# chsh, newgrp, unix_chkpwd and the like (no program in the image can gain privileges,
# whatever allowPrivilegeEscalation says), and the system Python's pip, setuptools and
# wheel with ensurepip and its bundled wheels (nothing can install packages at run
# time). The release base has them in /usr/local, the Debian-made one in /usr.
RUN groupadd --system --gid 65532 kron \
    && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin kron \
    && find / -xdev -type f -perm /6000 -exec chmod ug-s {} + \
    && rm -rf /usr/local/bin/pip /usr/local/bin/pip3* /usr/local/bin/wheel \
       /usr/local/lib/python3*/site-packages/pip /usr/local/lib/python3*/site-packages/pip-* \
       /usr/local/lib/python3*/site-packages/setuptools \
       /usr/local/lib/python3*/site-packages/setuptools-* \
       /usr/local/lib/python3*/site-packages/pkg_resources \
       /usr/local/lib/python3*/site-packages/_distutils_hack \
       /usr/local/lib/python3*/site-packages/distutils-precedence.pth \
       /usr/local/lib/python3*/site-packages/wheel /usr/local/lib/python3*/site-packages/wheel-* \
       /usr/local/lib/python3*/ensurepip /usr/lib/python3*/ensurepip \
       /usr/share/python-wheels
COPY --from=build /opt/kron /opt/kron
# PYTHONDONTWRITEBYTECODE: the root file system is read-only in the chart (the venv's
# bytecode was compiled at install time). PYTHONTZPATH empty: time zones come from the
# `tzdata` package, a declared dependency of kron installed in the venv, so the zone
# database is the one the wheel set was resolved with, not whatever the OS carries.
ENV PATH=/opt/kron/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONTZPATH="" \
    HOME=/tmp
USER 65532:65532
WORKDIR /tmp
# /metrics, /healthz and /readyz (KRON_METRICS_PORT).
EXPOSE 8080
ENTRYPOINT ["kron", "run"]
