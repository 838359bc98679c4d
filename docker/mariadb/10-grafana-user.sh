#!/bin/sh
# Runs once, when the data volume is created: a read-only user for Grafana (personal data in the
# kefu database is encrypted; the dashboard's queries read analytics_events only).
set -eu
mariadb -uroot -p"$MARIADB_ROOT_PASSWORD" <<SQL
CREATE USER IF NOT EXISTS 'grafana'@'%' IDENTIFIED BY '${GRAFANA_DB_PASSWORD}';
GRANT SELECT ON kefu.* TO 'grafana'@'%';
SQL
