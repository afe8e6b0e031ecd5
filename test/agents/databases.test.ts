/**
 * End to end, for real: throwaway PostgreSQL 15 and MariaDB servers, the agent's files written by
 * the library's own deploy script, borgmatic 1.7 and borg from Debian. Backs up, drops the
 * databases, restores them and compares every row; runs the consistency checks, then corrupts
 * the repository and sees them fail; and makes wrong passwords and an unreachable server fail
 * loudly (exit code, "fail" ping) without touching the archives already there.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import {
  deployScript,
  initRepositoryScript,
  keyExportScript,
  renderSecretsEnv,
  resolveAgentSpec,
  secretsScript,
  type AgentSpec,
  type ResolvedAgentSpec,
} from "../../components/agents";
import {
  agentEnv,
  fakeCommand,
  freePort,
  localSpec,
  MariaServer,
  PostgresServer,
  removeTempDirs,
  failEachTestWithout,
  pgInitdb,
  run,
  runOk,
  startPingServer,
  tempDir,
  type Ping,
} from "./helpers";

const PG_PASSWORD = "pg-secret 'quoted' $dollar";
const MARIA_USER = "backup";
const MARIA_PASSWORD = "maria-secret\"x";
const PASSPHRASE = "correct horse battery staple";

let root: string;
let pg: PostgresServer;
let maria: MariaServer;
let ping: { url: string; pings: Ping[]; close: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let spec: ResolvedAgentSpec;
let script: string;

function specFor(overrides: { pgPort?: number; mariaPort?: number } = {}): AgentSpec {
  return localSpec(root, {
    databases: [
      { kind: "postgresql", name: "shop", hostname: "127.0.0.1", port: overrides.pgPort ?? pg.port, username: "postgres", passwordSecretRef: "pg" },
      { kind: "mariadb", name: "inventory", hostname: "127.0.0.1", port: overrides.mariaPort ?? maria.port, username: MARIA_USER, passwordSecretRef: "maria" },
    ],
    healthcheckUrl: ping.url,
  });
}

async function bash(scriptText: string, input?: string) {
  return run("bash", ["-c", scriptText], { env, input: input ?? "", timeoutMs: 60_000 });
}

async function deploy(s: AgentSpec) {
  const r = await bash(deployScript(s, "1.7"));
  assert.equal(r.code, 0, r.stderr);
}

async function writeSecrets(passwords: Record<string, string>) {
  const r = await bash(secretsScript(spec), renderSecretsEnv(spec, PASSPHRASE, passwords));
  assert.equal(r.code, 0, r.stderr);
}

const GOOD = { pg: PG_PASSWORD, maria: MARIA_PASSWORD };

async function archives(): Promise<string[]> {
  const r = await runOk("borg", ["list", "--short", join(root, "repo")], { env: { ...env, BORG_PASSPHRASE: PASSPHRASE } });
  return r.stdout.split("\n").filter(Boolean);
}

async function pgRows(): Promise<string> {
  return pg.sql("SELECT id, item, qty, coalesce(note, '<null>'), md5(coalesce(blob, '')::text) FROM orders ORDER BY id", "shop");
}

async function mariaRows(): Promise<string> {
  return maria.sql("SELECT id, name, price, ifnull(note, '<null>'), hex(data) FROM parts ORDER BY id", "inventory");
}

function repositoryId(): string {
  const config = readFileSync(join(root, "repo", "config"), "utf8");
  return /^id = (\w+)$/m.exec(config)?.[1] ?? "";
}

/** Row-by-row comparison that reports the first difference instead of two 150 kB strings. */
function sameRows(what: string, actual: string, expected: string) {
  const a = actual.split("\n");
  const e = expected.split("\n");
  const at = e.findIndex((line, i) => a[i] !== line);
  assert.ok(at < 0 && a.length === e.length, `${what}: ${a.length} lines restored, ${e.length} expected; first difference at line ${at + 1}:\n  restored: ${JSON.stringify(a[at])}\n  expected: ${JSON.stringify(e[at])}`);
}

let pgBefore = "";
let mariaBefore = "";

