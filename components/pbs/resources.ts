/**
 * The Pulumi resource classes for PBS objects. Each wraps the dynamic provider built from its
 * spec (datastore.ts, prune-job.ts, ...), which holds the API logic and stays free of
 * `@pulumi/pulumi` so it serializes small and loads fast.
 *
 * Every resource takes the connection as an input; it and any secret inputs are marked as secret
 * outputs, so they are encrypted in state.
 */
import * as pulumi from "@pulumi/pulumi";
import { aclSpec, type Role } from "./acl";
import { datastoreSpec, type DatastoreCapacity, type DatastoreTuning, type MaintenanceMode } from "./datastore";
import { namespaceSpec } from "./namespace";
import { gotifySpec, matcherSpec, smtpSpec, webhookSpec, type Severity } from "./notifications";
import { KIND, makeSharedProvider, secretOutputs, type PbsConnectionArgs } from "./provider";
import { pruneJobSpec } from "./prune-job";
import { tokenSpec } from "./token";
import { userSpec } from "./user";
import { verifyJobSpec } from "./verify-job";
import { DynamicResource, SerializedProvider } from "../dynamic/serialized-provider";

/** Every PBS resource shares this provider, so Pulumi serializes the API code once per program. */
const pbsProvider = new SerializedProvider("pbs", makeSharedProvider({
  datastore: datastoreSpec,
  pruneJob: pruneJobSpec,
  verifyJob: verifyJobSpec,
  namespace: namespaceSpec,
  user: userSpec,
  token: tokenSpec,
  acl: aclSpec,
  matcher: matcherSpec,
  smtp: smtpSpec,
  gotify: gotifySpec,
  webhook: webhookSpec,
}));


export interface DatastoreArgs {
  readonly connection: pulumi.Input<PbsConnectionArgs>;
  /** 3-32 characters. Immutable: a change replaces the datastore. */
  readonly name: pulumi.Input<string>;
  /** Absolute directory on the PBS host. Immutable: a change replaces the datastore. */
  readonly path: pulumi.Input<string>;
  readonly comment?: pulumi.Input<string>;
  /** Garbage-collection schedule (calendar event); PBS has no GC job besides this. */
  readonly gcSchedule?: pulumi.Input<string>;
  readonly tuning?: pulumi.Input<DatastoreTuning>;
  /** Verify every new backup snapshot right after it finishes. */
  readonly verifyNew?: pulumi.Input<boolean>;
  readonly maintenanceMode?: pulumi.Input<MaintenanceMode>;
  /** Let a delete of this resource remove the backup data on disk. @default false */
  readonly destroyDataOnDelete?: pulumi.Input<boolean>;
  /** The library's space projection, for the HB-CAPACITY policy; never sent to PBS. */
  readonly capacity?: pulumi.Input<DatastoreCapacity>;
}

export class Datastore extends DynamicResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly path: pulumi.Output<string>;
  declare readonly comment: pulumi.Output<string | undefined>;
  declare readonly gcSchedule: pulumi.Output<string | undefined>;
  /** Always `notification-system`; anything else read back is drift. */
  declare readonly notificationMode: pulumi.Output<string>;
  declare readonly tuning: pulumi.Output<DatastoreTuning | undefined>;
  declare readonly verifyNew: pulumi.Output<boolean | undefined>;
  declare readonly maintenanceMode: pulumi.Output<MaintenanceMode | undefined>;
  declare readonly destroyDataOnDelete: pulumi.Output<boolean>;

  constructor(name: string, args: DatastoreArgs, opts?: pulumi.CustomResourceOptions) {
    super(pbsProvider, name, { [KIND]: "datastore", notificationMode: undefined, ...args }, secretOutputs(opts), "pbs", "Datastore");
  }
}


