/**
 * The primary backup tier on Proxmox Backup Server: one datastore and everything that belongs to
 * it (namespaces, prune jobs, a verify job, PVE's API token and its ACLs, notification targets and
 * matchers).
 *
 * Arguments are plain values because they decide which resources exist and what they are called;
 * only secrets (the admin token secret, target passwords and tokens) are `pulumi.Input`s. They are
 * validated here, before anything is registered, so a bad config fails `pulumi preview` with every
 * problem listed rather than failing halfway through `pulumi up`.
 */
import * as pulumi from "@pulumi/pulumi";
import { CalendarError, parseCalendarEvent } from "../../config/calendar";
import type { DatastoreCapacity, DatastoreTuning } from "./datastore";
import { DATASTORE_NAME, NAMESPACE, SAFE_ID } from "./fields";
import type { PbsConnectionArgs } from "./provider";
import {
  Acl,
  ApiToken,
  Datastore,
  Namespace,
  NotificationEndpoint,
  NotificationMatcher,
  PruneJob,
  User,
  VerifyJob,
  type GotifyEndpointArgs,
  type NotificationMatcherArgs,
  type SmtpEndpointArgs,
  type WebhookEndpointArgs,
} from "./resources";

/** A prune job of the datastore: which namespace, when, and what to keep. */
export interface PruneJobSpec {
  /** Job id, 3-32 characters. @default "<datastore>-<ns with / as ->" or "<datastore>-root", cut to 32 */
  readonly id?: string;
  /** Namespace to prune; must be one of `namespaces`. @default "" (the root namespace) */
  readonly ns?: string;
  /** Namespace levels below `ns` to include. @default all levels (PBS) */
  readonly maxDepth?: number;
  /** When to prune (calendar event), after the nightly backups and before GC. */
  readonly schedule: string;
  readonly keepLast?: number;
  readonly keepHourly?: number;
  readonly keepDaily?: number;
  readonly keepWeekly?: number;
  readonly keepMonthly?: number;
  readonly keepYearly?: number;
  readonly comment?: string;
  /** @default false */
  readonly disable?: boolean;
}

/** The datastore's verify job. */
export interface VerifyJobSpec {
  /** @default "<datastore>-verify" */
  readonly id?: string;
  /** @default "Sat *-*-* 06:00" */
  readonly schedule?: string;
  /** Skip snapshots whose verification is not outdated. @default true */
  readonly ignoreVerified?: boolean;
  /** Days after which a verification is outdated and done again. @default 30 */
  readonly outdatedAfterDays?: number;
  /** Namespace to verify; must be one of `namespaces`. @default "" (the whole datastore) */
  readonly ns?: string;
  /** @default all levels (PBS) */
  readonly maxDepth?: number;
  readonly comment?: string;
}

/** The API token PVE's `pbs` storage uses, and where it may back up. */
export interface PveAccessSpec {
  /** The PBS user owning the token. @default "pve-backup@pbs" */
  readonly user?: string;
  /** @default "pve" */
  readonly tokenName?: string;
  /**
   * Create the user (without a password, so only its tokens can act). When created here, the user
   * gets the same ACLs as the token, because PBS grants a token the intersection of its own and its
   * user's privileges. An existing user's privileges are left alone.
   * @default true when the user is in the `pbs` realm
   */
  readonly createUser?: boolean;
  /**
   * Namespaces PVE writes into; DatastoreBackup is granted on exactly `/datastore/<name>/<ns>` for
   * each (propagate off). An empty list grants on `/datastore/<name>` (the root namespace) only.
   * @default []
   */
  readonly namespaces?: readonly string[];
}

/** A notification target; secrets (password, token, secrets) may be Pulumi secrets. */
export type NotificationEndpointSpec =
  | (Omit<SmtpEndpointArgs, "connection" | "name"> & { readonly name: string })
  | (Omit<GotifyEndpointArgs, "connection" | "name"> & { readonly name: string })
  | (Omit<WebhookEndpointArgs, "connection" | "name"> & { readonly name: string });