describe("borgmatic agent against real PostgreSQL and MariaDB", { timeout: 85_000 }, () => {
  const ready = failEachTestWithout(["borgmatic", "borg", "validate-borgmatic-config", "pg_dump", "pg_restore", "psql", "mysqldump", "mariadb", "mariadbd", "mariadb-install-db", "runuser", pgInitdb()]);
  before(async () => {
    if (!ready) return;
    root = tempDir("db");
    [pg, maria, ping] = await Promise.all([PostgresServer.start(PG_PASSWORD), MariaServer.start(MARIA_USER, MARIA_PASSWORD), startPingServer()]);
    env = agentEnv(root);
    fakeCommand(join(root, "fakebin"), "systemctl", "exit 0");

    await pg.sql("CREATE DATABASE shop");
    await pg.sql(
      `CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, qty int, note text, blob bytea);
       INSERT INTO orders SELECT g, 'item-' || g || ' ü€ ''quoted''', g % 17, CASE WHEN g % 5 = 0 THEN NULL ELSE repeat('n', g % 40) END,
         decode(md5(g::text), 'hex') FROM generate_series(1, 2000) g;`,
      "shop",
    );
    await maria.sql(
      `CREATE DATABASE inventory; USE inventory;
       CREATE TABLE parts (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, price DECIMAL(10,2), note TEXT NULL, data VARBINARY(32)) CHARACTER SET utf8mb4;
       INSERT INTO parts SELECT seq, CONCAT('part-', seq, ' ø "q"'), seq * 1.25, IF(seq % 7 = 0, NULL, REPEAT('x', seq % 30)), UNHEX(MD5(seq)) FROM seq_1_to_1500;`,
    );
    pgBefore = await pgRows();
    mariaBefore = await mariaRows();
    assert.equal(pgBefore.split("\n").filter(Boolean).length, 2000);
    assert.equal(mariaBefore.split("\n").filter(Boolean).length, 1500);

    // Files beside the databases, including what the strategy does not back up.
    const files = join(root, "files");
    mkdirSync(join(files, "app", ".cache"), { recursive: true });
    mkdirSync(join(files, "downloads"), { recursive: true });
    mkdirSync(join(files, "thumbs"), { recursive: true });
    writeFileSync(join(files, "app", "settings.conf"), "keep me\n");
    writeFileSync(join(files, "app", ".cache", "blob"), "cache\n");
    writeFileSync(join(files, "debian.iso"), "iso\n");
    writeFileSync(join(files, "app", "upload.tmp"), "tmp\n");
    writeFileSync(join(files, "downloads", ".nobackup"), "");
    writeFileSync(join(files, "downloads", "film.mkv"), "re-downloadable\n");
    writeFileSync(join(files, "thumbs", "CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55\n");
    writeFileSync(join(files, "thumbs", "t1.png"), "thumb\n");

    spec = resolveAgentSpec(specFor());
    script = spec.layout.scriptPath;
    await deploy(spec);
    await writeSecrets(GOOD);
  });

  after(async () => {
    await Promise.allSettled([pg?.stop(), maria?.stop(), ping?.close()]);
    removeTempDirs();
  });

  it("deploys files borgmatic's own validator accepts, and enables the timer", async () => {
    const files = readdirSync(join(root, "etc")).sort();
    assert.deepEqual(files, ["config.yaml", "secrets.env"]);
    assert.equal(statSync(join(root, "etc", "secrets.env")).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, "etc", "config.yaml")).mode & 0o777, 0o600);
    assert.equal(statSync(script).mode & 0o777, 0o700);
    const r = await run("validate-borgmatic-config", ["-c", join(root, "etc", "config.yaml")], {
      env: { ...env, HOMELAB_DB_PASSWORD_PG: "x", HOMELAB_DB_PASSWORD_MARIA: "y" },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const log = await runOk("cat", [join(root, "fakebin", "systemctl.log")]);
    assert.match(log.stdout, /enable --now homelab-backup-e2e\.timer/);
  });

  it("initialises the repository once and tolerates it existing; exports its key", async () => {
    const first = await bash(initRepositoryScript(spec, "1.7"));
    assert.equal(first.code, 0, first.stderr);
    const id = repositoryId();
    const second = await bash(initRepositoryScript(spec, "1.7"));
    assert.equal(second.code, 0, second.stderr);
    assert.equal(repositoryId(), id, "a second init must leave the repository as it was");
    const key = await bash(keyExportScript(spec));
    assert.equal(key.code, 0, key.stderr);
    assert.match(key.stdout, /^BORG_KEY [0-9a-f]{64}\n/);
  });

  it("creates an archive with consistent dumps and the files, pinging start and finish", async () => {
    ping.pings.length = 0;
    const r = await run(script, [], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const names = await archives();
    assert.equal(names.length, 1);
    assert.match(names[0] ?? "", /^e2e-\d{4}-\d\d-\d\dT/);
    assert.deepEqual(ping.pings.map((p) => p.path), ["/ping/e2e/start", "/ping/e2e"]);

    const listing = (await runOk("borg", ["list", "--short", `${join(root, "repo")}::${names[0]}`], { env: { ...env, BORG_PASSPHRASE: PASSPHRASE } })).stdout;
    assert.match(listing, /app\/settings\.conf/);
    assert.match(listing, /postgresql_databases\/127\.0\.0\.1\/shop/);
    assert.match(listing, /mysql_databases\/127\.0\.0\.1\/inventory/);
    for (const excluded of [".cache/blob", "debian.iso", "upload.tmp", "film.mkv", "t1.png"]) {
      assert.ok(!listing.includes(excluded), `${excluded} should not be backed up`);
    }
  });

  it("restores every row after both databases are dropped", async () => {
    await pg.sql("DROP DATABASE shop");
    await maria.sql("DROP DATABASE inventory");
    // pg_restore of one database restores into an existing (empty) database, as borgmatic documents.
    await pg.sql("CREATE DATABASE shop");
    const r = await run(script, ["restore", "--archive", "latest"], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    sameRows("PostgreSQL shop.orders", await pgRows(), pgBefore);
    sameRows("MariaDB inventory.parts", await mariaRows(), mariaBefore);
  });

  // borgmatic 1.7 logs the dump client's own message only when it has read it before the exit
  // (a race in its output loop), so either that message or the failed dump command will do.
  for (const [which, passwords, error] of [
    ["PostgreSQL", { ...GOOD, pg: "wrong" }, /password authentication failed|pg_dump .* returned non-zero exit status/],
    ["MariaDB", { ...GOOD, maria: "wrong" }, /Access denied|mysqldump .* returned non-zero exit status/],
  ] as const) {
    it(`fails loudly on a wrong ${which} password and keeps the archives`, async () => {
      const before = await archives();
      await writeSecrets(passwords);
      ping.pings.length = 0;
      try {
        const r = await run(script, [], { env });
        assert.notEqual(r.code, 0, "the run must fail");
        assert.match(r.stdout + r.stderr, error);
        assert.ok(ping.pings.some((p) => p.path === "/ping/e2e/fail"), `expected a fail ping, got ${JSON.stringify(ping.pings)}`);
      } finally {
        await writeSecrets(GOOD);
      }
      assert.deepEqual(await archives(), before);
    });
  }

  it("fails loudly when a database server is unreachable and keeps the archives", async () => {
    const before = await archives();
    const closed = await freePort();
    await deploy(specFor({ pgPort: closed }));
    ping.pings.length = 0;
    try {
      const r = await run(script, [], { env });
      assert.notEqual(r.code, 0, "the run must fail");
      assert.match(r.stdout + r.stderr, /Connection refused|could not connect|pg_dump .* returned non-zero exit status/i);
      assert.ok(ping.pings.some((p) => p.path === "/ping/e2e/fail"), `expected a fail ping, got ${JSON.stringify(ping.pings)}`);
    } finally {
      await deploy(spec);
    }
    assert.deepEqual(await archives(), before);
    const again = await run(script, [], { env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((await archives()).length, before.length + 1);
  });

  it("runs the consistency checks (repository, archives, extract, data): the archives written before the failures all pass", async () => {
    const r = await run(script, ["check", "--force"], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("the checks fail once a segment of the repository is corrupted", async () => {
    const dataDir = join(root, "repo", "data", "0");
    const segments = readdirSync(dataDir)
      .map((f) => join(dataDir, f))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    const largest = segments[0] as string;
    const fd = openSync(largest, "r+");
    const size = statSync(largest).size;
    writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, Math.floor(size / 2));
    closeSync(fd);
    const r = await run(script, ["check", "--force"], { env });
    assert.notEqual(r.code, 0, `check must fail on a corrupted repository:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /corrupt|checksum|mismatch|error/i);
  });
});
