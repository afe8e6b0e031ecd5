/**
 * The DR runbook of a stack, written from its plan document: the recorded resources and the
 * protection model, never the config. A storage, datastore, bucket or key named here is one the
 * program registers, so the runbook changes in the same PR as the topology and cannot drift.
 *
 * The one input that is not a resource is the tiers' RTO/RPO targets: they are promises declared
 * in the stack file, passed in as `objectives` and labelled as targets.
 *
 * Recovery order and procedures follow ../shared/strategy/backup-strategy.md ("Disaster Recovery
 * Procedures"): complete infrastructure loss in six steps, partial service loss, data corruption.
 */
import { parse as parseYaml } from "yaml";
import { formatDuration } from "../config/duration";
import { counts, type Copy, type DataClass } from "../model";
import { T } from "../model/resource";
import { blocking } from "../policies/run";
import { formatDays, horizonDays, intervalOf, whenText, type TierObjective } from "./diff";
import type { PlanDocument, PlanResource } from "./document";
import { markdownTable } from "./render/table";

export interface RunbookOptions {
  /** RTO/RPO targets per tier, from the stack file's `tiers`. */
  objectives?: readonly TierObjective[];
}

// ---------------------------------------------------------------------------------------------
// The topology, as the resources declare it

export interface StorageInfo {
  id: string;
  datastore: string;
  namespace?: string;
  server: string;
  username?: string;
  fingerprint?: string;
  nodes: string[];
  encrypted: boolean;
}

export interface DatastoreInfo {
  name: string;
  path?: string;
  /** ZFS dataset behind the path (`/backup/critical` → `backup/critical`). */
  dataset?: string;
  api?: string;
  verifyJob?: string;
}

export interface ReplicaInfo {
  task: string;
  sources: string[];
  target: string;
  schedule?: string;
  retention?: string;
  readonly: boolean;
  /** The host it pulls from (the PBS host's backup address). */
  from?: string;
}

export interface BucketInfo {
  bucket: string;
  retentionClass?: string;
  storageClass?: string;
  region?: string;
  expirationDays?: number;
  lockDays?: number;
  lockMode?: string;
  /** S3 endpoint of a non-AWS provider (from the NAS's cloud credential); AWS has none. */
  endpoint?: string;
  /** The NAS's cloud sync tasks that upload into it, each into its own folder. */
  syncs: SyncInfo[];
}

export interface SyncInfo {
  task: string;
  /** The NAS path it uploads. */
  path: string;
  /** Folder in the bucket ("" for the root). */
  folder: string;
  encryption: boolean;
  filenameEncryption: boolean;
  schedule?: string;
}

export interface AgentInfo {
  name: string;
  service?: string;
  /** The data classes the protection model gives this agent (`db01/database-dumps`, …). */
  classes: string[];
  repository?: string;
  archiveFormat?: string;
  wrapper: string;
  configPath?: string;
  databases: { kind: string; name: string }[];
  volumes: string[];
  paths: string[];
  schedule?: string;
  encryption?: string;
}

export interface ServiceInfo {
  cls: DataClass;
  tier: string;
  objective?: TierObjective;
  rpoMinutes?: number;
  job?: PlanResource;
  vmids: string[];
  pool?: string;
  storage?: StorageInfo;
  datastore?: DatastoreInfo;
  agents: AgentInfo[];
}

export interface Topology {
  pveEndpoint?: string;
  pveNodes: string[];
  pbsApi?: string;
  pbsFingerprint?: string;
  storages: StorageInfo[];
  datastores: DatastoreInfo[];
  replicas: ReplicaInfo[];
  nasApi?: string;
  buckets: BucketInfo[];
  kmsKeys: { name: string; alias?: string; region?: string; deletionWindowDays?: number }[];
  rclonePasswords: string[];
  agents: AgentInfo[];
  network: PlanResource[];
  services: ServiceInfo[];
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "[secret]" && v !== "[unknown]" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined);
const rec = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function ofType(doc: PlanDocument, type: string): PlanResource[] {
  return doc.resources.filter((r) => r.type === type);
}

/** The borgmatic config an agent's deploy step writes, read back from the registered script. */
function agentConfig(script: string): { path: string; config: Record<string, unknown> } | undefined {
  const m = /cat > (\S+\/config\.yaml)\.new <<'(\w+)'\n([\s\S]*?)\n\2\n/.exec(script);
  if (!m) return undefined;
  try {
    return { path: m[1] as string, config: rec(parseYaml(m[3] as string)) };
  } catch {
    return undefined;
  }
}

/** Finds `key` at any depth: borgmatic 1.7 nests options in sections, 1.8 has them at the top. */
function deep(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== "object") return undefined;
  if (Array.isArray(obj)) return undefined;
  const o = obj as Record<string, unknown>;
  if (key in o) return o[key];
  for (const v of Object.values(o)) {
    const found = deep(v, key);
    if (found !== undefined) return found;
  }
  return undefined;
}