/** A notification matcher; `targets` name endpoints (declared here or existing in PBS). */
export type NotificationMatcherSpec = Omit<NotificationMatcherArgs, "connection" | "name" | "targets"> & {
  readonly name: string;
  readonly targets?: readonly string[];
};

export interface PbsDatastoreStackArgs {
  /** The admin connection: URL, pinned fingerprint, token id and (secret) token secret. */
  readonly connection: PbsConnectionArgs;
  /** Datastore name, 3-32 characters. Changing it replaces the datastore. */
  readonly name: string;
  /** Absolute directory on the PBS host. Changing it replaces the datastore. */
  readonly path: string;
  /** @default none */
  readonly comment?: string;
  /** Garbage collection schedule. @default "*-*-* 05:30" */
  readonly gcSchedule?: string;
  /** Verify each new backup right after it finishes. @default true */
  readonly verifyNew?: boolean;
  /** @default PBS's defaults (chunk-order inode, sync-level filesystem) */
  readonly tuning?: DatastoreTuning;
  /**
   * Allow `pulumi destroy` (or a replacement) to delete the datastore. Without it the datastore is
   * `protect`ed and `retainOnDelete`, so Pulumi refuses to delete it and would leave it in place.
   * @default false
   */
  readonly allowDestroy?: boolean;
  /** When the datastore is deleted, also delete its backup data (`destroy-data`). @default false */
  readonly destroyDataOnDelete?: boolean;
  /** The expected share of its pool, registered for the HB-CAPACITY policy. @default none (not judged) */
  readonly capacity?: DatastoreCapacity;
  /** Namespace paths to create ("critical", "archive/db"); missing parents are added. @default [] */
  readonly namespaces?: readonly string[];
  /** @default [] (no retention: nothing is ever pruned) */
  readonly pruneJobs?: readonly PruneJobSpec[];
  /** `false` for no verify job. @default { schedule: "Sat *-*-* 06:00", ignoreVerified: true, outdatedAfterDays: 30 } */
  readonly verifyJob?: VerifyJobSpec | false;
  /** `false` for no PVE token. @default { user: "pve-backup@pbs", tokenName: "pve", namespaces: [] } */
  readonly pveAccess?: PveAccessSpec | false;
  /** @default [] */
  readonly notificationEndpoints?: readonly NotificationEndpointSpec[];
  /**
   * @default one matcher "<datastore>-jobs" sending warnings and errors of this datastore's
   * gc/prune/verify/sync jobs to every endpoint (none when there are no endpoints)
   */
  readonly notificationMatchers?: readonly NotificationMatcherSpec[];
}

/** Job event types PBS reports; both spellings of verification are listed, as PBS versions differ. */
export const JOB_EVENT_TYPES = "gc,prune,verify,verification,sync";


/** Every namespace to create, parents before children. */
export function expandNamespaces(paths: readonly string[]): string[] {
  const all = new Set<string>();
  for (const path of paths) {
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join("/"));
  }
  return [...all].sort((a, b) => a.split("/").length - b.split("/").length || (a < b ? -1 : a > b ? 1 : 0));
}

/** `<store>-<ns>` with `/` as `-`, or `<store>-root`, cut to PBS's 32 characters. */
export function defaultPruneJobId(store: string, ns: string | undefined): string {
  return `${store}-${ns ? ns.replace(/\//g, "-") : "root"}`.slice(0, 32);
}

function calendarProblem(where: string, value: string): string | undefined {
  try {
    parseCalendarEvent(value);
    return undefined;
  } catch (e) {
    if (e instanceof CalendarError) return `${where}: "${value}" is not a calendar event PBS accepts: ${e.message}`;
    throw e;
  }
}

