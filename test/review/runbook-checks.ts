/**
 * The runbook's contract, checked the same way for every stack: every service named, in recovery
 * order, with commands whose storage ids, datastores, namespaces, replicas and buckets are the
 * declared resources (read from the plan's resources here, not through plan/runbook.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { TierObjective } from "../../plan/diff";
import type { PlanDocument } from "../../plan/document";
import { all, declared, section } from "./helpers";

export function runbookContract(get: () => { doc: PlanDocument; objectives: TierObjective[]; text: string }): void {
  const STEPS = [
    "### 1. Restore the hypervisor host",
    "### 2. Configure network connectivity",
    "### 3. Restore critical VMs from backup",
    "### 4. Restore databases",
    "### 5. Restore application data",
    "### 6. Verify service functionality",
  ];

  test("follows the strategy's recovery order, then the partial-loss and corruption procedures", () => {
    const { text } = get();
    const at = [...STEPS, "## Partial service loss", "## Data corruption"].map((h) => text.indexOf(`\n${h}\n`));
    for (const [i, pos] of at.entries()) assert.ok(pos > 0, `missing heading ${i}`);
    assert.deepEqual([...at].sort((a, b) => a - b), at, "headings out of order");
    const partial = section(text, "## Partial service loss");
    for (const step of ["Identify affected services", "Restore from the most recent backup", "Validate restored data", "Resume normal operations"]) assert.match(partial, new RegExp(step));
    const corruption = section(text, "## Data corruption");
    for (const step of ["Identify the corruption extent", "Restore from the newest backup taken before the corruption", "Replay transaction logs", "Validate data consistency"]) assert.match(corruption, new RegExp(step));
  });

  test("names every service, shortest RTO target first, and each with its RTO", () => {
    const { doc, objectives, text } = get();
    const services = doc.copies.filter((c) => c.kind === "service");
    assert.ok(services.length > 0);
    for (const c of doc.copies) assert.ok(text.includes(c.name), `data class ${c.name} is not in the runbook`);
    const rto = (tier: string | undefined) => objectives.find((o) => o.tier === tier)?.rtoMinutes ?? Infinity;
    const expected = [...services].sort((a, b) => rto(a.tier) - rto(b.tier) || a.name.localeCompare(b.name)).map((c) => c.name);
    const loss = text.slice(text.indexOf("\n### 3. "), text.indexOf("\n### 6. "));
    const firstMention = (name: string) => loss.search(new RegExp(`# ${name} · tier `));
    for (const name of expected) assert.ok(firstMention(name) >= 0, `${name} has no restore block in steps 3-5`);
    assert.deepEqual([...expected].sort((a, b) => firstMention(a) - firstMention(b)), expected);
    // The at-a-glance table lists them in the same order, with the tier's RTO target.
    const glance = section(text, "## At a glance");
    const rows = glance.split("\n").filter((l) => /^\| \d+ \|/.test(l)).map((l) => l.split("|").map((c) => c.trim()));
    assert.deepEqual(rows.map((r) => r[2]), expected);
    for (const r of rows) {
      const cls = services.find((c) => c.name === r[2]);
      assert.equal(r[4], objectives.find((o) => o.tier === cls?.tier)?.rto, `${r[2]}'s RTO`);
    }
  });

  test("every command names declared storages, datastores, namespaces, replicas and buckets", () => {
    const { doc, text } = get();
    const d = declared(doc);
    const ids = new Set(d.storages.map((s) => s.id));
    const used = [
      ...all(text, /pvesm list (\S+)/g),
      ...all(text, /qmrestore (\S+?):backup\//g),
      ...all(text, /pvesm add pbs (\S+)/g),
      ...all(text, /--storage (\S+) --mode snapshot/g),
      ...all(text, /\/storage\/([^/\s]+)\/content/g),
      ...all(text, /\/etc\/pve\/priv\/storage\/(\S+)\.enc/g),
    ];
    assert.ok(used.length >= d.storages.length);
    // `<storage>` is the reader's placeholder in prose; every named storage must be declared.
    for (const id of used.filter((u) => !u.startsWith("<"))) assert.ok(ids.has(id), `${id} is not a declared PVE storage (${[...ids].join(", ")})`);
    for (const s of d.storages) assert.ok(used.includes(s.id), `declared storage ${s.id} is never used`);

    for (const [, add] of text.matchAll(/pvesm add pbs (.+)/g)) {
      const id = /^(\S+)/.exec(add as string)?.[1];
      const s = d.storages.find((x) => x.id === id);
      assert.ok(s);
      assert.match(add as string, new RegExp(`--server ${s.server} --datastore ${s.datastore}${s.namespace ? ` --namespace ${s.namespace}` : ""} `));
    }
    for (const [, name, path] of text.matchAll(/datastore create (\S+) (\S+)/g)) {
      assert.ok(d.datastores.some((x) => x.name === name && x.path === path), `datastore ${name} at ${path} is not declared`);
    }
    for (const name of all(text, /proxmox-backup-manager verify (\S+)/g)) {
      if (name.startsWith("<")) continue;
      assert.ok(d.datastores.some((x) => x.name === name), `verify of undeclared datastore ${name}`);
    }
    const repos = all(text, /PBS_REPOSITORY='([^']+)'/g);
    for (const repo of repos) assert.ok(d.storages.some((s) => repo === `${s.username ? `${s.username}@` : ""}${s.server}:${s.datastore}`), `repository ${repo}`);
    for (const ns of all(text, /snapshot list --ns (\S+)/g)) assert.ok(d.storages.some((s) => s.namespace === ns), `namespace ${ns}`);
    for (const target of all(text, /zfs (?:list -t snapshot -o \S+ -s creation|send) (\S+?)(?:@|\s|$)/g)) assert.ok(d.replicaTargets.includes(target), `replica ${target}`);
    for (const bucket of all(text, /offsite:([a-z0-9.-]+)/g)) assert.ok(d.buckets.includes(bucket), `bucket ${bucket}`);
  });

  test("each service's restore block uses the storage its job writes to", () => {
    const { doc, text } = get();
    for (const cls of doc.copies.filter((c) => c.kind === "service")) {
      const job = doc.resources.find((r) => `${r.type}::${r.name}` === cls.job);
      const storage = job?.inputs["storage"];
      assert.equal(typeof storage, "string");
      const block = new RegExp(`# ${cls.name} · tier [^\\n]*storage ${storage} →[^\\n]*\\n(?:pvesm list|# the job selects)`);
      assert.match(text, block, `${cls.name} restores from ${String(storage)}`);
    }
  });

  test("says where every key's recovery copy is, and prints no secret", () => {
    const { doc, text } = get();
    const keys = section(text, "## Keys: without them the copies are unreadable");
    for (const s of declared(doc).storages) assert.match(keys, new RegExp(`PBS client key of \`${s.id}\``));
    assert.match(keys, /pulumi stack output pbsEncryptionKeys --show-secrets/);
    assert.ok(!text.includes("[secret]") && !text.includes("placeholder"), "a secret or placeholder leaked into the runbook");
  });
}
