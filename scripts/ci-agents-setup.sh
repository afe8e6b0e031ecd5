#!/usr/bin/env bash
# Installs what the host-agent tests (test/agents/) run for real, all from Debian 12's packages:
# PostgreSQL 15 and MariaDB (servers and clients: the tests start throwaway servers of their own
# in temp dirs, never the packaged services), borgmatic 1.7 and borg, and systemd for
# systemd-analyze. Idempotent and quiet: with everything present it only checks; otherwise it
# prints nothing unless apt fails, and then it prints apt's output.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have borgmatic || need+=(borgmatic)
have validate-borgmatic-config || need+=(borgmatic)
have borg || need+=(borgbackup)
have systemd-analyze || need+=(systemd)
have pg_dump && have pg_restore && have psql || need+=(postgresql-client)
# initdb and postgres live in the versioned bin dir, not on PATH.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
have mariadbd && have mariadb-install-db || need+=(mariadb-server)
have mysqldump && have mariadb || need+=(mariadb-client)
have runuser || need+=(util-linux)

if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ci-agents-setup: missing packages ${need[*]}; run this script as root (it uses apt-get)" >&2
  exit 1
fi

# The postgresql and mariadb-server packages start their system services on install; the tests
# use servers of their own, so keep the packaged ones from starting (a policy that exists is kept).
policy=/usr/sbin/policy-rc.d
created_policy=0
log=$(mktemp)
cleanup() {
  if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi
  rm -f "$log"
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
packages=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')
# shellcheck disable=SC2086
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "ci-agents-setup: installing $packages failed" >&2
  exit 1
fi
