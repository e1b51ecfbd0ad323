# syntax=docker/dockerfile:1
FROM python:3.11-slim-bookworm AS build
WORKDIR /srv/lianyun
RUN python -m venv /venv
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN /venv/bin/pip install --no-cache-dir --upgrade pip \
 && /venv/bin/pip install --no-cache-dir -e .

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /srv/lianyun lianyun \
 && mkdir -p /data \
 && chown lianyun /data
COPY --from=build /venv /venv
COPY --from=build /srv/lianyun /srv/lianyun
WORKDIR /data
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LIANYUN_DATABASE_URL=sqlite:////data/lianyun.db \
    LIANYUN_DEV_SECRETS_FILE=/data/dev-secrets.json
USER lianyun
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["lianyun", "serve", "--host", "0.0.0.0", "--port", "8000"]