function agentsOf(doc: PlanDocument): AgentInfo[] {
  const out: AgentInfo[] = [];
  for (const agent of ofType(doc, T.agent)) {
    const children = doc.resources.filter((r) => r.parent === `${T.agent}::${agent.name}`);
    const deploy = children.find((r) => r.name.endsWith("-deploy"));
    const script = str(deploy?.inputs["create"]) ?? "";
    const parsed = agentConfig(script);
    const config = parsed?.config ?? {};
    const repos = deep(config, "repositories");
    const repository = Array.isArray(repos) ? repos.map((r) => (typeof r === "string" ? r : str(rec(r)["path"]))).find((r) => r !== undefined) : undefined;
    const databases: AgentInfo["databases"] = [];
    for (const [key, kind] of [["postgresql_databases", "postgresql"], ["mysql_databases", "mariadb"], ["mariadb_databases", "mariadb"], ["mongodb_databases", "mongodb"], ["sqlite_databases", "sqlite"]] as const) {
      const list = deep(config, key);
      if (Array.isArray(list)) for (const d of list) databases.push({ kind, name: str(rec(d)["name"]) ?? "?" });
    }
    const sources = strings(deep(config, "source_directories"));
    const volumes = sources.map((p) => /^\/var\/lib\/docker\/volumes\/([^/]+)\/_data$/.exec(p)?.[1]).filter((v): v is string => v !== undefined);
    const init = str(children.find((r) => r.name.endsWith("-repo-init"))?.inputs["create"]);
    const wrapper = /(\/usr\/local\/sbin\/\S+)/.exec(init ?? script)?.[1] ?? `/usr/local/sbin/homelab-backup-${agent.name}`;
    const timer = /OnCalendar=(.+)/.exec(script)?.[1]?.trim();
    const service = /agent "[^"]+" \(service ([^)\s]+)\)/.exec(script)?.[1];
    out.push({
      name: agent.name,
      ...(service ? { service } : {}),
      classes: doc.copies.filter((c) => c.name.startsWith(`${agent.name}/`)).map((c) => c.name).sort(),
      ...(repository ? { repository } : {}),
      ...(str(deep(config, "archive_name_format")) ? { archiveFormat: str(deep(config, "archive_name_format")) as string } : {}),
      wrapper,
      ...(parsed ? { configPath: parsed.path } : {}),
      databases,
      volumes,
      paths: sources.filter((p) => !p.startsWith("/var/lib/docker/volumes/")),
      ...(timer ? { schedule: timer } : {}),
      ...(/--encryption (\S+)/.exec(init ?? "")?.[1] ? { encryption: /--encryption (\S+)/.exec(init ?? "")?.[1] as string } : {}),
    });
  }
  return out;
}