/** Every problem with `args`, one line each; empty when the stack can be built. */
export function validatePbsDatastoreStackArgs(args: PbsDatastoreStackArgs): string[] {
  const problems: string[] = [];
  const push = (p: string | undefined): void => {
    if (p) problems.push(p);
  };
  if (!DATASTORE_NAME.test(args.name)) push(`name: "${args.name}" is not a datastore name; expected 3-32 letters, digits, ., - or _`);
  if (!/^\/\S*$/.test(args.path)) push(`path: "${args.path}" is not an absolute path`);
  push(calendarProblem("gcSchedule", args.gcSchedule ?? "*-*-* 05:30"));

  const namespaces = new Set(expandNamespaces(args.namespaces ?? []));
  for (const ns of args.namespaces ?? []) {
    if (!NAMESPACE.test(ns)) push(`namespaces: "${ns}" is not a namespace path; expected up to 7 levels of letters, digits, ., - or _ separated by /`);
  }
  const slugs = new Map<string, string>();
  for (const ns of namespaces) {
    const other = slugs.get(slug(ns));
    if (other !== undefined) push(`namespaces: "${ns}" and "${other}" would get the same resource name; rename one`);
    slugs.set(slug(ns), ns);
  }
  const knownNs = (where: string, ns: string | undefined): void => {
    if (ns && !namespaces.has(ns)) push(`${where}: namespace "${ns}" is not in namespaces; add it there so it exists before the job`);
  };

  const jobIds = new Map<string, string>();
  const claim = (id: string, where: string): void => {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{2,31}$/.test(id)) push(`${where}: job id "${id}" must be 3-32 letters, digits, ., - or _`);
    const previous = jobIds.get(id);
    if (previous) push(`${where}: job id "${id}" is already used by ${previous}; set a distinct id`);
    jobIds.set(id, where);
  };
  (args.pruneJobs ?? []).forEach((job, i) => {
    const where = `pruneJobs[${i}]`;
    claim(job.id ?? defaultPruneJobId(args.name, job.ns), where);
    knownNs(where, job.ns);
    push(calendarProblem(`${where}.schedule`, job.schedule));
    const keeps = [job.keepLast, job.keepHourly, job.keepDaily, job.keepWeekly, job.keepMonthly, job.keepYearly];
    if (keeps.every((k) => k === undefined)) push(`${where}: a prune job without keep-* options keeps everything; set at least one`);
    if (keeps.some((k) => k !== undefined && (!Number.isInteger(k) || k < 1))) push(`${where}: keep-* options must be whole numbers of 1 or more`);
  });
  if (args.verifyJob !== false) {
    const verify = args.verifyJob ?? {};
    claim(verify.id ?? `${args.name}-verify`, "verifyJob");
    knownNs("verifyJob", verify.ns);
    push(calendarProblem("verifyJob.schedule", verify.schedule ?? "Sat *-*-* 06:00"));
  }
  if (args.pveAccess !== false) {
    const access = args.pveAccess ?? {};
    const user = access.user ?? "pve-backup@pbs";
    if (!/^[^\s:/@!]+@[A-Za-z0-9_-]+$/.test(user)) push(`pveAccess.user: "${user}" is not user@realm`);
    if (!SAFE_ID.test(access.tokenName ?? "pve")) push(`pveAccess.tokenName: "${access.tokenName}" may hold only letters, digits, ., - or _`);
    for (const ns of access.namespaces ?? []) knownNs("pveAccess.namespaces", ns);
  }

  const names = new Map<string, string>();
  const claimName = (name: string, where: string): void => {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{1,31}$/.test(name)) push(`${where}: "${name}" must be 2-32 letters, digits, ., - or _`);
    const previous = names.get(name);
    if (previous) push(`${where}: name "${name}" is already used by ${previous}; PBS targets and matchers share one namespace`);
    names.set(name, where);
  };
  (args.notificationEndpoints ?? []).forEach((e, i) => claimName(e.name, `notificationEndpoints[${i}]`));
  (args.notificationMatchers ?? []).forEach((m, i) => claimName(m.name, `notificationMatchers[${i}]`));
  return problems;
}

