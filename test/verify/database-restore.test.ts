/**
 * The database restore test for real: throwaway PostgreSQL and MariaDB servers, the agent's files
 * deployed by the agent's own deploy script, borgmatic 1.7 writing an archive with named and
 * "all" dumps of both, then the generated restore-test script restoring each database into a
 * scratch database, checking it and dropping it. Failing checks, corrupt and empty dumps, an RTO
 * overrun, a crashed run's leftovers and a stop in the middle all end with no scratch database
 * left and the production databases as they were.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { deployScript, initRepositoryScript, renderSecretsEnv, resolveAgentSpec, secretsScript, type ResolvedAgentSpec } from "../../components/agents";
import { renderDatabaseRestoreScript, type DatabaseRestoreTestScriptOptions } from "../../components/verify";
import { agentEnv, failEachTestWithout, fakeCommand, localSpec, MariaServer, PostgresServer, pgInitdb, removeTempDirs, run, runOk, tempDir } from "../agents/helpers";

const PG_PASSWORD = "pg 'secret' $x";
const MARIA_USER = "backup";
const MARIA_PASSWORD = 'maria"secret';
const PASSPHRASE = "restore test passphrase";

let root: string;
let pg: PostgresServer;
let maria: MariaServer;
let env: NodeJS.ProcessEnv;
let spec: ResolvedAgentSpec;
let latestArchive = "";

interface DbLine {
  ts: string;
  kind: string;
  site: string;
  service: string;
  agent: string;
  engine: string | null;
  database: string | null;
  archive: string | null;
  restoreSeconds: number;
  totalSeconds: number;
  rtoSeconds: number;
  result: "pass" | "fail";
  reason?: string;
}

const LOG = () => join(root, "log", "restore-tests.jsonl");
const NOTIFY_LOG = () => join(root, "notify.log");

function options(extra: Partial<DatabaseRestoreTestScriptOptions> = {}): DatabaseRestoreTestScriptOptions {
  return { site: "homelab", agent: spec, rtoMinutes: 60, logPath: LOG(), stateDir: join(root, "rt-state"), notifyCommand: join(root, "notify"), ...extra };
}

/** Runs a generated script; returns its result and the log lines and notifications it added. */
async function runTest(extra: Partial<DatabaseRestoreTestScriptOptions> = {}) {
  const path = join(root, "bin", "db-restore-test");
  writeFileSync(path, renderDatabaseRestoreScript(options(extra)));
  chmodSync(path, 0o700);
  rmSync(LOG(), { force: true });
  rmSync(NOTIFY_LOG(), { force: true });
  const r = await run(path, [], { env, timeoutMs: 60_000 });
  const lines = existsSync(LOG()) ? readFileSync(LOG(), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as DbLine) : [];
  const notes = existsSync(NOTIFY_LOG()) ? readFileSync(NOTIFY_LOG(), "utf8").split("\0\n").filter(Boolean) : [];
  return { ...r, lines, notes };
}

async function scratchDatabases(): Promise<string[]> {
  const pgNames = (await pg.sql("SELECT datname FROM pg_database WHERE datname LIKE 'restoretest%' ORDER BY 1")).split("\n").filter(Boolean);
  const myNames = (await maria.sql("SHOW DATABASES LIKE 'restoretest%'")).split("\n").filter(Boolean);
  return [...pgNames.map((n) => `pg:${n}`), ...myNames.map((n) => `maria:${n}`)];
}

/** Every row of every production table, hashed, and the list of databases: what must never change. */
async function production(): Promise<string> {
  const [shop, crm, my] = await Promise.all([
    pg.sql("SELECT (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o) || ' ' || (SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database)", "shop"),
    pg.sql("SELECT (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c) || ' ' || (SELECT md5(string_agg(line, ',' ORDER BY line)) FROM notes)", "crm"),
    maria.sql(
      `SELECT (SELECT md5(group_concat(concat_ws('|', id, name, price, ifnull(note, 'N')) ORDER BY id)) FROM inventory.parts),
              (SELECT md5(group_concat(concat_ws('|', id, title) ORDER BY id)) FROM wiki.pages),
              (SELECT group_concat(schema_name ORDER BY schema_name) FROM information_schema.schemata)`,
    ),
  ]);
  return [shop, crm, my].join("\n");
}

