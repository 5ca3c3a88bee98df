# ParkHub's one image: every process of the distributed mode (docker-compose.yml) runs from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PARKHUB_VAR_DIR=/var/lib/parkhub

WORKDIR /src
COPY . .
RUN pip install . \
 && install -m 0755 deploy/healthcheck.py /usr/local/bin/parkhub-healthcheck \
 && useradd --system --home-dir /var/lib/parkhub --shell /usr/sbin/nologin parkhub \
 && mkdir -p /var/lib/parkhub /var/lib/parkhub-nginx \
 && chown parkhub:parkhub /var/lib/parkhub /var/lib/parkhub-nginx

WORKDIR /var/lib/parkhub
USER parkhub
EXPOSE 8100 8101 8102 8103 8104
ENTRYPOINT ["parkhub"]
CMD ["--help"]
