/**
 * The PBS datastore component under Pulumi's mock runtime (strict: any invoke fails), and the
 * dynamic providers it registers, deserialized the way the engine's dynamic-provider host does and
 * run against the PBS stand-in.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { PbsTestServer } from "../fixtures/pbs-server";

type PrimaryModule = typeof import("../../components/pbs/primary");

interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

const registered: Registered[] = [];
/** Resource options as the component passed them, by resource name (recorded by a transformation). */
const options = new Map<string, pulumi.ResourceOptions>();
let primary: PrimaryModule;
let server: PbsTestServer;

/** Mock state: inputs plus what the real providers compute on create. */
function mockState(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const state: Record<string, unknown> = { ...inputs };
  if (type.endsWith("pbs:ApiToken")) {
    state.tokenId = `${String(inputs.userid)}!${String(inputs.tokenName)}`;
    state.secret = "mock-token-secret";
  }
  if (type.endsWith("pbs:Namespace")) state.path = inputs.parent ? `${String(inputs.parent)}/${String(inputs.name)}` : inputs.name;
  if (type.endsWith("pbs:Datastore")) state.notificationMode = "notification-system";
  return state;
}

before(async () => {
  server = await PbsTestServer.start();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        return { id: `${args.name}-id`, state: mockState(args.type, args.inputs as Record<string, unknown>) };
      },
      call(args) {
        throw new Error(`unexpected invoke ${args.token}: the PBS component must not call functions`);
      },
    },
    "homelab-backup",
    "test",
  );
  // The component is loaded only after the mocks are in place.
  primary = await import("../../components/pbs/primary");
});
after(async () => {
  await server.close();
});

const record: pulumi.ResourceTransformation = (args) => {
  options.set(args.name, args.opts);
  return undefined;
};