export interface PruneJobArgs {
  readonly connection: pulumi.Input<PbsConnectionArgs>;
  /** Job id, 3-32 characters. Immutable: a change replaces the job. */
  readonly jobId: pulumi.Input<string>;
  readonly store: pulumi.Input<string>;
  /** When the job runs (calendar event). */
  readonly schedule: pulumi.Input<string>;
  /** Namespace to prune. @default the root namespace */
  readonly ns?: pulumi.Input<string>;
  /** How many namespace levels below `ns` are included. @default all (PBS) */
  readonly maxDepth?: pulumi.Input<number>;
  readonly keepLast?: pulumi.Input<number>;
  readonly keepHourly?: pulumi.Input<number>;
  readonly keepDaily?: pulumi.Input<number>;
  readonly keepWeekly?: pulumi.Input<number>;
  readonly keepMonthly?: pulumi.Input<number>;
  readonly keepYearly?: pulumi.Input<number>;
  readonly comment?: pulumi.Input<string>;
  /** @default false */
  readonly disable?: pulumi.Input<boolean>;
}

export class PruneJob extends DynamicResource {
  declare readonly jobId: pulumi.Output<string>;
  declare readonly store: pulumi.Output<string>;
  declare readonly schedule: pulumi.Output<string>;
  declare readonly ns: pulumi.Output<string | undefined>;
  declare readonly maxDepth: pulumi.Output<number | undefined>;
  declare readonly keepLast: pulumi.Output<number | undefined>;
  declare readonly keepHourly: pulumi.Output<number | undefined>;
  declare readonly keepDaily: pulumi.Output<number | undefined>;
  declare readonly keepWeekly: pulumi.Output<number | undefined>;
  declare readonly keepMonthly: pulumi.Output<number | undefined>;
  declare readonly keepYearly: pulumi.Output<number | undefined>;
  declare readonly comment: pulumi.Output<string | undefined>;
  declare readonly disable: pulumi.Output<boolean | undefined>;

  constructor(name: string, args: PruneJobArgs, opts?: pulumi.CustomResourceOptions) {
    super(pbsProvider, name, { [KIND]: "pruneJob", ...args }, secretOutputs(opts), "pbs", "PruneJob");
  }
}


export interface VerifyJobArgs {
  readonly connection: pulumi.Input<PbsConnectionArgs>;
  /** Job id, 3-32 characters. Immutable: a change replaces the job. */
  readonly jobId: pulumi.Input<string>;
  readonly store: pulumi.Input<string>;
  /** When the job runs (calendar event). @default none: manual runs only */
  readonly schedule?: pulumi.Input<string>;
  readonly ns?: pulumi.Input<string>;
  readonly maxDepth?: pulumi.Input<number>;
  /** Skip snapshots whose last verification is not outdated. @default true (PBS) */
  readonly ignoreVerified?: pulumi.Input<boolean>;
  /** Days after which a verification counts as outdated. @default never (PBS) */
  readonly outdatedAfterDays?: pulumi.Input<number>;
  readonly comment?: pulumi.Input<string>;
}

export class VerifyJob extends DynamicResource {
  declare readonly jobId: pulumi.Output<string>;
  declare readonly store: pulumi.Output<string>;
  declare readonly schedule: pulumi.Output<string | undefined>;
  declare readonly ns: pulumi.Output<string | undefined>;
  declare readonly maxDepth: pulumi.Output<number | undefined>;
  declare readonly ignoreVerified: pulumi.Output<boolean | undefined>;
  declare readonly outdatedAfterDays: pulumi.Output<number | undefined>;
  declare readonly comment: pulumi.Output<string | undefined>;

  constructor(name: string, args: VerifyJobArgs, opts?: pulumi.CustomResourceOptions) {
    super(pbsProvider, name, { [KIND]: "verifyJob", ...args }, secretOutputs(opts), "pbs", "VerifyJob");
  }
}


export interface NamespaceArgs {
  readonly connection: pulumi.Input<PbsConnectionArgs>;
  readonly store: pulumi.Input<string>;
  /** Parent namespace path. @default the root namespace */
  readonly parent?: pulumi.Input<string>;
  /** This namespace's own level (no `/`). */
  readonly name: pulumi.Input<string>;
}

export class Namespace extends DynamicResource {
  declare readonly store: pulumi.Output<string>;
  declare readonly parent: pulumi.Output<string | undefined>;
  declare readonly name: pulumi.Output<string>;
  /** The full namespace path, `parent/name`. */
  declare readonly path: pulumi.Output<string>;

  constructor(name: string, args: NamespaceArgs, opts?: pulumi.CustomResourceOptions) {
    super(pbsProvider, name, { [KIND]: "namespace", path: undefined, ...args }, secretOutputs(opts), "pbs", "Namespace");
  }
}


