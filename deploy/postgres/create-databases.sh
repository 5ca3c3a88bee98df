#!/bin/sh
# One database per owner (docs: DESIGN.md "own database each"), created when the cluster is first
# initialised by the postgres image's entrypoint. Migrations (`parkhub migrate`) build the tables.
set -eu
for name in gateway booking consulting finance notify; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -c "CREATE DATABASE parkhub_${name} OWNER \"${POSTGRES_USER}\""
done
