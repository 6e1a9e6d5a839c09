# The API in a container: `docker build -t mer . && docker run -p 8000:8000 -e MER_API_KEY=secret mer`
# Mirrors the README's run command: install, then `mer run` (clean, train + register a champion when the registry has
# none, predict the example file, serve the API) on all interfaces. Mount /app/state (registry, catalog) and
# /app/mlartifacts (model files) as volumes to keep them across containers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MER_HOME=/app \
    MLFLOW_TRACKING_URI=sqlite:////app/state/mlflow.db \
    MER_DATABASE_URL=sqlite:////app/state/catalog.db \
    OPENBLAS_NUM_THREADS=1

WORKDIR /app
RUN useradd --create-home --uid 10001 mer

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install .

COPY params.yaml ./
COPY data/raw ./data/raw
COPY data/examples ./data/examples
RUN mkdir -p /app/state /app/artifacts /app/reports /app/mlartifacts /app/data/interim /app/data/processed \
    && chown -R mer:mer /app
USER mer

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"

CMD ["mer", "run", "--host", "0.0.0.0", "--port", "8000"]
