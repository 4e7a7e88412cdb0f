#!/bin/sh
# Patroni's post_bootstrap for KiKonect: once, on the member that creates the cluster, as the superuser. $1 is the
# connection string Patroni gives; KIKONECT_DB_PASSWORD (in Patroni's environment) is the password KiKonect's nodes use.
set -eu
[ -n "${KIKONECT_DB_PASSWORD:-}" ] || { echo "post-bootstrap: set KIKONECT_DB_PASSWORD in Patroni's environment" >&2; exit 1; }
psql "$1" -v ON_ERROR_STOP=1 -q -v pw="$KIKONECT_DB_PASSWORD" <<'SQL'
CREATE ROLE kikonect LOGIN PASSWORD :'pw';
CREATE DATABASE kikonect OWNER kikonect;
SQL
