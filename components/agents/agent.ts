/**
 * `BorgmaticAgent`: deploys one host's borgmatic agent over SSH with @pulumi/command. The steps
 * are separate `remote.Command`s so each re-runs only when its own script changes:
 *
 *   install ─► secrets ─► deploy ─► repo-init ─► key-export
 *
 * Secrets (passphrase, database passwords, the SSH key) reach the host only through secret
 * inputs: the connection and the standard input of the secrets step. Every script is built by
 * the pure generators beside this file, so what runs on a host is what the tests ran.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import {
  deployScript,
  disableScript,
  initRepositoryScript,
  installCommands,
  keyExportScript,
  renderSecretsEnv,
  secretsScript,
} from "./commands";
import { asRoot } from "./shell";
import { agentFiles, passwordRefs, resolveAgentSpec, type AgentSpec, type BorgmaticVersion, BORGMATIC_VERSIONS } from "./spec";
import { onCalendar } from "./systemd";

export const AGENT_TYPE = "homelab:agents:BorgmaticAgent";

/** How Pulumi reaches the host over SSH. */
export interface BorgmaticAgentConnection {
  /** @default spec.host.address */
  host?: pulumi.Input<string>;
  /**
   * Plain, not an Input: it decides whether the scripts run through `sudo -n`.
   * @default spec.host.sshUser ("root")
   */
  user?: string;
  /** @default spec.host.sshPort (22) */
  port?: pulumi.Input<number>;
  /** OpenSSH private key of the login; a secret (wrapped with `pulumi.secret` either way). */
  privateKey: pulumi.Input<string>;
}

export interface BorgmaticAgentArgs {
  /** What the agent backs up, where to, when and for how long; plain data (see `AgentSpec`). */
  spec: AgentSpec;
  connection: BorgmaticAgentConnection;
  /** Passphrase of the borg repository key; a secret. Lose it and the archives are unreadable. */
  passphrase: pulumi.Input<string>;
  /**
   * Database passwords by `passwordSecretRef`; secrets. Every ref the spec's databases name must
   * be here; keys are plain because they decide the secrets file's variables.
   * @default {}
   */
  databasePasswords?: Record<string, pulumi.Input<string>>;
  /** Config syntax the host's borgmatic reads: "1.7" (Debian 12) or "1.8" (1.8.2 to 1.9.x). @default "1.7" */
  borgmaticVersion?: BorgmaticVersion;
}

export class BorgmaticAgent extends pulumi.ComponentResource {
  /** Output of `borg key export`: with the passphrase, what opens the repository without this host. Secret. */
  readonly repositoryKey: pulumi.Output<string>;
  /** The timer's unit name on the host. */
  readonly timerUnit: string;
  /** The timer's `OnCalendar=` value. */
  readonly onCalendar: string;
  /** Path of the borgmatic config on the host. */
  readonly configPath: string;

  constructor(name: string, args: BorgmaticAgentArgs, opts?: pulumi.ComponentResourceOptions) {
    super(AGENT_TYPE, name, {}, opts);
    const version = args.borgmaticVersion ?? "1.7";
    if (!BORGMATIC_VERSIONS.includes(version)) {
      throw new Error(`agent ${name}: borgmaticVersion ${JSON.stringify(version)} is not one of ${BORGMATIC_VERSIONS.join(", ")}`);
    }
    const spec = resolveAgentSpec(args.spec);
    const passwords = args.databasePasswords ?? {};
    const missing = passwordRefs(spec).filter((r) => !(r in passwords));
    if (missing.length > 0) {
      throw new Error(`agent ${spec.name}: databasePasswords has no entry for ${missing.map((m) => JSON.stringify(m)).join(", ")}; expected one per passwordSecretRef`);
    }
    const files = agentFiles(spec);
    this.timerUnit = files.timerUnit;
    this.onCalendar = onCalendar(spec.schedule);
    this.configPath = files.config;

    const user = args.connection.user ?? spec.host.sshUser;
    const connection = {
      host: args.connection.host ?? spec.host.address,
      user,
      port: args.connection.port ?? spec.host.sshPort,
      privateKey: pulumi.secret(args.connection.privateKey),
    };
    const root = (script: string) => asRoot(script, user);

    const install = new remote.Command(
      `${name}-install`,
      { connection, create: root(installCommands(spec, version)) },
      { parent: this },
    );

    // Only the values go through `all`; the refs stay plain so a missing one fails at construction.
    const refs = passwordRefs(spec);
    const envFile = pulumi
      .all([pulumi.output(args.passphrase), ...refs.map((r) => pulumi.output(passwords[r] as pulumi.Input<string>))])
      .apply(([passphrase, ...values]) => renderSecretsEnv(spec, passphrase as string, Object.fromEntries(refs.map((r, i) => [r, values[i] as string]))));
    const secrets = new remote.Command(
      `${name}-secrets`,
      { connection, create: root(secretsScript(spec)), stdin: pulumi.secret(envFile), logging: "stderr" },
      // The secrets file stays when the agent goes: archives already written still need the passphrase.
      { parent: this, dependsOn: [install], retainOnDelete: true },
    );

    const deploy = new remote.Command(
      `${name}-deploy`,
      {
        connection,
        create: root(deployScript(spec, version)),
        // No triggers: a changed script is an update (create runs again), not a replacement.
        delete: root(disableScript(spec)),
      },
      // Should it ever be replaced, the old delete (disable the timer) must run before the new
      // create enables it, not after.
      { parent: this, dependsOn: [secrets], deleteBeforeReplace: true },
    );

    const init = new remote.Command(
      `${name}-repo-init`,
      { connection, create: root(initRepositoryScript(spec, version)) },
      // No delete command and retained: nothing Pulumi does removes a repository.
      { parent: this, dependsOn: [deploy], retainOnDelete: true },
    );

    const keyExport = new remote.Command(
      `${name}-key-export`,
      {
        connection,
        create: root(keyExportScript(spec)),
        // A new repository has a new key: export again when the repository or its mode changes.
        triggers: [spec.repository.url, spec.repository.encryption],
        logging: "stderr",
      },
      { parent: this, dependsOn: [init], additionalSecretOutputs: ["stdout"] },
    );
    this.repositoryKey = pulumi.secret(keyExport.stdout);

    this.registerOutputs({
      repositoryKey: this.repositoryKey,
      timerUnit: this.timerUnit,
      onCalendar: this.onCalendar,
      configPath: this.configPath,
    });
  }
}
