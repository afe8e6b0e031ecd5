/**
 * The agent's entry point on the host: loads the secrets file, runs borgmatic with the agent's
 * config, and stops and starts the containers whose volumes need a consistent copy.
 *
 * borgmatic calls `quiesce-stop` right before it creates the archive and `quiesce-start` right
 * after it (and from on_error), so containers are down only while their files are read. The
 * containers the script stopped are written to a file before each stop, which makes every later
 * `quiesce-start` (the hook, on_error, the script's EXIT trap, systemd's ExecStopPost) start
 * exactly those, and never one an operator had stopped on purpose.
 */
import { borgSshCommand } from "./borgmatic-config";
import { agentFiles, resolved, type AgentSpec, type ResolvedAgentSpec } from "./spec";
import { shellQuote } from "./shell";

export function renderQuiesceScript(input: AgentSpec | ResolvedAgentSpec): string {
  const spec = resolved(input);
  const files = agentFiles(spec);
  const stop = spec.docker.filter((d) => d.stopDuringBackup).map((d) => shellQuote(d.container));
  const repos = [spec.repository.url].map((u) => shellQuote(u)).join(" ");
  const ssh = borgSshCommand(spec);
  const sshExport = ssh ? `export BORG_RSH=${shellQuote(ssh)}\n` : "";
  return `#!/bin/bash
# homelab-backup agent "${spec.name}": runs borgmatic with this agent's config and secrets.
# Written by Pulumi: edits here are overwritten.
#   ${files.script}                      scheduled run (prune, compact, create, check)
#   ${files.script} restore --archive latest   any other borgmatic action and arguments
#   ${files.script} quiesce-stop | quiesce-start   the container steps borgmatic's hooks call
set -euo pipefail
umask 077

CONFIG=${shellQuote(files.config)}
SECRETS=${shellQuote(files.secrets)}
STOPPED=${shellQuote(files.stoppedFile)}
QUIESCE=(${stop.join(" ")})

quiesce_stop() {
  mkdir -p "$(dirname "$STOPPED")"
  local c running
  for c in "\${QUIESCE[@]}"; do
    if ! running=$(docker inspect --format '{{.State.Running}}' "$c" 2>/dev/null); then
      echo "homelab-backup: container $c does not exist; backing up its volumes as they are" >&2
      continue
    fi
    [ "$running" = true ] || continue
    # Recorded before the stop, so a stop that fails half-way is still undone.
    echo "$c" >>"$STOPPED"
    docker stop "$c" >/dev/null
  done
}

quiesce_start() {
  [ -f "$STOPPED" ] || return 0
  local c rc=0
  while IFS= read -r c; do
    [ -n "$c" ] || continue
    docker start "$c" >/dev/null || { echo "homelab-backup: could not start container $c" >&2; rc=1; }
  done <"$STOPPED"
  # Kept on failure, so the next quiesce-start tries again.
  [ "$rc" -ne 0 ] || rm -f "$STOPPED"
  return "$rc"
}

case "\${1:-}" in
  quiesce-stop) quiesce_stop; exit ;;
  quiesce-start) quiesce_start; exit ;;
esac

if [ ! -r "$SECRETS" ]; then
  echo "homelab-backup: $SECRETS is missing; it holds the repository passphrase (pulumi up writes it)" >&2
  exit 1
fi
set -a
. "$SECRETS"
set +a

# Whatever ends borgmatic (failure, TERM from systemd, Ctrl-C), stopped containers start again.
# Its output goes to the journal through the unit's stdout; syslog as well would log it twice.
trap 'quiesce_start || true' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
if [ "$#" -gt 0 ]; then
  exec borgmatic --config "$CONFIG" --syslog-verbosity -1 "$@"
fi

# A database dump that fails mid-stream can still leave a new archive holding a partial dump,
# which "restore --archive latest" would pick. A failed scheduled run removes the archives it
# created (and only those); earlier archives are never touched.
${sshExport}REPOS=(${repos})
archives() { borg list --short --glob-archives ${shellQuote(`${spec.name}-*`)} "$1" 2>/dev/null | sort || true; }
declare -A BEFORE
for repo in "\${REPOS[@]}"; do BEFORE[$repo]="$(archives "$repo")"; done
set +e
borgmatic --config "$CONFIG" --syslog-verbosity -1
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  for repo in "\${REPOS[@]}"; do
    comm -13 <(printf '%s\n' "\${BEFORE[$repo]}") <(archives "$repo") | while read -r name; do
      [ -n "$name" ] || continue
      echo "homelab-backup: removing $name, created by this failed run" >&2
      borg delete "$repo::$name" || true
    done
  done
fi
exit "$rc"
`;
}
