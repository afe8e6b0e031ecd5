#!/usr/bin/env bash
# Run by `npm test` first: the Debian packages the tests use for real. The API test servers
# make self-signed certificates with openssl; the host-agent tests run PostgreSQL, MariaDB,
# borgmatic/borg and systemd-analyze (scripts/ci-agents-setup.sh). Installs only what is missing,
# and only as root; otherwise it says what to install.
set -euo pipefail
cd "$(dirname "$0")"
# openssl: test certificates and the hook's fingerprint check; curl and jq: the generated
# monitoring and hook scripts; util-linux's `script`: the restore wizard's pseudo-terminal tests.
need=()
for tool in openssl curl jq script; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$([ "$tool" = script ] && echo bsdutils || echo "$tool")")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-deps: ${need[*]} missing; install them (apt-get install ${need[*]}) or run npm test as root" >&2
    exit 1
  fi
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
bash ./ci-agents-setup.sh