export interface UserArgs {
  readonly connection: pulumi.Input<PbsConnectionArgs>;
  /** `user@realm`, normally in the `pbs` realm. Immutable. */
  readonly userid: pulumi.Input<string>;
  readonly comment?: pulumi.Input<string>;
  readonly email?: pulumi.Input<string>;
  /** @default true (PBS) */
  readonly enable?: pulumi.Input<boolean>;
  /** Account expiry, epoch seconds; 0 = never. @default 0 */
  readonly expire?: pulumi.Input<number>;
}

export class User extends DynamicResource {
  declare readonly userid: pulumi.Output<string>;
  declare readonly comment: pulumi.Output<string | undefined>;
  declare readonly email: pulumi.Output<string | undefined>;
  declare readonly enable: pulumi.Output<boolean | undefined>;
  declare readonly expire: pulumi.Output<number | undefined>;

  constructor(name: string, args: UserArgs, opts?: pulumi.CustomResourceOptions) {
    super(pbsProvider, name, { [KIND]: "user", ...args }, secretOutputs(opts), "pbs", "User");
  }
}


export interface ApiTokenArgs {
  readonly connection: pulumi.Input<PbsConnectionArgs>;
  /** The user the token belongs to, `user@realm`. Immutable. */
  readonly userid: pulumi.Input<string>;
  /** Token name. Immutable: a new name creates a new token (and a new secret). */
  readonly tokenName: pulumi.Input<string>;
  readonly comment?: pulumi.Input<string>;
  /** @default true (PBS) */
  readonly enable?: pulumi.Input<boolean>;
  /** Expiry, epoch seconds; 0 = never. @default 0 */
  readonly expire?: pulumi.Input<number>;
}

export class ApiToken extends DynamicResource {
  declare readonly userid: pulumi.Output<string>;
  declare readonly tokenName: pulumi.Output<string>;
  declare readonly comment: pulumi.Output<string | undefined>;
  declare readonly enable: pulumi.Output<boolean | undefined>;
  declare readonly expire: pulumi.Output<number | undefined>;
  /** `user@realm!name`, what PVE's storage takes as `username`. */
  declare readonly tokenId: pulumi.Output<string>;
  /** The token secret (PVE's storage `password`); secret in state. */
  declare readonly secret: pulumi.Output<string>;

  constructor(name: string, args: ApiTokenArgs, opts?: pulumi.CustomResourceOptions) {
    super(pbsProvider, name, { [KIND]: "token", tokenId: undefined, secret: undefined, ...args }, secretOutputs(opts, ["secret"]), "pbs", "ApiToken");
  }
}


export interface AclArgs {
  readonly connection: pulumi.Input<PbsConnectionArgs>;
  /** `/datastore/<store>` or `/datastore/<store>/<ns>`, for example. Immutable. */
  readonly path: pulumi.Input<string>;
  readonly role: pulumi.Input<Role>;
  /** A user (`user@realm`) or token (`user@realm!name`). Immutable. */
  readonly authId: pulumi.Input<string>;
  /** Whether the role also applies below `path`. @default true (PBS) */
  readonly propagate?: pulumi.Input<boolean>;
}

export class Acl extends DynamicResource {
  declare readonly path: pulumi.Output<string>;
  declare readonly role: pulumi.Output<Role>;
  declare readonly authId: pulumi.Output<string>;
  declare readonly propagate: pulumi.Output<boolean>;

  constructor(name: string, args: AclArgs, opts?: pulumi.CustomResourceOptions) {
    super(pbsProvider, name, { [KIND]: "acl", ...args }, secretOutputs(opts), "pbs", "Acl");
  }
}

const endpointKinds: Record<string, string | undefined> = {
  smtp: "smtp",
  gotify: "gotify",
  webhook: "webhook",
};

interface EndpointCommonArgs {
  readonly connection: pulumi.Input<PbsConnectionArgs>;
  /** Target name, unique among all notification targets and matchers. Immutable. */
  readonly name: pulumi.Input<string>;
  readonly comment?: pulumi.Input<string>;
  readonly disable?: pulumi.Input<boolean>;
}