function bucketsOf(doc: PlanDocument): BucketInfo[] {
  const syncs = ofType(doc, T.nasCloudSync);
  return ofType(doc, T.bucket).map((b) => {
    const bucket = str(b.inputs["bucket"]) ?? b.name;
    const ref = (r: PlanResource) => str(r.inputs["bucket"]) === bucket;
    const lifecycle = ofType(doc, T.bucketLifecycle).find(ref);
    const rules = Array.isArray(lifecycle?.inputs["rules"]) ? (lifecycle?.inputs["rules"] as unknown[]).map(rec) : [];
    const storageClass = rules.flatMap((r) => (Array.isArray(r["transitions"]) ? (r["transitions"] as unknown[]).map((t) => str(rec(t)["storageClass"])) : [])).find((s) => s !== undefined);
    const expirations = rules.map((r) => num(rec(r["expiration"])["days"])).filter((d): d is number => d !== undefined);
    const lock = rec(rec(ofType(doc, T.bucketLock).find(ref)?.inputs["rule"])["defaultRetention"]);
    const lockDays = num(lock["days"]) ?? (num(lock["years"]) !== undefined ? (num(lock["years"]) as number) * 365 : undefined);
    const feeding = syncs.filter((s) => str(s.inputs["bucket"]) === bucket || str(rec(s.inputs["attributes"])["bucket"]) === bucket);
    const tags = rec(b.inputs["tags"]);
    const endpoint = doc.resources.map((c) => (c.type === "pulumi-nodejs:dynamic/truenas:CloudSyncCredential" ? str(c.inputs["endpoint"]) : undefined)).find((e) => e);
    return {
      bucket,
      ...(str(tags["homelab-backup:retention-class"]) ? { retentionClass: str(tags["homelab-backup:retention-class"]) as string } : {}),
      ...(storageClass ? { storageClass } : {}),
      ...(str(b.inputs["region"]) ? { region: str(b.inputs["region"]) as string } : {}),
      ...(expirations.length ? { expirationDays: Math.min(...expirations) } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(lockDays !== undefined ? { lockDays } : {}),
      ...(str(lock["mode"]) ? { lockMode: str(lock["mode"]) as string } : {}),
      syncs: feeding.map((s) => {
        const schedule = whenText(s.inputs["schedule"]);
        return {
          task: s.name,
          path: str(s.inputs["path"]) ?? "?",
          folder: (str(s.inputs["folder"]) ?? "").replace(/^\/+|\/+$/g, ""),
          encryption: s.inputs["encryption"] === true || rec(s.inputs["encryption"])["enabled"] === true,
          filenameEncryption: s.inputs["filenameEncryption"] === true,
          ...(schedule ? { schedule } : {}),
        };
      }),
    };
  });
}

const TIER_RANK: Record<string, number> = { critical: 0, important: 1, archive: 2 };

/** Recovery order: the shortest RTO target first, then the strategy's tier order, then the name. */
export function recoveryOrder(classes: readonly DataClass[], objectives?: readonly TierObjective[]): DataClass[] {
  const rto = (c: DataClass) => objectives?.find((o) => o.tier === c.tier)?.rtoMinutes ?? Number.POSITIVE_INFINITY;
  const rank = (c: DataClass) => TIER_RANK[c.tier ?? ""] ?? 9;
  return [...classes].filter((c) => c.kind === "service").sort((a, b) => rto(a) - rto(b) || rank(a) - rank(b) || (a.tier ?? "").localeCompare(b.tier ?? "") || a.name.localeCompare(b.name));
}

export function topologyOf(doc: PlanDocument, options: RunbookOptions = {}): Topology {
  const storages: StorageInfo[] = ofType(doc, T.pveStorage).map((s) => ({
    id: str(s.inputs["resourceId"]) ?? s.name,
    datastore: str(s.inputs["datastore"]) ?? "?",
    ...(str(s.inputs["namespace"]) ? { namespace: str(s.inputs["namespace"]) as string } : {}),
    server: str(s.inputs["server"]) ?? "?",
    ...(str(s.inputs["username"]) ? { username: str(s.inputs["username"]) as string } : {}),
    ...(str(s.inputs["fingerprint"]) ? { fingerprint: str(s.inputs["fingerprint"]) as string } : {}),
    nodes: strings(s.inputs["nodes"]),
    encrypted: s.inputs["generateEncryptionKey"] === true || s.inputs["encryptionKey"] !== undefined,
  }));
  const datastores: DatastoreInfo[] = ofType(doc, T.pbsDatastore).map((d) => {
    const name = str(d.inputs["name"]) ?? d.name;
    const path = str(d.inputs["path"]);
    const verify = ofType(doc, T.pbsVerify).find((v) => str(v.inputs["store"]) === name);
    const api = str(rec(d.inputs["connection"])["url"]);
    return { name, ...(path ? { path, dataset: path.replace(/^\//, "") } : {}), ...(api ? { api } : {}), ...(verify ? { verifyJob: str(verify.inputs["jobId"]) ?? verify.name } : {}) };
  });
  const sshHost = str(ofType(doc, "pulumi-nodejs:dynamic/truenas:SshConnection")[0]?.inputs["host"]);
  const replicas: ReplicaInfo[] = ofType(doc, T.nasReplication).map((r) => {
    const value = num(r.inputs["lifetimeValue"]);
    const unit = str(r.inputs["lifetimeUnit"]);
    const schedule = whenText(r.inputs["schedule"]);
    return {
      task: str(r.inputs["name"]) ?? r.name,
      sources: strings(r.inputs["sourceDatasets"]),
      target: str(r.inputs["targetDataset"]) ?? "?",
      ...(schedule ? { schedule } : {}),
      ...(value !== undefined && unit ? { retention: `${value} ${unit.toLowerCase()}${value === 1 ? "" : "s"}` } : {}),
      readonly: ["SET", "REQUIRE"].includes(str(r.inputs["readonly"]) ?? ""),
      ...(sshHost ? { from: sshHost } : {}),
    };
  });
  const nasApi = doc.resources.map((r) => str(rec(r.inputs["connection"])["url"])).find((u) => u?.startsWith("wss://"));
  const kmsKeys = ofType(doc, T.kmsKey).map((k) => {
    const alias = doc.resources.find((a) => a.type === "aws:kms/alias:Alias" && a.parent === k.parent);
    return {
      name: k.name,
      ...(str(alias?.inputs["name"]) ? { alias: str(alias?.inputs["name"]) as string } : {}),
      ...(str(k.inputs["region"]) ? { region: str(k.inputs["region"]) as string } : {}),
      ...(num(k.inputs["deletionWindowInDays"]) !== undefined ? { deletionWindowDays: num(k.inputs["deletionWindowInDays"]) as number } : {}),
    };
  });
  const agents = agentsOf(doc);
  const pveProvider = doc.resources.find((r) => r.type === "pulumi:providers:proxmoxve");
  const pbsConn = rec(ofType(doc, T.pbsDatastore)[0]?.inputs["connection"]);
  const byJob = new Map(doc.resources.map((r) => [`${r.type}::${r.name}`, r]));
  const services: ServiceInfo[] = recoveryOrder(doc.copies, options.objectives).map((cls) => {
    const job = byJob.get(cls.job);
    const storage = storages.find((s) => s.id === str(job?.inputs["storage"]));
    const objective = options.objectives?.find((o) => o.tier === cls.tier);
    const rpo = intervalOf(cls.schedule);
    const datastore = datastores.find((d) => d.name === storage?.datastore);
    return {
      cls,
      tier: cls.tier ?? "none",
      ...(objective ? { objective } : {}),
      ...(rpo !== undefined ? { rpoMinutes: rpo } : {}),
      ...(job ? { job } : {}),
      vmids: strings(job?.inputs["vmids"]),
      ...(str(job?.inputs["pool"]) ? { pool: str(job?.inputs["pool"]) as string } : {}),
      ...(storage ? { storage } : {}),
      ...(datastore ? { datastore } : {}),
      agents: agents.filter((a) => a.service === cls.name),
    };
  });
  return {
    ...(str(pveProvider?.inputs["endpoint"]) ? { pveEndpoint: str(pveProvider?.inputs["endpoint"]) as string } : {}),
    pveNodes: [...new Set(storages.flatMap((s) => s.nodes))],
    ...(str(pbsConn["url"]) ? { pbsApi: str(pbsConn["url"]) as string } : {}),
    ...(str(pbsConn["fingerprint"]) ? { pbsFingerprint: str(pbsConn["fingerprint"]) as string } : {}),
    storages,
    datastores,
    replicas,
    ...(nasApi ? { nasApi } : {}),
    buckets: bucketsOf(doc),
    kmsKeys,
    rclonePasswords: ofType(doc, "random:index/randomPassword:RandomPassword").filter((r) => /rclone/.test(r.name)).map((r) => r.name),
    agents,
    network: doc.resources.filter((r) => /network|sdn|firewall|vlan/i.test(r.type) && !r.type.startsWith("pulumi:providers:")),
    services,
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering

const code = (lines: string[]) => ["```sh", ...lines, "```"];

function repository(s: StorageInfo): string {
  return `${s.username ? `${s.username}@` : ""}${s.server}:${s.datastore}`;
}

function pbsEnv(s: StorageInfo): string[] {
  return [
    `export PBS_REPOSITORY='${repository(s)}'`,
    ...(s.fingerprint ? [`export PBS_FINGERPRINT='${s.fingerprint}'`] : []),
    `export PBS_PASSWORD='<secret of the API token ${s.username ?? "?"} (Pulumi state), or use root@pam>'`,
  ];
}

const nsFlag = (s: StorageInfo) => (s.namespace ? ` --ns ${s.namespace}` : "");
const keyFile = (s: StorageInfo) => `/etc/pve/priv/storage/${s.id}.enc`;

function rtoText(svc: ServiceInfo): string {
  return svc.objective ? svc.objective.rto : "not declared";
}

function guestsText(svc: ServiceInfo): string {
  if (svc.vmids.length) return `guests ${svc.vmids.join(", ")}`;
  if (svc.pool) return `pool \`${svc.pool}\``;
  return "guests selected by tag (resolved by PVE)";
}

function copyLine(c: Copy): string {
  const flags = [c.site === "offsite" ? "off-site" : "on-site", c.encrypted ? "encrypted" : "NOT encrypted", c.immutable ? "immutable" : "", c.verified ? "verified" : "NOT verified"].filter(Boolean).join(", ");
  const reach = horizonDays(c.keep, c.retentionDays);
  return `${c.location} (${flags}${c.retention ? `; keeps ${c.retention}` : ""}${reach !== undefined ? `, reaches ~${formatDays(reach)} back` : ""})`;
}

/** Restore commands of one VM service through its PVE storage (same id as declared). */
function vmRestore(svc: ServiceInfo, node: string): string[] {
  const s = svc.storage;
  if (!s) return [`# ${svc.cls.name}: its job names no declared PBS storage; restore with proxmox-backup-client from the datastore directly.`];
  const lines: string[] = [`# ${svc.cls.name} · tier ${svc.tier} · RTO target ${rtoText(svc)} · storage ${s.id} → PBS ${s.datastore}${s.namespace ? `/${s.namespace}` : ""}`];
  if (svc.vmids.length) {
    for (const id of svc.vmids) {
      lines.push(`pvesm list ${s.id} --content backup --vmid ${id}          # newest last`);
      lines.push(`qmrestore ${s.id}:backup/vm/${id}/<YYYY-MM-DDTHH:MM:SSZ> ${id} --storage <vm-disk-storage>   # a container: pct restore ${id} ${s.id}:backup/ct/${id}/<time> --storage <ct-storage>`);
      lines.push(`qm start ${id}`);
    }
  } else {
    lines.push(`# the job selects ${guestsText(svc)}: the plan does not know its VM ids; the backups' notes name the service`);
    lines.push(`pvesh get /nodes/${node}/storage/${s.id}/content --content backup --output-format json \\`);
    lines.push(`  | jq -r '.[] | select((.notes // "") | contains("service ${svc.cls.name}")) | "\\(.vmid) \\(.volid)"' | sort`);
    lines.push(`qmrestore <volid> <vmid> --storage <vm-disk-storage>   # for each VM id, its newest volid`);
    if (svc.pool) lines.push(`pvesh set /pools/${svc.pool} --vms <vmid>,<vmid>   # put them back in pool ${svc.pool} so the job selects them again`);
  }
  return lines;
}

function agentRestore(a: AgentInfo, what: "databases" | "files"): string[] {
  const lines: string[] = [
    `# on host ${a.name}${a.service ? ` (follows service ${a.service})` : ""}: repository ${a.repository ?? "?"}, archives ${a.archiveFormat ?? "?"}`,
    ...(a.classes.length ? [`# data classes ${a.classes.join(", ")}`] : []),
  ];
  lines.push(`${a.wrapper} rlist                                   # archives, newest last`);
  if (what === "databases") {
    lines.push(`${a.wrapper} restore --archive latest                 # every database: ${a.databases.map((d) => `${d.kind} ${d.name}`).join(", ")}`);
    const names = [...new Set(a.databases.map((d) => d.name))];
    if (names.length > 1) for (const n of names) lines.push(`${a.wrapper} restore --archive latest --database ${n}   # ${a.databases.filter((d) => d.name === n).map((d) => d.kind).join(" and ")} ${n} only`);
  } else {
    for (const v of a.volumes) lines.push(`${a.wrapper} extract --archive latest --path var/lib/docker/volumes/${v}/_data --destination /   # volume ${v}; stop its container first`);
    for (const p of a.paths) lines.push(`${a.wrapper} extract --archive latest --path ${p.replace(/^\//, "")} --destination /restore   # then copy back what is needed`);
  }
  return lines;
}

function bucketRestore(b: BucketInfo, sync: SyncInfo | undefined, target: string): string[] {
  const lines: string[] = [];
  const archive = b.storageClass && /GLACIER|DEEP_ARCHIVE/.test(b.storageClass);
  const where = `${b.bucket}${sync?.folder ? `/${sync.folder}` : ""}`;
  lines.push(`# bucket ${b.bucket}${b.retentionClass ? ` (retention class ${b.retentionClass})` : ""}${b.storageClass ? `, storage class ${b.storageClass}` : ""}${b.region ? `, region ${b.region}` : ""}${sync ? `; folder ${sync.folder || "(root)"}, uploaded by ${sync.task}` : ""}`);
  // env_auth reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: a read-capable key of the provider.
  lines.push(`rclone config create offsite s3 provider ${b.endpoint ? `Other endpoint ${b.endpoint}` : "AWS"} env_auth true${b.region ? ` region ${b.region}` : ""}`);
  if (archive) lines.push(`rclone backend restore offsite:${where} -o priority=Standard -o lifetime=7   # ${b.storageClass}: objects are readable after the restore completes (Deep Archive: up to 12 h)`);
  if (sync?.encryption) {
    lines.push(`rclone config create offsite-crypt crypt remote offsite:${where} filename_encryption ${sync.filenameEncryption ? "standard" : "off"} \\`);
    lines.push(`  password "$(rclone obscure "$RCLONE_PASSWORD")" password2 "$(rclone obscure "$RCLONE_SALT")"`);
    lines.push(`rclone copy offsite-crypt: ${target} --progress`);
  } else {
    lines.push(`rclone copy offsite:${where} ${target} --progress`);
  }
  return lines;
}

/** The sync task and bucket that carry a NAS path off-site (the task's path is it or a parent of it). */
function offsiteOf(t: Topology, path: string): { bucket: BucketInfo; sync: SyncInfo } | undefined {
  for (const bucket of t.buckets) {
    const sync = bucket.syncs.find((s) => path === s.path || path.startsWith(`${s.path}/`));
    if (sync) return { bucket, sync };
  }
  return undefined;
}

export function renderRunbook(doc: PlanDocument, options: RunbookOptions = {}): string {
  const t = topologyOf(doc, options);
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  const node = t.pveNodes[0] ?? "<node>";
  const stack = doc.stack;
  const bad = blocking(doc.violations);

  push(`# Disaster recovery runbook: stack \`${stack}\``, "");
  push(
    `Generated by \`npm run runbook -- --stack ${stack}\` from the resources this stack declares (the offline plan of \`${doc.stackFile}\`). Regenerate it in the same PR as any change to the topology: every storage, datastore, bucket and key named here is a registered resource. RTO and RPO targets are the tiers declared in the stack file; the RPO shown per service is the worst case of its job's schedule.`,
    "",
  );
  if (bad.length) {
    push(`> **The plan has ${bad.length} mandatory policy violation${bad.length === 1 ? "" : "s"}**: the protection below is less than the strategy promises (${[...new Set(bad.map((v) => `${v.id} ${v.subject}`))].join("; ")}).`, "");
  }
  push("Recovery copies of every secret below live in this stack's Pulumi backend (outputs and state). If that backend runs in the homelab, keep an encrypted export of it off-site: `pulumi stack export --show-secrets -s " + stack + " | age -r <recipient> > " + stack + "-state.age`.", "");

  // At a glance
  push("## At a glance", "");
  push(
    markdownTable(
      ["Order", "Service", "Tier", "RTO target", "RPO (worst case)", "Guests", "Restore from", "Then, if that is lost"],
      t.services.map((svc, i) => {
        const backups = svc.cls.copies.filter((c) => !c.original);
        return [
          String(i + 1),
          svc.cls.name,
          svc.tier,
          rtoText(svc),
          svc.rpoMinutes !== undefined ? formatDuration(svc.rpoMinutes) : "?",
          guestsText(svc),
          svc.storage ? `\`${svc.storage.id}\` (PBS ${svc.storage.datastore}${svc.storage.namespace ? `/${svc.storage.namespace}` : ""})` : (backups[0]?.location ?? "nothing"),
          backups.slice(1).map((c) => c.location).join(" → ") || "nothing",
        ];
      }),
    ),
    "",
  );

  // Inventory
  push("## What exists", "");
  if (t.pveEndpoint || t.pveNodes.length) push(`- **Proxmox VE**: API ${t.pveEndpoint ?? "?"}; nodes ${t.pveNodes.join(", ") || "?"}.`);
  for (const d of t.datastores) {
    const ns = t.storages.filter((s) => s.datastore === d.name).map((s) => s.namespace ?? "root");
    push(`- **PBS datastore \`${d.name}\`**: path \`${d.path ?? "?"}\` (ZFS dataset \`${d.dataset ?? "?"}\`), namespaces ${ns.join(", ") || "root"}; verify job ${d.verifyJob ?? "none"}; API ${d.api ?? "?"}${t.pbsFingerprint ? `, certificate SHA-256 \`${t.pbsFingerprint}\`` : ""}.`);
  }
  if (t.storages.length) {
    push("", markdownTable(["PVE storage", "PBS server", "Datastore", "Namespace", "User (token)", "Client-side encryption"], t.storages.map((s) => [`\`${s.id}\``, s.server, s.datastore, s.namespace ?? "root", s.username ?? "?", s.encrypted ? `yes, key \`${keyFile(s)}\`` : "NO"])), "");
  }
  for (const r of t.replicas) {
    push(`- **TrueNAS replica \`${r.target}\`** (task ${r.task}): pulls ${r.sources.join(", ")}${r.from ? ` from ${r.from}` : ""}${r.schedule ? ` ${r.schedule}` : ""}, keeps ${r.retention ?? "?"}${r.readonly ? ", read-only" : ""}${t.nasApi ? `; TrueNAS API ${t.nasApi}` : ""}.`);
  }
  for (const b of t.buckets) {
    push(`- **Off-site bucket \`${b.bucket}\`**: ${b.retentionClass ? `class ${b.retentionClass}, ` : ""}${b.storageClass ?? "STANDARD"}${b.region ? ` in ${b.region}` : ""}; expires after ${b.expirationDays !== undefined ? `${b.expirationDays} days` : "never"}; Object Lock ${b.lockMode ?? "none"}${b.lockDays !== undefined ? ` ${b.lockDays} days` : ""}${b.syncs.length ? `; fed by ${b.syncs.map((s) => `TrueNAS cloud sync ${s.task} from \`${s.path}\` into \`${s.folder || "/"}\`${s.schedule ? ` ${s.schedule}` : ""}${s.encryption ? " (rclone crypt)" : ""}`).join(", ")}` : "; no sync task feeds it"}.`);
  }
  for (const a of t.agents) {
    push(`- **Agent \`${a.name}\`**${a.service ? ` (service ${a.service})` : ""}${a.classes.length ? `, data classes ${a.classes.join(", ")}` : ""}: borg repository \`${a.repository ?? "?"}\`${a.encryption ? ` (${a.encryption})` : ""}, archives \`${a.archiveFormat ?? "?"}\`${a.schedule ? `, timer \`${a.schedule}\`` : ""}; wrapper \`${a.wrapper}\`${a.databases.length ? `; databases ${a.databases.map((d) => `${d.kind} ${d.name}`).join(", ")}` : ""}${a.volumes.length ? `; Docker volumes ${a.volumes.join(", ")}` : ""}.`);
  }
  push("");

  // Keys
  push("## Keys: without them the copies are unreadable", "");
  const keyRows: string[][] = [];
  for (const s of t.storages.filter((x) => x.encrypted)) {
    keyRows.push([`PBS client key of \`${s.id}\``, `PBS ${s.datastore}${s.namespace ? `/${s.namespace}` : ""} and every replica and off-site copy of it`, `\`${keyFile(s)}\` (PVE cluster file system)`, "stack output `pbsEncryptionKeys` (secret), fingerprint in `encryptionKeyFingerprints`"]);
  }
  for (const b of t.buckets.filter((x) => x.syncs.some((s) => s.encryption))) {
    keyRows.push([`rclone crypt password and salt`, `bucket \`${b.bucket}\``, `TrueNAS cloud sync task${b.syncs.length > 1 ? "s" : ""} ${b.syncs.filter((s) => s.encryption).map((s) => s.task).join(", ")}`, t.rclonePasswords.length ? `Pulumi state: ${t.rclonePasswords.map((n) => `\`${n}\``).join(", ")} (random.RandomPassword, output \`result\`)` : "not declared in this stack"]);
  }
  for (const k of t.kmsKeys) {
    keyRows.push([`KMS key ${k.alias ? `\`${k.alias}\`` : `\`${k.name}\``}`, "server-side encryption of the off-site buckets", `AWS KMS${k.region ? ` ${k.region}` : ""}`, `AWS keeps it; a scheduled deletion waits ${k.deletionWindowDays ?? "?"} days (cancel it with \`aws kms cancel-key-deletion\`)`]);
  }
  for (const a of t.agents) {
    keyRows.push([`borg key and passphrase of \`${a.name}\``, `\`${a.repository ?? "?"}\``, `the repository (${a.encryption ?? "?"}) and \`/etc/homelab-backup/${a.name}/secrets.env\` on the host`, `stack output \`borgRepositoryKeys\` (key export) and Pulumi state \`${a.name}-borg-passphrase\``]);
  }
  push(keyRows.length ? markdownTable(["Key", "Protects", "Lives in", "Recovery copy"], keyRows) : "_No encryption key is declared: the copies are readable by whoever holds them._", "");
  const inventory = doc.keys ?? [];
  if (inventory.length) {
    push("Old versions matter to a restore: a backup needs the key it was written with.", "");
    push(markdownTable(["Key", "Rotation", "Old versions kept"], inventory.map((k) => [k.key, k.rotation, k.oldVersionsKept])), "");
  }
  if (keyRows.length) {
    push("Fetch the recovery copies (on an admin machine with access to the Pulumi backend):", "");
    const fetch: string[] = [];
    if (t.storages.some((s) => s.encrypted)) {
      fetch.push(`pulumi stack output pbsEncryptionKeys --show-secrets --json -s ${stack} > pbs-keys.json   # one key per storage id`);
      fetch.push(`pulumi stack output encryptionKeyFingerprints -s ${stack}`);
    }
    if (t.rclonePasswords.length) {
      for (const n of t.rclonePasswords) fetch.push(`pulumi stack export --show-secrets -s ${stack} | jq -r '.deployment.resources[] | select(.urn | endswith("::${n}")) | .outputs.result'`);
    }
    if (t.agents.length) {
      fetch.push(`pulumi stack output borgRepositoryKeys --show-secrets --json -s ${stack} > borg-keys.json`);
      for (const a of t.agents) fetch.push(`pulumi stack export --show-secrets -s ${stack} | jq -r '.deployment.resources[] | select(.urn | endswith("::${a.name}-borg-passphrase")) | .outputs.result'`);
    }
    push(...code(fetch), "");
    if (t.storages.some((s) => s.encrypted)) {
      push(
        "**Before any `pulumi up` against a rebuilt Proxmox VE, save `pbsEncryptionKeys`.** Pulumi re-creates a missing storage with a newly generated key, and the output then holds only the new one; the existing backups stay readable only with the old key. And put the key file back before the first backup job runs: without it PVE backs up unencrypted.",
        "",
      );
    }
  }

  // Complete loss
  push("## Complete infrastructure loss", "");
  push("Immediate actions: assess damage and scope, activate the recovery team, set up temporary infrastructure. Then, in this order:", "");

  push("### 1. Restore the hypervisor host", "");
  push(`Reinstall Proxmox VE on ${t.pveNodes.length ? t.pveNodes.map((n) => `\`${n}\``).join(", ") : "the nodes"} and re-form the cluster${t.pveEndpoint ? ` (API ${t.pveEndpoint})` : ""}. Then bring back the backup server and give PVE its storages with the **same ids and keys**:`, "");
  for (const d of t.datastores) {
    const replica = t.replicas.find((r) => r.sources.some((s) => s === d.dataset));
    const off = replica ? offsiteOf(t, `/mnt/${replica.target}`) : undefined;
    push(`**Datastore \`${d.name}\`** (\`${d.path ?? "?"}\`) — use the first source that survived:`, "");
    const lines = [`# a) the PBS disks survived: reinstall PBS, import the pool, re-attach the datastore`, `zpool import ${d.dataset?.split("/")[0] ?? "<pool>"}`, `proxmox-backup-manager datastore create ${d.name} ${d.path ?? "<path>"} --reuse-datastore true`];
    if (replica) {
      lines.push(`# b) PBS lost, TrueNAS survived: send the newest replica snapshot back (on TrueNAS)`);
      lines.push(`zfs list -t snapshot -o name -s creation ${replica.target} | tail -1`);
      lines.push(`zfs send ${replica.target}@<newest snapshot> | ssh root@${replica.from ?? "<pbs-host>"} zfs receive -F ${d.dataset ?? "<dataset>"}`);
      lines.push(`proxmox-backup-manager datastore create ${d.name} ${d.path ?? "<path>"} --reuse-datastore true   # on PBS`);
    }
    if (off) {
      lines.push(`# c) the site is lost: download the off-site copy onto the new PBS host (RCLONE_PASSWORD/RCLONE_SALT: see Keys)`);
      lines.push(...bucketRestore(off.bucket, off.sync, d.path ?? "<path>"));
      lines.push(`proxmox-backup-manager datastore create ${d.name} ${d.path ?? "<path>"} --reuse-datastore true`);
    }
    if (!replica && !off) lines.push(`# no replica or off-site copy of ${d.name} is declared: if the PBS disks are lost, so are its backups`);
    lines.push(`proxmox-backup-manager verify ${d.name}   # before restoring from it`);
    push(...code(lines), "");
  }
  const repoSyncs = new Map<string, { bucket: BucketInfo; sync: SyncInfo; agents: string[] }>();
  for (const a of t.agents) {
    const path = /^ssh:\/\/[^/]+(\/.*)$/.exec(a.repository ?? "")?.[1];
    const off = path ? offsiteOf(t, path) : undefined;
    if (!off) continue;
    const entry = repoSyncs.get(off.sync.task) ?? { ...off, agents: [] };
    entry.agents.push(a.name);
    repoSyncs.set(off.sync.task, entry);
  }
  for (const { bucket, sync, agents } of repoSyncs.values()) {
    push(`**Borg repositories of ${agents.map((a) => `\`${a}\``).join(", ")}** (\`${sync.path}\` on the NAS) — if the NAS is lost, restore them onto the new NAS before the agents run again:`, "");
    push(...code(bucketRestore(bucket, sync, sync.path)), "");
  }
  if (t.storages.length) {
    push("On one PVE node, add each storage by hand with its declared id and put its old key back (the token secret is in Pulumi state, or create a new token for the restore):", "");
    const lines: string[] = [];
    for (const s of t.storages) {
      lines.push(`pvesm add pbs ${s.id} --server ${s.server} --datastore ${s.datastore}${s.namespace ? ` --namespace ${s.namespace}` : ""}${s.username ? ` --username '${s.username}'` : ""} --password '<token secret>'${s.fingerprint ? ` --fingerprint ${s.fingerprint}` : ""} --content backup`);
      if (s.encrypted) lines.push(`jq -r '."${s.id}"' pbs-keys.json > ${keyFile(s)} && chmod 600 ${keyFile(s)}`);
    }
    lines.push("pvesm status");
    push(...code(lines), "");
    push(`Run \`pulumi refresh -s ${stack}\` and \`pulumi up -s ${stack}\` only after the restores: it finds the storages under their ids and converges jobs, PBS users and replication around them.`, "");
  }

  push("### 2. Configure network connectivity", "");
  const checks: string[] = [];
  for (const server of [...new Set(t.storages.map((s) => s.server))]) checks.push(`nc -zv ${server} 8007        # PVE → PBS (backup network)`);
  if (t.pbsApi && t.pbsFingerprint) {
    const host = t.pbsApi.replace(/^https:\/\//, "");
    checks.push(`openssl s_client -connect ${host} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256   # must print ${t.pbsFingerprint}`);
  }
  for (const r of t.replicas.slice(0, 1)) if (r.from) checks.push(`ssh root@${r.from} true   # from TrueNAS: the replication pulls over SSH`);
  for (const a of t.agents) {
    const host = /^ssh:\/\/(?:[^@/]+@)?([^/:]+)/.exec(a.repository ?? "")?.[1];
    if (host) checks.push(`ssh ${/^ssh:\/\/([^@/]+)@/.exec(a.repository ?? "")?.[1] ?? "borg"}@${host} true   # from ${a.name}: its borg repository`);
  }
  if (t.network.length) {
    const kinds = [...new Set(t.network.map((r) => r.type.split(":").pop() as string))];
    push(`The backup network is declared (${t.network.length} resources: ${kinds.join(", ")}); \`pulumi up -s ${stack}\` re-creates it once PVE answers. Until then, these are the flows it allows:`, "");
  }
  const flows = doc.flows ?? [];
  if (flows.length) {
    push(markdownTable(["From", "To", "Port", "Why"], flows.map((f) => [f.from, f.to, f.port, f.why])), "");
  }
  push("Check every path the backups and restores use:", "", ...code(checks.length ? checks : ["# no network path is declared by the resources"]), "");

  const [first, ...rest] = groupByTier(t.services);
  push("### 3. Restore critical VMs from backup", "");
  if (first) {
    push(`Tier \`${first.tier}\` (RTO target ${first.services[0] ? rtoText(first.services[0]) : "?"}), in this order: ${first.services.map((s) => `**${s.cls.name}**`).join(", ")}.`, "");
    for (const svc of first.services) push(...code(vmRestore(svc, node)), "");
  } else push("_No service is declared._", "");

  push("### 4. Restore databases", "");
  const dbAgents = t.agents.filter((a) => a.databases.length);
  if (dbAgents.length) {
    push("The VM snapshots of step 3 are crash-consistent; these dumps are application-consistent. Restore a dump when a database in the restored VM does not recover cleanly, or when the dump is newer than the snapshot.", "");
    for (const a of dbAgents) push(...code(agentRestore(a, "databases")), "");
    push(`A rebuilt host gets its agent back with \`pulumi up -s ${stack}\` (config, secrets, timer; the repository is reused).`, "");
  } else {
    push("No database dumps are declared in this stack (no agent with databases): databases come back inside their VMs in step 3, crash-consistent. Check them in step 6.", "");
  }

  push("### 5. Restore application data", "");
  for (const g of rest) {
    push(`Tier \`${g.tier}\` (RTO target ${g.services[0] ? rtoText(g.services[0]) : "?"}): ${g.services.map((s) => `**${s.cls.name}**`).join(", ")}.`, "");
    for (const svc of g.services) push(...code(vmRestore(svc, node)), "");
  }
  const fileAgents = t.agents.filter((a) => a.volumes.length || a.paths.length);
  for (const a of fileAgents) push(`Files and volumes of agent \`${a.name}\`:`, "", ...code(agentRestore(a, "files")), "");
  if (!rest.length && !fileAgents.length) push("_Nothing beyond step 3 is declared._", "");

  push("### 6. Verify service functionality", "");
  const verify: string[] = [];
  for (const svc of t.services) {
    const ids = svc.vmids.length ? svc.vmids : ["<vmid>"];
    verify.push(`# ${svc.cls.name} (RTO target ${rtoText(svc)})`);
    for (const id of ids) verify.push(`qm status ${id} && qm guest cmd ${id} ping`);
    if (svc.storage) verify.push(`vzdump ${svc.vmids.length ? svc.vmids.join(" ") : "<vmids>"} --storage ${svc.storage.id} --mode snapshot --compress zstd   # the backup chain works again`);
  }
  for (const d of t.datastores) verify.push(`proxmox-backup-manager verify ${d.name}`);
  for (const r of t.replicas) verify.push(`zfs list -t snapshot -o name,creation -s creation ${r.target} | tail -2   # on TrueNAS, after task ${r.task} ran`);
  for (const a of t.agents) verify.push(`${a.wrapper} check   # on ${a.name}: ${a.repository ?? "its repository"}`);
  push(...code(verify), "");
  push("Then: test every critical service end to end, verify data integrity, update DNS and network configs, and write down what happened and how long each step took (compare with the RTO targets above).", "");

  // Partial loss
  push("## Partial service loss", "");
  push("1. **Identify affected services** in the table below.", "2. **Restore from the most recent backup** through the service's storage (PVE and PBS are up, so the storages and keys are in place). Restore next to the original first, then swap:", "");
  const partial: string[] = [];
  for (const svc of t.services) {
    if (!svc.storage) continue;
    const id = svc.vmids[0] ?? "<vmid>";
    partial.push(`# ${svc.cls.name}: ${guestsText(svc).replace(/`/g, "")}`);
    partial.push(`pvesm list ${svc.storage.id} --content backup${svc.vmids.length ? ` --vmid ${id}` : ""}`);
    partial.push(`qmrestore ${svc.storage.id}:backup/vm/${id}/<time> <free vmid> --unique --storage <vm-disk-storage>`);
  }
  push(...code(partial.length ? partial : ["# no service has a declared storage"]), "");
  push("3. **Validate restored data** (step 6 above, for this service).", `4. **Resume normal operations**: remove the old guest, give the restored one its id back (or update the job's guests), and watch the next scheduled run of its job.`, "");
  push(
    markdownTable(
      ["Service", "Job", "Schedule", "Storage", "Copies (3-2-1)"],
      t.services.map((svc) => {
        const n = counts(svc.cls);
        return [svc.cls.name, svc.job?.name ?? "?", svc.cls.schedule ? `\`${svc.cls.schedule}\`` : "?", svc.storage ? `\`${svc.storage.id}\`` : "?", `${n.copies}/${n.media}/${n.offsite}`];
      }),
    ),
    "",
  );

  // Corruption
  push("## Data corruption", "");
  push("1. **Identify the corruption extent**: when it started, and which copies already hold it. How far back each copy reaches:", "");
  for (const svc of t.services) push(`   - **${svc.cls.name}**: ${svc.cls.copies.filter((c) => !c.original).map(copyLine).join("; ") || "no backup copy"}`);
  push("");
  const listing: string[] = [];
  for (const s of t.storages) listing.push(...pbsEnv(s), `proxmox-backup-client snapshot list${nsFlag(s)}   # ${s.id}`);
  for (const r of t.replicas) listing.push(`zfs list -t snapshot -o name,creation -s creation ${r.target}   # on TrueNAS: the replica's restore points`);
  for (const a of t.agents) listing.push(`${a.wrapper} rlist   # on ${a.name}`);
  push(...code(listing), "");
  push("2. **Restore from the newest backup taken before the corruption**: pick its snapshot time in the listing and restore it as in *Partial service loss* (`qmrestore <storage>:backup/vm/<vmid>/<that time> …`). A PBS datastore that holds corrupted or encrypted-by-ransomware data is not the only copy: the TrueNAS replica keeps read-only ZFS snapshots, and an off-site bucket with Object Lock keeps every version for its lock period.", "");
  if (dbAgents.length) {
    push(`3. **Replay transaction logs if available**: no WAL or binlog archiving is declared here; databases come back to their dump (${dbAgents.map((a) => `\`${a.wrapper} restore --archive <archive before the corruption>\``).join(", ")}) or snapshot point.`, "");
  } else {
    push("3. **Replay transaction logs if available**: no WAL or binlog archiving is declared here; databases come back to their snapshot point.", "");
  }
  push("4. **Validate data consistency**: file system checks in the guests, database checks (`pg_amcheck --all`, `mariadb-check --all-databases`), and `proxmox-backup-manager verify <datastore>` on the datastore the restore came from.", "");

  return out.join("\n").replace(/\n{3,}/g, "\n\n") + "\n";
}

function groupByTier(services: ServiceInfo[]): { tier: string; services: ServiceInfo[] }[] {
  const out: { tier: string; services: ServiceInfo[] }[] = [];
  for (const svc of services) {
    const last = out[out.length - 1];
    if (last && last.tier === svc.tier) last.services.push(svc);
    else out.push({ tier: svc.tier, services: [svc] });
  }
  return out;
}
