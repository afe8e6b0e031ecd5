/**
 * What the report reads from TrueNAS through the project's JSON-RPC client: the replication of
 * each datastore (zettarepl's last state), the replica's snapshots, pool usage, and the off-site
 * cloud sync's last job. TrueNAS is the second copy, not the report's subject, so any failure
 * (unreachable, refused key, unknown certificate) becomes `unavailable` with the reason, and
 * the sections that need it say so.
 */
import { TruenasClient, type TruenasConnection } from "../components/truenas/client";
import type { Strategy } from "../config/strategy";

export interface ReplicationState {
  datastore: string;
  /** The task as TrueNAS names it; undefined when no task replicates the datastore. */
  task?: string;
  state?: string;
  /** Unix seconds of zettarepl's last state. */
  at?: number;
  error?: string;
  lastSnapshot?: string;
  replicaSnapshots: number;
  /** Unix seconds of the newest replica snapshot. */
  newestReplicaSnapshot?: number;
}

export interface PoolUsage {
  name: string;
  size: number;
  allocated: number;
  status: string;
}

export interface OffsiteSync {
  path: string;
  description?: string;
  state?: string;
  /** Unix seconds the last job finished (or started, if it has not). */
  at?: number;
  error?: string;
}

export type TruenasData =
  | { available: true; replications: ReplicationState[]; pool?: PoolUsage; offsite: OffsiteSync[] }
  | { available: false; reason: string };

type Row = Record<string, unknown>;

function isRow(value: unknown): value is Row {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** TrueNAS dates arrive as `{"$date": ms}`, epoch seconds, or text. */
export function unixOf(value: unknown): number | undefined {
  if (isRow(value) && typeof value.$date === "number") return Math.floor(value.$date / 1000);
  if (typeof value === "number") return value > 1e11 ? Math.floor(value / 1000) : value;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return Math.floor(parsed / 1000);
  }
  return undefined;
}

export async function readTruenas(strategy: Strategy, connection: TruenasConnection): Promise<TruenasData> {
  let client: TruenasClient | undefined;
  try {
    client = new TruenasClient(connection);
    const c = client;
    const [replications, pools, syncs] = await Promise.all([
      c.call("replication.query"),
      c.call("pool.query", [[["name", "=", strategy.hosts.truenas.pool]]]),
      c.call("cloudsync.query"),
    ]);
    const rows = Array.isArray(replications) ? replications.filter(isRow) : [];
    const states = await Promise.all(
      strategy.datastores.map(async (d): Promise<ReplicationState> => {
        const row = rows.find((r) => r.target_dataset === d.replicaDataset);
        const snaps = await c.call("pool.snapshot.query", [[["dataset", "=", d.replicaDataset]]]);
        const times = (Array.isArray(snaps) ? snaps.filter(isRow) : [])
          .map((s) => (isRow(s.properties) && isRow(s.properties.creation) ? unixOf(s.properties.creation.parsed) ?? unixOf(s.properties.creation.rawvalue) : undefined))
          .filter((t): t is number => t !== undefined);
        const state = isRow(row?.state) ? row.state : {};
        const at = unixOf(state.datetime);
        return {
          datastore: d.name,
          ...(row ? { task: String(row.name) } : {}),
          ...(typeof state.state === "string" && row ? { state: state.state } : {}),
          ...(at !== undefined ? { at } : {}),
          ...(typeof state.error === "string" ? { error: c.redact(state.error) } : {}),
          ...(typeof state.last_snapshot === "string" ? { lastSnapshot: state.last_snapshot } : {}),
          replicaSnapshots: Array.isArray(snaps) ? snaps.length : 0,
          ...(times.length ? { newestReplicaSnapshot: Math.max(...times) } : {}),
        };
      }),
    );
    const poolRow = (Array.isArray(pools) ? pools.filter(isRow) : []).find((p) => p.name === strategy.hosts.truenas.pool);
    const offsite = (Array.isArray(syncs) ? syncs.filter(isRow) : []).map((s): OffsiteSync => {
      const job = isRow(s.job) ? s.job : undefined;
      const at = unixOf(job?.time_finished) ?? unixOf(job?.time_started);
      return {
        path: String(s.path),
        ...(typeof s.description === "string" ? { description: s.description } : {}),
        ...(typeof job?.state === "string" ? { state: job.state } : {}),
        ...(at !== undefined ? { at } : {}),
        ...(typeof job?.error === "string" && job.error ? { error: c.redact(job.error) } : {}),
      };
    });
    return {
      available: true,
      replications: states,
      ...(poolRow
        ? { pool: { name: String(poolRow.name), size: Number(poolRow.size) || 0, allocated: Number(poolRow.allocated) || 0, status: String(poolRow.status ?? "unknown") } }
        : {}),
      offsite,
    };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { available: false, reason: client ? client.redact(message) : message.split(connection.apiKey).join("***") };
  } finally {
    client?.close();
  }
}