export interface SmtpEndpointArgs extends EndpointCommonArgs {
  readonly type: "smtp";
  readonly server: pulumi.Input<string>;
  /** @default 465 for tls, 587 for starttls, 25 for insecure (PBS) */
  readonly port?: pulumi.Input<number>;
  /** @default "tls" */
  readonly mode?: pulumi.Input<"insecure" | "starttls" | "tls">;
  readonly username?: pulumi.Input<string>;
  /** Pass a secret. */
  readonly password?: pulumi.Input<string>;
  readonly fromAddress: pulumi.Input<string>;
  readonly mailto?: pulumi.Input<pulumi.Input<string>[]>;
  /** PBS users whose e-mail address receives the mail. */
  readonly mailtoUser?: pulumi.Input<pulumi.Input<string>[]>;
  readonly author?: pulumi.Input<string>;
}

export interface GotifyEndpointArgs extends EndpointCommonArgs {
  readonly type: "gotify";
  readonly server: pulumi.Input<string>;
  /** Gotify application token; pass a secret. */
  readonly token: pulumi.Input<string>;
}

export interface WebhookEndpointArgs extends EndpointCommonArgs {
  readonly type: "webhook";
  readonly url: pulumi.Input<string>;
  /** @default "post" */
  readonly method?: pulumi.Input<"post" | "put">;
  readonly headers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Body template (handlebars, PBS's notification template syntax). */
  readonly body?: pulumi.Input<string>;
  /** Secret values the templates can use as `{{ secrets.<name> }}`; pass secrets. */
  readonly secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export type NotificationEndpointArgs = SmtpEndpointArgs | GotifyEndpointArgs | WebhookEndpointArgs;

export class NotificationEndpoint extends DynamicResource {
  declare readonly type: pulumi.Output<"smtp" | "gotify" | "webhook">;
  declare readonly name: pulumi.Output<string>;
  declare readonly comment: pulumi.Output<string | undefined>;
  declare readonly disable: pulumi.Output<boolean | undefined>;

  constructor(name: string, args: NotificationEndpointArgs, opts?: pulumi.CustomResourceOptions) {
    const kind = endpointKinds[args.type];
    if (kind === undefined) throw new Error(`notification target type must be smtp, gotify or webhook, got ${String(args.type)}`);
    super(pbsProvider, name, { [KIND]: kind, ...args }, secretOutputs(opts, ["password", "token", "secrets"]), "pbs", "NotificationEndpoint");
  }
}


export interface NotificationMatcherArgs {
  readonly connection: pulumi.Input<PbsConnectionArgs>;
  /** Matcher name, unique among targets and matchers. Immutable. */
  readonly name: pulumi.Input<string>;
  /** Notification targets (endpoint names) that receive matching events. */
  readonly targets?: pulumi.Input<pulumi.Input<string>[]>;
  readonly matchSeverity?: pulumi.Input<pulumi.Input<Severity>[]>;
  /** Field rules such as `exact:type=gc,prune,verify,sync` or `regex:datastore=^backup-.*$`. */
  readonly matchField?: pulumi.Input<pulumi.Input<string>[]>;
  /** Time windows such as `mon-fri 9:00-17:00`. */
  readonly matchCalendar?: pulumi.Input<pulumi.Input<string>[]>;
  /** Whether all rules or any rule must match. @default "all" (PBS) */
  readonly mode?: pulumi.Input<"all" | "any">;
  readonly invertMatch?: pulumi.Input<boolean>;
  readonly comment?: pulumi.Input<string>;
  readonly disable?: pulumi.Input<boolean>;
}

export class NotificationMatcher extends DynamicResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly targets: pulumi.Output<string[] | undefined>;
  declare readonly matchSeverity: pulumi.Output<Severity[] | undefined>;
  declare readonly matchField: pulumi.Output<string[] | undefined>;
  declare readonly matchCalendar: pulumi.Output<string[] | undefined>;
  declare readonly mode: pulumi.Output<"all" | "any" | undefined>;
  declare readonly invertMatch: pulumi.Output<boolean | undefined>;
  declare readonly comment: pulumi.Output<string | undefined>;
  declare readonly disable: pulumi.Output<boolean | undefined>;

  constructor(name: string, args: NotificationMatcherArgs, opts?: pulumi.CustomResourceOptions) {
    super(pbsProvider, name, { [KIND]: "matcher", ...args }, secretOutputs(opts), "pbs", "NotificationMatcher");
  }
}