function fullArgs(): import("../../components/pbs/primary").PbsDatastoreStackArgs {
  return {
    connection: { ...server.connection(), tokenSecret: pulumi.secret(server.tokenSecret) },
    name: "homelab",
    path: "/mnt/datastore/homelab",
    namespaces: ["critical", "important", "archive/db"],
    pruneJobs: [
      { ns: "critical", schedule: "*-*-* 05:00", keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
      { ns: "archive/db", schedule: "*-*-* 05:00", keepMonthly: 12, keepYearly: 5 },
    ],
    pveAccess: { namespaces: ["critical", "important"] },
    notificationEndpoints: [
      { type: "smtp", name: "mail", server: "smtp.example.org", fromAddress: "pbs@example.org", mailto: ["ops@example.org"], password: pulumi.secret("smtp-secret") },
      { type: "gotify", name: "phone", server: "https://gotify.example.org", token: pulumi.secret("gotify-secret") },
    ],
  };
}

/** Waits until every child has been registered with the mock monitor. */
async function settle(stack: InstanceType<PrimaryModule["PbsDatastoreStack"]>): Promise<void> {
  const children: pulumi.Resource[] = [
    stack.datastore, ...Object.values(stack.namespaces), ...stack.pruneJobs, ...(stack.verifyJob ? [stack.verifyJob] : []),
    ...(stack.pveUser ? [stack.pveUser] : []), ...(stack.pveToken ? [stack.pveToken] : []), ...stack.pveAcls,
    ...stack.notificationEndpoints, ...stack.notificationMatchers,
  ];
  await Promise.all(children.map((c) => new Promise((resolve) => c.urn.apply(resolve))));
}

const unwrap = <T>(o: pulumi.Output<T> | undefined): Promise<T | undefined> => new Promise((resolve) => (o ? o.apply(resolve) : resolve(undefined)));

describe("PbsDatastoreStack under mocks", () => {
  let stack: InstanceType<PrimaryModule["PbsDatastoreStack"]>;

  before(async () => {
    stack = new primary.PbsDatastoreStack("primary", fullArgs(), { transformations: [record] });
    await settle(stack);
  });

  it("registers exactly the expected children, typed and parented", async () => {
    const mine = registered.filter((r) => r.name.startsWith("primary-"));
    assert.deepEqual(
      mine.map((r) => `${r.type} ${r.name}`).sort(),
      [
        "pulumi-nodejs:dynamic/pbs:Acl primary-pve-acl-token-critical",
        "pulumi-nodejs:dynamic/pbs:Acl primary-pve-acl-token-important",
        "pulumi-nodejs:dynamic/pbs:Acl primary-pve-acl-user-critical",
        "pulumi-nodejs:dynamic/pbs:Acl primary-pve-acl-user-important",
        "pulumi-nodejs:dynamic/pbs:ApiToken primary-pve-token",
        "pulumi-nodejs:dynamic/pbs:Datastore primary-datastore",
        "pulumi-nodejs:dynamic/pbs:Namespace primary-ns-archive",
        "pulumi-nodejs:dynamic/pbs:Namespace primary-ns-archive-db",
        "pulumi-nodejs:dynamic/pbs:Namespace primary-ns-critical",
        "pulumi-nodejs:dynamic/pbs:Namespace primary-ns-important",
        "pulumi-nodejs:dynamic/pbs:NotificationEndpoint primary-notify-mail",
        "pulumi-nodejs:dynamic/pbs:NotificationEndpoint primary-notify-phone",
        "pulumi-nodejs:dynamic/pbs:NotificationMatcher primary-matcher-homelab-jobs",
        "pulumi-nodejs:dynamic/pbs:PruneJob primary-prune-homelab-archive-db",
        "pulumi-nodejs:dynamic/pbs:PruneJob primary-prune-homelab-critical",
        "pulumi-nodejs:dynamic/pbs:User primary-pve-user",
        "pulumi-nodejs:dynamic/pbs:VerifyJob primary-verify",
      ],
    );
    const urn = await unwrap(stack.datastore.urn);
    assert.equal(urn, "urn:pulumi:test::homelab-backup::homelab:pbs:Datastore$pulumi-nodejs:dynamic/pbs:Datastore::primary-datastore");
    for (const r of mine) assert.equal(options.get(r.name)?.parent, stack, `${r.name} is parented to the component`);
  });

  it("protects and retains the datastore by default; everything else depends on it", () => {
    const ds = options.get("primary-datastore");
    assert.equal(ds?.protect, true);
    assert.equal((ds as pulumi.CustomResourceOptions | undefined)?.retainOnDelete, true);
    for (const [name, opts] of options) {
      if (name === "primary-datastore" || name === "primary") continue;
      assert.ok(Array.isArray(opts.dependsOn) && opts.dependsOn.includes(stack.datastore), `${name} depends on the datastore`);
      assert.notEqual(opts.protect, true, `${name} is not protected`);
    }
    assert.ok((options.get("primary-ns-archive-db")?.dependsOn as pulumi.Resource[]).includes(stack.namespaces.archive), "child namespace after its parent");
    assert.ok((options.get("primary-prune-homelab-critical")?.dependsOn as pulumi.Resource[]).includes(stack.namespaces.critical));
    assert.ok((options.get("primary-pve-acl-token-critical")?.dependsOn as pulumi.Resource[]).includes(stack.pveToken as pulumi.Resource));
    const matcherDeps = options.get("primary-matcher-homelab-jobs")?.dependsOn as pulumi.Resource[];
    for (const e of stack.notificationEndpoints) assert.ok(matcherDeps.includes(e), "the matcher goes after (and is deleted before) its targets");
  });

  it("passes the datastore settings, defaults included", () => {
    const ds = registered.find((r) => r.name === "primary-datastore");
    assert.ok(ds);
    assert.equal(ds.inputs.name, "homelab");
    assert.equal(ds.inputs.gcSchedule, "*-*-* 05:30");
    assert.equal(ds.inputs.verifyNew, true);
    assert.equal(ds.inputs.destroyDataOnDelete, false);
    const verify = registered.find((r) => r.name === "primary-verify");
    assert.deepEqual(
      { jobId: verify?.inputs.jobId, schedule: verify?.inputs.schedule, ignoreVerified: verify?.inputs.ignoreVerified, outdatedAfterDays: verify?.inputs.outdatedAfterDays },
      { jobId: "homelab-verify", schedule: "Sat *-*-* 06:00", ignoreVerified: true, outdatedAfterDays: 30 },
    );
  });

  it("grants DatastoreBackup on exactly the PVE namespaces, to the token and its new user, without propagation", () => {
    const acls = registered.filter((r) => r.type.endsWith("pbs:Acl")).filter((r) => r.name.startsWith("primary-"));
    assert.deepEqual(
      acls.map((a) => [a.inputs.path, a.inputs.role, a.inputs.authId, a.inputs.propagate]).sort(),
      [
        ["/datastore/homelab/critical", "DatastoreBackup", "pve-backup@pbs!pve", false],
        ["/datastore/homelab/critical", "DatastoreBackup", "pve-backup@pbs", false],
        ["/datastore/homelab/important", "DatastoreBackup", "pve-backup@pbs!pve", false],
        ["/datastore/homelab/important", "DatastoreBackup", "pve-backup@pbs", false],
      ],
    );
  });

  it("exposes the PVE token as a secret output and keeps secrets out of plain state", async () => {
    assert.equal(await unwrap(stack.pveTokenId), "pve-backup@pbs!pve");
    assert.ok(stack.pveTokenSecret);
    assert.equal(await pulumi.isSecret(stack.pveTokenSecret), true);
    assert.equal(await unwrap(stack.pveTokenSecret), "mock-token-secret");
    const tokenOpts = options.get("primary-pve-token") as pulumi.CustomResourceOptions;
    assert.deepEqual([...(tokenOpts.additionalSecretOutputs ?? [])].sort(), ["connection", "secret"]);
    const endpointOpts = options.get("primary-notify-mail") as pulumi.CustomResourceOptions;
    assert.ok(endpointOpts.additionalSecretOutputs?.includes("password"));
  });

  it("the default matcher sends this datastore's job warnings and errors to every endpoint", () => {
    const m = registered.find((r) => r.name === "primary-matcher-homelab-jobs");
    assert.deepEqual(m?.inputs.targets, ["mail", "phone"]);
    assert.deepEqual(m?.inputs.matchSeverity, ["warning", "error"]);
    assert.deepEqual(m?.inputs.matchField, ["exact:type=gc,prune,verify,verification,sync", "exact:datastore=homelab"]);
  });

  it("with allowDestroy the datastore is neither protected nor retained; optional parts can be left out", async () => {
    const s = new primary.PbsDatastoreStack(
      "lab",
      { connection: fullArgs().connection, name: "scratch", path: "/mnt/scratch", allowDestroy: true, destroyDataOnDelete: true, verifyJob: false, pveAccess: false },
      { transformations: [record] },
    );
    await settle(s);
    assert.equal(options.get("lab-datastore")?.protect, false);
    assert.equal((options.get("lab-datastore") as pulumi.CustomResourceOptions).retainOnDelete, false);
    assert.deepEqual(registered.filter((r) => r.name.startsWith("lab-")).map((r) => r.name), ["lab-datastore"]);
    assert.equal(s.pveTokenId, undefined);
    assert.equal(registered.find((r) => r.name === "lab-datastore")?.inputs.destroyDataOnDelete, true);
  });

  it("fails with every problem listed before registering anything", () => {
    const before = registered.length;
    assert.throws(
      () =>
        new primary.PbsDatastoreStack("bad", {
          ...fullArgs(),
          name: "x",
          namespaces: ["critical"],
          pruneJobs: [
            { ns: "critical", schedule: "daily" },
            { ns: "critical", schedule: "@hourly", keepLast: 1 },
            { ns: "missing", schedule: "daily", keepLast: 1 },
          ],
          notificationMatchers: [{ name: "mail", targets: ["mail"] }],
        }),
      (e: Error) => {
        assert.equal(
          e.message,
          [
            "PBS datastore x:",
            '  name: "x" is not a datastore name; expected 3-32 letters, digits, ., - or _',
            "  pruneJobs[0]: a prune job without keep-* options keeps everything; set at least one",
            '  pruneJobs[1]: job id "x-critical" is already used by pruneJobs[0]; set a distinct id',
            '  pruneJobs[1].schedule: "@hourly" is not a calendar event PBS accepts: @epoch timestamps are not supported by PVE and PBS; expected a calendar event',
            '  pruneJobs[2]: namespace "missing" is not in namespaces; add it there so it exists before the job',
            '  pveAccess.namespaces: namespace "important" is not in namespaces; add it there so it exists before the job',
            '  notificationMatchers[0]: name "mail" is already used by notificationEndpoints[0]; PBS targets and matchers share one namespace',
          ].join("\n"),
        );
        return true;
      },
    );
    assert.equal(registered.length, before);
  });
});

/** Secrets reach mocks wrapped; the dynamic-provider host receives them plain. */
function unsecret(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unsecret);
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    if (record["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270") return unsecret(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unsecret(v)]));
  }
  return value;
}

