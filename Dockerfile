# kron operator image: `docker build -t <registry>/kron:<version> .`
#
# Two stages: the first builds kron's wheel and installs it, with its declared runtime
# dependencies only, into a virtualenv; the second copies that virtualenv onto a clean
# slim Python. No compiler, pip cache, sources or test tools reach the final image.
#
# The base is pinned by tag and by the digest of its multi-platform index; bump both
# together (`docker buildx imagetools inspect python:<tag>` prints the digest).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the wheel is built from (see .dockerignore).
COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/kron \
    && /opt/kron/bin/pip install /wheels/kron-*.whl \
    && /opt/kron/bin/pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="kron" \
      org.opencontainers.image.description="Kubernetes operator for scheduled workloads" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed numeric uid/gid (Kubernetes' runAsNonRoot can only verify a numeric USER).
RUN groupadd --system --gid 65532 kron \
    && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin kron
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