/** The matchers to create: the given ones, or the default job matcher when endpoints exist. */
export function resolveMatchers(args: PbsDatastoreStackArgs): NotificationMatcherSpec[] {
  if (args.notificationMatchers !== undefined) return [...args.notificationMatchers];
  const endpoints = args.notificationEndpoints ?? [];
  if (endpoints.length === 0) return [];
  return [
    {
      name: `${args.name}-jobs`.slice(0, 32),
      targets: endpoints.map((e) => e.name),
      matchSeverity: ["warning", "error"],
      matchField: [`exact:type=${JOB_EVENT_TYPES}`, `exact:datastore=${args.name}`],
      mode: "all",
      comment: `jobs of datastore ${args.name}`,
    },
  ];
}

/** The ACL paths PVE's token gets DatastoreBackup on. */
export function pveAclPaths(store: string, namespaces: readonly string[]): string[] {
  return namespaces.length === 0 ? [`/datastore/${store}`] : namespaces.map((ns) => `/datastore/${store}/${ns}`);
}

/** A resource-name-safe form of a namespace path or target name. */
function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, "-");
}

export class PbsDatastoreStack extends pulumi.ComponentResource {
  readonly datastore: Datastore;
  readonly datastoreName: pulumi.Output<string>;
  /** By namespace path. */
  readonly namespaces: Readonly<Record<string, Namespace>>;
  readonly pruneJobs: readonly PruneJob[];
  readonly verifyJob: VerifyJob | undefined;
  readonly pveUser: User | undefined;
  readonly pveToken: ApiToken | undefined;
  readonly pveAcls: readonly Acl[];
  readonly notificationEndpoints: readonly NotificationEndpoint[];
  readonly notificationMatchers: readonly NotificationMatcher[];
  /** `user@realm!token` for PVE's storage `username`; undefined without pveAccess. */
  readonly pveTokenId: pulumi.Output<string> | undefined;
  /** The token secret for PVE's storage `password` (secret). */
  readonly pveTokenSecret: pulumi.Output<string> | undefined;