/** How `pulumi-dynamic-provider` turns `__provider` back into a provider. */
const requireFromString = createRequire(require.resolve("@pulumi/pulumi"))("require-from-string") as (code: string) => {
  handler(): pulumi.dynamic.ResourceProvider;
};

const DEPLOY_ORDER = ["Datastore", "Namespace", "User", "ApiToken", "Acl", "PruneJob", "VerifyJob", "NotificationEndpoint", "NotificationMatcher"];

describe("serialized providers", () => {
  it("deserialize like the engine's host, deploy the component's resources to PBS, are idempotent, and tear down cleanly", async () => {
    const mine = registered
      .filter((r) => r.name.startsWith("primary-"))
      .map((r) => ({ ...r, kind: r.type.split(":").pop() ?? "" }))
      .sort((a, b) => DEPLOY_ORDER.indexOf(a.kind) - DEPLOY_ORDER.indexOf(b.kind) || a.name.length - b.name.length);
    assert.equal(mine.length, 17);
    const deployed: { name: string; provider: pulumi.dynamic.ResourceProvider; id: string; outs: Record<string, unknown>; inputs: Record<string, unknown> }[] = [];
    for (const r of mine) {
      const { __provider, ...inputs } = unsecret(r.inputs) as Record<string, unknown>;
      assert.equal(typeof __provider, "string", `${r.name} carries a serialized provider`);
      const provider = requireFromString(String(__provider)).handler();
      assert.ok(provider.check && provider.diff && provider.read && provider.update && provider.delete, `${r.name}: full CRUD`);
      const checked = await provider.check({}, inputs);
      assert.deepEqual(checked.failures ?? [], [], r.name);
      const created = await provider.create(checked.inputs);
      deployed.push({ name: r.name, provider, id: created.id, outs: created.outs as Record<string, unknown>, inputs: checked.inputs as Record<string, unknown> });
    }

    assert.equal(server.state.datastores.get("homelab")?.["notification-mode"], "notification-system");
    assert.deepEqual([...(server.state.namespaces.get("homelab") ?? [])].sort(), ["archive", "archive/db", "critical", "important"]);
    assert.deepEqual([...server.state.prune.keys()].sort(), ["homelab-archive-db", "homelab-critical"]);
    assert.deepEqual([...server.state.verify.keys()], ["homelab-verify"]);
    assert.ok(server.state.tokens.has("pve-backup@pbs!pve"));
    assert.deepEqual(
      server.state.acl.map((e) => `${e.ugid} ${e.roleid} ${e.path} ${e.propagate}`).sort(),
      [
        "pve-backup@pbs DatastoreBackup /datastore/homelab/critical false",
        "pve-backup@pbs DatastoreBackup /datastore/homelab/important false",
        "pve-backup@pbs!pve DatastoreBackup /datastore/homelab/critical false",
        "pve-backup@pbs!pve DatastoreBackup /datastore/homelab/important false",
      ],
    );
    assert.deepEqual([...server.state.notifications.keys()].sort(), ["homelab-jobs", "mail", "phone"]);
    assert.equal(server.state.notifications.get("mail")?.priv.password, "smtp-secret");

    // The next `pulumi up` with the same program: nothing to do, and refresh sees no drift.
    for (const d of deployed) {
      assert.deepEqual(await d.provider.diff?.(d.id, d.outs, d.inputs), { changes: false, replaces: [] }, d.name);
      assert.deepEqual((await d.provider.read?.(d.id, d.outs))?.props, d.outs, d.name);
    }

    // `pulumi destroy` deletes in reverse dependency order.
    for (const d of [...deployed].reverse()) await d.provider.delete?.(d.id, d.outs);
    assert.equal(server.state.datastores.size, 0);
    assert.equal(server.state.prune.size + server.state.verify.size + server.state.acl.length + server.state.notifications.size + server.state.tokens.size, 0);
    assert.deepEqual(server.datastoreDeletes, [{ name: "homelab", destroyData: false, keepJobConfigs: false }]);
    assert.ok(server.namespaceDeletes.every((n) => !n.deleteGroups));
  });
});

