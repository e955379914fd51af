# One image for every service; the command picks which (lms serve <service>, lms router ...).

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

FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# DejaVu lets certificate PDFs print any Latin, Greek or Cyrillic name (else Latin-1 only);
# pg_dump and pg_restore (as new as the server or newer) serve `lms backup` and `lms restore`.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends fonts-dejavu-core postgresql-client \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml constraints.txt README.md ./
COPY common common
COPY router router
COPY subgraphs subgraphs
COPY lms lms
COPY schema schema
COPY router.yaml router.yaml
COPY graphiql_assets graphiql_assets
COPY --from=graphiql /out/node_modules graphiql_assets/node_modules
# The runtime dependencies only: no extra (local, dev, bench) is needed to serve.
RUN pip install --no-cache-dir -c constraints.txt . && useradd --system lms
USER lms
ENV LMS_HOST=0.0.0.0
EXPOSE 4000 8081 8082 8083 8084 8085
CMD ["lms", "serve", "users"]
