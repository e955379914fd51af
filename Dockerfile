# One image for every service; the command picks which (lms serve <service>, lms router ...).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# DejaVu lets certificate PDFs print any Latin, Greek or Cyrillic name (else Latin-1 only).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml constraints.txt README.md ./
COPY common common
COPY router router
COPY subgraphs subgraphs
COPY lms lms
COPY schema schema
# The runtime dependencies only: no extra (local, dev, bench) is needed to serve.
RUN pip install --no-cache-dir -c constraints.txt . && useradd --system lms
USER lms
ENV LMS_HOST=0.0.0.0
EXPOSE 4000 8081 8082 8083 8084 8085
CMD ["lms", "serve", "users"]