describe("planning helpers", () => {
  const minimal = () => ({ connection: fullArgs().connection, name: "homelab", path: "/mnt/homelab" });

  it("adds missing parent namespaces and orders parents first", () => {
    assert.deepEqual(primary.expandNamespaces(["b/c/d", "a", "b"]), ["a", "b", "b/c", "b/c/d"]);
  });

  it("derives prune job ids within PBS's 32 characters", () => {
    assert.equal(primary.defaultPruneJobId("homelab", undefined), "homelab-root");
    assert.equal(primary.defaultPruneJobId("homelab", "archive/db"), "homelab-archive-db");
    assert.equal(primary.defaultPruneJobId("a-very-long-datastore-name", "and/a/deep/namespace").length, 32);
  });

  it("grants on the datastore root only when PVE uses no namespace", () => {
    assert.deepEqual(primary.pveAclPaths("homelab", []), ["/datastore/homelab"]);
    assert.deepEqual(primary.pveAclPaths("homelab", ["critical"]), ["/datastore/homelab/critical"]);
  });

  it("no endpoints, no default matcher; explicit matchers replace the default", () => {
    assert.deepEqual(primary.resolveMatchers(minimal()), []);
    assert.deepEqual(primary.resolveMatchers({ ...minimal(), notificationEndpoints: fullArgs().notificationEndpoints, notificationMatchers: [] }), []);
  });

  it("reports namespaces whose resource names would collide, and accepts a minimal datastore", () => {
    assert.deepEqual(primary.validatePbsDatastoreStackArgs({ ...minimal(), namespaces: ["a-b", "a/b"] }), [
      'namespaces: "a/b" and "a-b" would get the same resource name; rename one',
    ]);
    assert.deepEqual(primary.validatePbsDatastoreStackArgs(minimal()), []);
  });
});
