/**
 * What the report reads from PBS, through the project's PBS client (pinned TLS, retries,
 * redacted errors): the task list of the period, the snapshots of every namespace the services
 * write to, and datastore usage with its RRD history. Read-only: GETs only.
 *
 * The first call is `/version`, so a wrong fingerprint or token fails before anything else;
 * later per-datastore rejections become notes, because one missing datastore should not hide
 * the report of the others.
 */
import { isRecord, PbsApiError, PbsClient, seg, type PbsConnection } from "../components/pbs/client";
import type { Strategy } from "../config/strategy";
import type { Period } from "./period";

export interface PbsTask {
  upid: string;
  workerType: string;
  workerId: string;
  /** Unix seconds. */
  start: number;
  end?: number;
  /** "OK", "WARNINGS: n", PBS's error text, or undefined while running. */
  status?: string;
}

export interface PbsSnapshot {
  store: string;
  /** Namespace path; "" is the root namespace. */
  ns: string;
  type: string;
  id: string;
  /** Unix seconds. */
  time: number;
  size?: number;
  comment?: string;
  verification?: "ok" | "failed";
}

export interface PbsUsage {
  store: string;
  total?: number;
  used?: number;
  /** Samples of the fraction used, oldest first, nulls dropped. */
  history: { t: number; used: number }[];
}

export interface PbsData {
  version: string;
  tasks: PbsTask[];
  snapshots: PbsSnapshot[];
  usage: PbsUsage[];
  /** Per-datastore reads PBS refused, as lines for the report. */
  notes: string[];
}

const PAGE = 500;

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export async function readPbs(strategy: Strategy, connection: PbsConnection, period: Period): Promise<PbsData> {
  const client = new PbsClient(connection);
  const notes: string[] = [];
  const version = await client.get("/version");
  const versionText = isRecord(version) ? `${str(version.version) ?? "?"}-${str(version.release) ?? "?"}` : "unknown";

  const [tasks, usage, snapshots] = await Promise.all([
    readTasks(client, strategy.hosts.pbs.node, period),
    readUsage(client, strategy, notes),
    readSnapshots(client, strategy, notes),
  ]);
  return { version: versionText, tasks, snapshots, usage, notes };
}

/** Every task that started in the period; PBS pages the list and says how many match. */
async function readTasks(client: PbsClient, node: string, period: Period): Promise<PbsTask[]> {
  const out: PbsTask[] = [];
  for (let start = 0; ; start += PAGE) {
    const response = await client.request("GET", `/nodes/${seg(node)}/tasks`, { query: { since: period.start, until: period.end - 1, start, limit: PAGE } });
    const page = Array.isArray(response.data) ? response.data : [];
    for (const item of page) {
      if (!isRecord(item)) continue;
      const upid = str(item.upid);
      const begin = num(item.starttime);
      if (upid === undefined || begin === undefined) continue;
      const end = num(item.endtime);
      const status = str(item.status);
      out.push({
        upid,
        workerType: str(item.worker_type) ?? "",
        workerId: str(item.worker_id) ?? "",
        start: begin,
        ...(end !== undefined ? { end } : {}),
        ...(status !== undefined && end !== undefined ? { status } : {}),
      });
    }
    // The client keeps only `data`, not PBS's `total`; a short page is the last one.
    if (page.length < PAGE) break;
  }
  return out;
}

async function readUsage(client: PbsClient, strategy: Strategy, notes: string[]): Promise<PbsUsage[]> {
  const data = await client.get("/status/datastore-usage");
  const wanted = new Set(strategy.datastores.map((d) => d.name));
  const out: PbsUsage[] = [];
  for (const item of Array.isArray(data) ? data : []) {
    if (!isRecord(item) || !wanted.has(String(item.store))) continue;
    const start = num(item["history-start"]);
    const delta = num(item["history-delta"]);
    const history: PbsUsage["history"] = [];
    if (Array.isArray(item.history) && start !== undefined && delta !== undefined && delta > 0) {
      item.history.forEach((v, i) => {
        if (typeof v === "number" && Number.isFinite(v)) history.push({ t: start + i * delta, used: v });
      });
    }
    const total = num(item.total);
    const used = num(item.used);
    out.push({ store: String(item.store), ...(total !== undefined ? { total } : {}), ...(used !== undefined ? { used } : {}), history });
  }
  for (const name of wanted) if (!out.some((u) => u.store === name)) notes.push(`PBS reports no usage for datastore ${name}`);
  return out;
}

async function readSnapshots(client: PbsClient, strategy: Strategy, notes: string[]): Promise<PbsSnapshot[]> {
  const reads: Promise<PbsSnapshot[]>[] = [];
  for (const d of strategy.datastores) {
    const namespaces = new Set(strategy.services.filter((s) => s.datastore === d.name).map((s) => s.namespace ?? ""));
    for (const ns of namespaces) reads.push(readNamespace(client, d.name, ns, notes));
  }
  return (await Promise.all(reads)).flat();
}

async function readNamespace(client: PbsClient, store: string, ns: string, notes: string[]): Promise<PbsSnapshot[]> {
  let data: unknown;
  try {
    data = await client.get(`/admin/datastore/${seg(store)}/snapshots`, ns ? { ns } : {});
  } catch (e) {
    if (!(e instanceof PbsApiError) || e.status === 401 || e.status === 403) throw e;
    notes.push(`${store}${ns ? `:${ns}` : ""}: ${e.message}`);
    return [];
  }
  const out: PbsSnapshot[] = [];
  for (const item of Array.isArray(data) ? data : []) {
    if (!isRecord(item)) continue;
    const time = num(item["backup-time"]);
    const type = str(item["backup-type"]);
    const id = item["backup-id"] === undefined ? undefined : String(item["backup-id"]);
    if (time === undefined || type === undefined || id === undefined) continue;
    const verification = isRecord(item.verification) ? item.verification.state : undefined;
    const size = num(item.size);
    const comment = str(item.comment);
    out.push({
      store, ns, type, id, time,
      ...(size !== undefined ? { size } : {}),
      ...(comment !== undefined ? { comment } : {}),
      ...(verification === "ok" || verification === "failed" ? { verification } : {}),
    });
  }
  return out;
}
