/**
 * Stand-ins for the PVE commands the restore test calls (qm, pct, qmrestore, pvesm, pvesh), as
 * bash scripts first on PATH. They keep their state in a directory (one folder per guest with
 * its type, config, status, node and pool; a list of backups; the configs the backups hold), log
 * every call, and print what the real tools print:
 *
 * - `pvesm list <storage> --content backup`: pve-storage src/PVE/CLI/pvesm.pm `$print_content`,
 *   a header `Volid Format Type Size VMID` then `%-<w>s %-7s %-9s %<d>s %d` per volume; for a
 *   PBS storage (src/PVE/Storage/PBSPlugin.pm `list_volumes`, `print_volid`) the volid is
 *   `<storage>:backup/<vm|ct>/<id>/<strftime %FT%TZ>`, format `pbs-vm`/`pbs-ct`, type `backup`.
 * - `pvesh get /cluster/resources --type vm --output-format json`: one object per guest with
 *   id `qemu/<id>`, vmid, type, node, status, template, name, and pool and tags ("a;b") when set.
 * - `qm config` / `pct config`: `key: value` lines in key order (qemu-server CLI/qm.pm);
 *   `qm status`: `status: running`; `qm guest cmd <id> ping` prints nothing on success and dies
 *   with "No QEMU guest agent configured" / "VM <id> is not running" / "QEMU guest agent is not
 *   running" (qemu-server QemuServer/Agent.pm `assert_agent_available`).
 * - restores refuse an existing id ("unable to restore VM <id> - VM <id> already exists"), and
 *   destroy refuses a protected or running VM, as PVE does.
 *
 * - `ip link show dev <br>` / `ip -o link show master <br>` (iproute2): the bridge, and one line
 *   per port (`<n>: <port>: <...> master <br> ...`).
 *
 * Behaviour switches are files in `<state>/behaviour/`: restore-fail, restore-sleep, start-fail,
 * start-stops, ping (ok | fail | hang | after:N), destroy-fail (failures before success).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/** The fake commands, bash files beside this one: copied into a bin dir that goes first on PATH. */
const SOURCE = join(__dirname, "fake-pve");
const COMMANDS = ["qm", "pct", "qmrestore", "pvesm", "pvesh", "ip"];

export interface FakeGuest {
  type: "qemu" | "lxc";
  /** Config lines without the trailing newline, e.g. { net0: "virtio=...,bridge=vmbr0", agent: "1" }. */
  config: Record<string, string>;
  status?: "running" | "stopped";
  node?: string;
  pool?: string;
}

export class FakePve {
  readonly bin: string;
  readonly state: string;

  constructor(readonly root: string, storage: string) {
    this.bin = join(root, "pvebin");
    this.state = join(root, "pve");
    for (const d of [this.bin, join(this.state, "guests"), join(this.state, "backup-configs"), join(this.state, "behaviour"), join(this.state, "bridges")]) mkdirSync(d, { recursive: true });
    writeFileSync(join(this.state, "storage"), storage);
    writeFileSync(join(this.state, "backups.list"), "");
    copyFileSync(join(SOURCE, "common.sh"), join(this.bin, "common.sh"));
    for (const name of COMMANDS) {
      copyFileSync(join(SOURCE, name), join(this.bin, name));
      chmodSync(join(this.bin, name), 0o755);
    }
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${this.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, FAKE_PVE: this.state, LC_ALL: "C", ...extra };
  }

  addGuest(id: number, guest: FakeGuest): void {
    const dir = join(this.state, "guests", String(id));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "type"), `${guest.type}\n`);
    writeFileSync(join(dir, "status"), `${guest.status ?? "running"}\n`);
    writeFileSync(join(dir, "node"), `${guest.node ?? localNode()}\n`);
    if (guest.pool) writeFileSync(join(dir, "pool"), guest.pool);
    writeFileSync(join(dir, "conf"), configText(guest.config));
  }

  /** A backup on the storage; `config` is what a restore of it (and of every other backup of the guest) brings back. */
  addBackup(storage: string, kind: "vm" | "ct", vmid: number, time: Date, config: Record<string, string>, size = 34359738368): string {
    const volid = `${storage}:backup/${kind}/${vmid}/${time.toISOString().replace(/\.\d{3}Z$/, "Z")}`;
    writeFileSync(join(this.state, "backups.list"), `${readFileSync(join(this.state, "backups.list"), "utf8")}${volid} ${size}\n`);
    writeFileSync(join(this.state, "backup-configs", `${vmid}.conf`), configText(config));
    return volid;
  }

  /** A bridge on the node with these ports (none: isolated). */
  bridge(name: string, ports: string[] = []): void {
    writeFileSync(join(this.state, "bridges", name), ports.map((p) => `${p}\n`).join(""));
  }

  removeBridge(name: string): void {
    rmSync(join(this.state, "bridges", name), { force: true });
  }

  behave(name: string, value: string | undefined): void {
    const path = join(this.state, "behaviour", name);
    if (value === undefined) rmSync(path, { force: true });
    else writeFileSync(path, value);
  }

  resetBehaviour(): void {
    for (const f of readdirSync(join(this.state, "behaviour"))) rmSync(join(this.state, "behaviour", f));
    rmSync(join(this.state, "ping-count"), { force: true });
  }

  guests(): number[] {
    return readdirSync(join(this.state, "guests")).map(Number).sort((a, b) => a - b);
  }

  config(id: number): Record<string, string> {
    const text = readFileSync(join(this.state, "guests", String(id), "conf"), "utf8");
    return Object.fromEntries(text.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]));
  }

  status(id: number): string {
    return readFileSync(join(this.state, "guests", String(id), "status"), "utf8").trim();
  }

  calls(): string[] {
    const path = join(this.state, "calls.log");
    return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : [];
  }

  /** The config each guest had at the moment it was started: `[id, config]` per start. */
  startConfigs(): [number, Record<string, string>][] {
    const path = join(this.state, "start-configs.log");
    if (!existsSync(path)) return [];
    return readFileSync(path, "utf8")
      .split(/^== /m)
      .filter(Boolean)
      .map((block) => {
        const [head, ...lines] = block.split("\n").filter(Boolean);
        return [Number(head), Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]))];
      });
  }

  clearLogs(): void {
    for (const f of ["calls.log", "start-configs.log"]) rmSync(join(this.state, f), { force: true });
  }
}

function configText(config: Record<string, string>): string {
  return Object.keys(config)
    .sort()
    .map((k) => `${k}: ${config[k]}\n`)
    .join("");
}

export function localNode(): string {
  // As the script and PVE name the node: the host name up to its first dot.
  return hostname().split(".")[0] as string;
}
