#!/usr/bin/env bash
# Run by `npm test` first: the Debian packages the tests use for real. The API test servers
# make self-signed certificates with openssl; the host-agent tests run PostgreSQL, MariaDB,
# borgmatic/borg and systemd-analyze (scripts/ci-agents-setup.sh). Installs only what is missing,
# and only as root; otherwise it says what to install.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v openssl >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-deps: openssl is missing; install it (apt-get install openssl) or run npm test as root" >&2
    exit 1
  fi
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi
bash ./ci-agents-setup.sh