const key = (l: DbLine) => `${l.engine}.${l.database}`;

describe("database restore test against real PostgreSQL and MariaDB", { timeout: 120_000 }, () => {
  const ready = failEachTestWithout(["borgmatic", "borg", "pg_dump", "pg_dumpall", "pg_restore", "psql", "mysqldump", "mysql", "mariadbd", "mariadb-install-db", "runuser", pgInitdb()]);
  let before0 = "";

  before(async () => {
    if (!ready) return;
    root = tempDir("verify-db");
    [pg, maria] = await Promise.all([PostgresServer.start(PG_PASSWORD), MariaServer.start(MARIA_USER, MARIA_PASSWORD)]);
    env = agentEnv(root);
    fakeCommand(join(root, "fakebin"), "systemctl", "exit 0");
    mkdirSync(join(root, "bin"), { recursive: true });
    mkdirSync(join(root, "files"), { recursive: true });
    writeFileSync(join(root, "files", "keep"), "x\n");
    writeFileSync(join(root, "notify"), `#!/bin/bash\nprintf '%s|%s|%s\\0\\n' "$1" "$2" "$3" >> ${JSON.stringify(NOTIFY_LOG())}\n`);
    chmodSync(join(root, "notify"), 0o755);

    await pg.sql("CREATE DATABASE shop");
    await pg.sql("CREATE DATABASE crm");
    await pg.sql(
      `CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, qty int, note text);
       INSERT INTO orders SELECT g, 'item-' || g || ' ü ''q''', g % 13, CASE WHEN g % 4 = 0 THEN NULL ELSE E'tab\\there' END FROM generate_series(1, 2000) g;`,
      "shop",
    );
    // Lines a careless cut of a pg_dumpall would take for headers or for statements on the production database.
    await pg.sql(
      `CREATE TABLE customers (id int PRIMARY KEY, name text); INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g;
       CREATE TABLE notes (line text); INSERT INTO notes VALUES ('-- Database "x" dump'), (E'\\\\connect shop'), ('CREATE DATABASE evil;'), ('ALTER TABLE x OWNER TO y;');`,
      "crm",
    );
    await maria.sql(
      `CREATE DATABASE inventory; USE inventory;
       CREATE TABLE parts (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, price DECIMAL(10,2), note TEXT NULL) CHARACTER SET utf8mb4;
       INSERT INTO parts SELECT seq, CONCAT('part-', seq, ' ø "q"'), seq * 1.25, IF(seq % 7 = 0, NULL, 'USE inventory;') FROM seq_1_to_1500;
       CREATE DATABASE wiki; USE wiki;
       CREATE TABLE pages (id INT PRIMARY KEY, title VARCHAR(100)); INSERT INTO pages SELECT seq, CONCAT('page ', seq) FROM seq_1_to_40;`,
    );

    spec = resolveAgentSpec(
      localSpec(root, {
        databases: [
          { kind: "postgresql", name: "shop", hostname: "127.0.0.1", port: pg.port, username: "postgres", passwordSecretRef: "pg" },
          { kind: "postgresql", name: "all", hostname: "127.0.0.1", port: pg.port, username: "postgres", passwordSecretRef: "pg" },
          { kind: "mariadb", name: "inventory", hostname: "127.0.0.1", port: maria.port, username: MARIA_USER, passwordSecretRef: "maria" },
          { kind: "mariadb", name: "all", hostname: "127.0.0.1", port: maria.port, username: MARIA_USER, passwordSecretRef: "maria" },
        ],
      }),
    );
    const bash = (script: string, input = "") => run("bash", ["-c", script], { env, input });
    for (const [script, input] of [
      [deployScript(spec, "1.7"), ""],
      [secretsScript(spec), renderSecretsEnv(spec, PASSPHRASE, { pg: PG_PASSWORD, maria: MARIA_PASSWORD })],
      [initRepositoryScript(spec, "1.7"), ""],
    ] as const) {
      const r = await bash(script, input);
      assert.equal(r.code, 0, r.stderr);
    }
    // Only `create`: the scheduled run's prune and consistency checks have tests of their own (test/agents).
    const backup = await run(spec.layout.scriptPath, ["create"], { env });
    assert.equal(backup.code, 0, backup.stdout + backup.stderr);
    latestArchive = (await runOk("borg", ["list", "--short", spec.repository.url], { env: { ...env, BORG_PASSPHRASE: PASSPHRASE } })).stdout.trim();
    assert.match(latestArchive, /^e2e-\d{4}-/);
    before0 = await production();
  });

  after(async () => {
    await Promise.allSettled([pg?.stop(), maria?.stop()]);
    removeTempDirs();
  });

  it("restores every database of the named and the \"all\" dumps into scratch databases, checks them and drops them", async () => {
    const r = await runTest();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines.map(key).sort(), ["mariadb.inventory", "mariadb.inventory", "mariadb.wiki", "postgresql.crm", "postgresql.shop", "postgresql.shop"]);
    for (const l of r.lines) {
      assert.equal(l.result, "pass", JSON.stringify(l));
      assert.equal(l.kind, "database");
      assert.equal(l.site, "homelab");
      assert.equal(l.service, "database-vms");
      assert.equal(l.agent, "e2e");
      assert.equal(l.archive, latestArchive);
      assert.equal(l.rtoSeconds, 3600);
      assert.equal(l.reason, undefined);
      assert.ok(l.totalSeconds >= l.restoreSeconds && l.restoreSeconds > 0, JSON.stringify(l));
      assert.ok(!Number.isNaN(Date.parse(l.ts)));
      assert.deepEqual(Object.keys(l), ["ts", "kind", "site", "service", "agent", "engine", "database", "archive", "restoreSeconds", "totalSeconds", "rtoSeconds", "result"]);
    }
    assert.deepEqual(await scratchDatabases(), []);
    assert.equal(await production(), before0, "production databases unchanged");
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0] ?? "", /^info\|homelab-backup database restore test \(e2e, homelab\): pass\|/);
    assert.ok(!existsSync(join(root, "rt-state", "work")), "extracted dumps are removed");
  });

  it("restores the data itself: check queries on the rows pass; a false one and an erroring one fail; every scratch database is dropped, a crashed run's too", async () => {
    // Left by a crashed run, on both servers.
    await pg.sql("CREATE DATABASE restoretest_shop");
    await maria.sql("CREATE DATABASE restoretest_wiki");
    await pg.sql("CREATE DATABASE restoretest_old");
    const r = await runTest({
      databases: [
        { kind: "postgresql", database: "shop" },
        { kind: "postgresql", database: "crm" },
        { kind: "mariadb", database: "inventory" },
        { kind: "mariadb", database: "wiki" },
      ],
      checkQueries: {
        "postgresql.shop": "SELECT count(*) = 2000 AND sum(qty) = (SELECT sum(g % 13) FROM generate_series(1, 2000) g) FROM orders",
        // From the "all" dump: its COPY data holds lines that look like section headers and statements.
        "postgresql.crm": "SELECT count(*) = 50 AND (SELECT string_agg(line, '|' ORDER BY line) FROM notes) = '-- Database \"x\" dump|ALTER TABLE x OWNER TO y;|CREATE DATABASE evil;|\\connect shop' FROM customers",
        "mariadb.inventory": "SELECT count(*) FROM no_such_table",
        "mariadb.wiki": "SELECT count(*) = 99 FROM pages",
      },
    });
    assert.equal(r.code, 1);
    assert.deepEqual(r.lines.map((l) => [key(l), l.result]), [
      ["postgresql.shop", "pass"],
      ["postgresql.crm", "pass"],
      ["mariadb.inventory", "fail"],
      ["mariadb.wiki", "fail"],
    ]);
    assert.match(r.lines[2]?.reason ?? "", /^check query failed: ERROR 1146 .*Table 'restoretest_inventory\.no_such_table' doesn't exist/);
    assert.equal(r.lines[3]?.reason, "check query returned 0: SELECT count(*) = 99 FROM pages");
    assert.deepEqual(await scratchDatabases(), []);
    assert.equal(await production(), before0);
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0] ?? "", /^error\|homelab-backup database restore test \(e2e, homelab\): fail\|postgresql shop: pass[^]*mariadb inventory: fail/);
    for (const name of ["restoretest_old", "restoretest_shop", "restoretest_wiki"]) {
      assert.match(r.notes[0] ?? "", new RegExp(`dropped scratch database ${name} left by an earlier run`));
    }
  });

  it("fails a database over the RTO", async () => {
    const r = await runTest({ rtoMinutes: 0.00002, databases: [{ kind: "postgresql", database: "crm" }] });
    assert.equal(r.code, 1);
    assert.equal(r.lines.length, 1);
    assert.equal(r.lines[0]?.result, "fail");
    assert.equal(r.lines[0]?.rtoSeconds, 0.001);
    assert.match(r.lines[0]?.reason ?? "", /^restore and check took [\d.]+ s, over the RTO of 0\.001 s$/);
    assert.ok((r.lines[0]?.totalSeconds ?? 0) > 0.001);
    assert.deepEqual(await scratchDatabases(), []);
  });

  it("a run stopped in the middle (SIGTERM, as systemd stops it) drops its scratch database and logs the stop", async () => {
    const path = join(root, "bin", "db-restore-test-slow");
    writeFileSync(path, renderDatabaseRestoreScript(options({ databases: [{ kind: "postgresql", database: "shop" }], checkQueries: { "postgresql.shop": "SELECT 1 FROM pg_sleep(20)" } })));
    chmodSync(path, 0o700);
    rmSync(LOG(), { force: true });
    const child = spawn(path, [], { env, detached: true, stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const until = Date.now() + 20_000;
    while (!(await scratchDatabases()).includes("pg:restoretest_shop")) {
      assert.ok(Date.now() < until, "the scratch database never appeared");
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    process.kill(-(child.pid as number), "SIGTERM");
    const code = await exited;
    assert.notEqual(code, 0);
    assert.deepEqual(await scratchDatabases(), []);
    const lines = readFileSync(LOG(), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as DbLine);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.result, "fail");
    assert.match(lines[0]?.reason ?? "", /stopped \(SIGTERM\)/);
  });

  it("fails on a corrupt and an empty dump in the latest archive, and drops the scratch databases", async () => {
    // A newer archive in which the PostgreSQL dump is garbage and the MariaDB one empty.
    const state = spec.layout.stateDir;
    mkdirSync(join(state, "postgresql_databases", "127.0.0.1"), { recursive: true });
    mkdirSync(join(state, "mysql_databases", "127.0.0.1"), { recursive: true });
    writeFileSync(join(state, "postgresql_databases", "127.0.0.1", "shop"), Buffer.concat([Buffer.from("PGDMP"), Buffer.alloc(2048, 0x5a)]));
    writeFileSync(join(state, "mysql_databases", "127.0.0.1", "inventory"), "");
    try {
      await runOk("borg", ["create", `${spec.repository.url}::e2e-9999-corrupt`, join(state, "postgresql_databases"), join(state, "mysql_databases")], { env: { ...env, BORG_PASSPHRASE: PASSPHRASE } });
    } finally {
      rmSync(join(state, "postgresql_databases"), { recursive: true, force: true });
      rmSync(join(state, "mysql_databases"), { recursive: true, force: true });
    }
    const r = await runTest({ databases: [{ kind: "postgresql", database: "shop" }, { kind: "postgresql", database: "crm" }, { kind: "mariadb", database: "inventory" }] });
    assert.equal(r.code, 1);
    const got = Object.fromEntries(r.lines.map((l) => [key(l), l]));
    assert.equal(got["postgresql.shop"]?.archive, "e2e-9999-corrupt");
    assert.equal(got["postgresql.shop"]?.result, "fail");
    assert.match(got["postgresql.shop"]?.reason ?? "", /^pg_restore failed: /);
    assert.equal(got["mariadb.inventory"]?.result, "fail");
    assert.match(got["mariadb.inventory"]?.reason ?? "", /^database inventory is not in the dump$/);
    assert.equal(got["postgresql.crm"]?.result, "fail");
    assert.match(got["postgresql.crm"]?.reason ?? "", /^archive e2e-9999-corrupt holds no dump of postgresql all \(looked for .*\/\{postgresql_databases\}\/127\.0\.0\.1\/all\)$/);
    assert.deepEqual(await scratchDatabases(), []);
    assert.equal(await production(), before0);
    assert.match(r.notes[0] ?? "", /^error\|/);
  });
});