  constructor(name: string, args: PbsDatastoreStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:pbs:Datastore", name, {}, opts);
    const problems = validatePbsDatastoreStackArgs(args);
    if (problems.length > 0) throw new Error(`PBS datastore ${args.name}:\n  ${problems.join("\n  ")}`);

    const connection = args.connection;
    const allowDestroy = args.allowDestroy ?? false;
    if (args.destroyDataOnDelete && !allowDestroy) {
      pulumi.log.warn(`datastore ${args.name}: destroyDataOnDelete has no effect while allowDestroy is false (the datastore is protected and retained)`, this);
    }

    this.datastore = new Datastore(
      `${name}-datastore`,
      {
        connection,
        name: args.name,
        path: args.path,
        comment: args.comment,
        gcSchedule: args.gcSchedule ?? "*-*-* 05:30",
        verifyNew: args.verifyNew ?? true,
        tuning: args.tuning,
        destroyDataOnDelete: args.destroyDataOnDelete ?? false,
        ...(args.capacity ? { capacity: args.capacity } : {}),
      },
      { parent: this, protect: !allowDestroy, retainOnDelete: !allowDestroy },
    );
    this.datastoreName = this.datastore.name;
    const onStore: pulumi.CustomResourceOptions = { parent: this, dependsOn: [this.datastore] };
    const after = (...extra: (pulumi.Resource | undefined)[]): pulumi.CustomResourceOptions => ({
      parent: this,
      dependsOn: [this.datastore, ...extra.filter((r): r is pulumi.Resource => r !== undefined)],
    });

    const namespaces: Record<string, Namespace> = {};
    for (const path of expandNamespaces(args.namespaces ?? [])) {
      const cut = path.lastIndexOf("/");
      const parent = cut < 0 ? undefined : path.slice(0, cut);
      namespaces[path] = new Namespace(
        `${name}-ns-${slug(path)}`,
        { connection, store: args.name, parent, name: path.slice(cut + 1) },
        after(parent === undefined ? undefined : namespaces[parent]),
      );
    }
    this.namespaces = namespaces;
    const nsResource = (ns: string | undefined): Namespace | undefined => (ns ? namespaces[ns] : undefined);

    this.pruneJobs = (args.pruneJobs ?? []).map((job) => {
      const jobId = job.id ?? defaultPruneJobId(args.name, job.ns);
      return new PruneJob(
        `${name}-prune-${jobId}`,
        {
          connection,
          jobId,
          store: args.name,
          ns: job.ns,
          maxDepth: job.maxDepth,
          schedule: job.schedule,
          keepLast: job.keepLast,
          keepHourly: job.keepHourly,
          keepDaily: job.keepDaily,
          keepWeekly: job.keepWeekly,
          keepMonthly: job.keepMonthly,
          keepYearly: job.keepYearly,
          comment: job.comment,
          disable: job.disable,
        },
        after(nsResource(job.ns)),
      );
    });

    if (args.verifyJob !== false) {
      const verify = args.verifyJob ?? {};
      this.verifyJob = new VerifyJob(
        `${name}-verify`,
        {
          connection,
          jobId: verify.id ?? `${args.name}-verify`,
          store: args.name,
          schedule: verify.schedule ?? "Sat *-*-* 06:00",
          ignoreVerified: verify.ignoreVerified ?? true,
          outdatedAfterDays: verify.outdatedAfterDays ?? 30,
          ns: verify.ns,
          maxDepth: verify.maxDepth,
          comment: verify.comment,
        },
        after(nsResource(verify.ns)),
      );
    }

    const acls: Acl[] = [];
    if (args.pveAccess !== false) {
      const access = args.pveAccess ?? {};
      const userid = access.user ?? "pve-backup@pbs";
      const createUser = access.createUser ?? userid.endsWith("@pbs");
      const accessNs = access.namespaces ?? [];
      if (createUser) {
        this.pveUser = new User(`${name}-pve-user`, { connection, userid, comment: "PVE backup storage (token access only)" }, onStore);
      }
      const token = new ApiToken(
        `${name}-pve-token`,
        { connection, userid, tokenName: access.tokenName ?? "pve", comment: `PVE storage for datastore ${args.name}` },
        after(this.pveUser),
      );
      this.pveToken = token;
      pveAclPaths(args.name, accessNs).forEach((path, i) => {
        const ns = accessNs[i];
        const suffix = ns === undefined ? "root" : slug(ns);
        const grant = (authId: pulumi.Input<string>, who: string, extra: pulumi.Resource | undefined): Acl =>
          new Acl(
            `${name}-pve-acl-${who}-${suffix}`,
            // propagate off: the grant covers exactly this datastore or namespace, nothing below it.
            { connection, path, role: "DatastoreBackup", authId, propagate: false },
            after(extra, nsResource(ns)),
          );
        acls.push(grant(token.tokenId, "token", token));
        if (this.pveUser) acls.push(grant(userid, "user", this.pveUser));
      });
      this.pveTokenId = token.tokenId;
      this.pveTokenSecret = pulumi.secret(token.secret);
    }
    this.pveAcls = acls;

    const endpoints = new Map<string, NotificationEndpoint>();
    for (const spec of args.notificationEndpoints ?? []) {
      endpoints.set(spec.name, new NotificationEndpoint(`${name}-notify-${slug(spec.name)}`, { ...spec, connection }, onStore));
    }
    this.notificationEndpoints = [...endpoints.values()];
    this.notificationMatchers = resolveMatchers(args).map(
      (spec) =>
        new NotificationMatcher(
          `${name}-matcher-${slug(spec.name)}`,
          { ...spec, targets: spec.targets === undefined ? undefined : [...spec.targets], connection },
          after(...(spec.targets ?? []).map((t) => endpoints.get(t))),
        ),
    );

    this.registerOutputs({
      datastoreName: this.datastoreName,
      namespaces: Object.keys(namespaces),
      pruneJobIds: this.pruneJobs.map((j) => j.jobId),
      verifyJobId: this.verifyJob?.jobId,
      pveTokenId: this.pveTokenId,
      pveTokenSecret: this.pveTokenSecret,
    });
  }
}
