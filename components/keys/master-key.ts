/**
 * The PBS master key: an RSA key pair (PBS's own `create-master-key` size) whose private half is
 * encrypted with a generated passphrase. The recovery root of client-side encryption, so it is
 * never rotated and both resources are protected and retained.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RsaKey } from "./rsa-key";

export interface PbsMasterKey {
  /** SPKI PEM, what PVE's `master-pubkey` and `import-master-pubkey` take. */
  publicKeyPem: pulumi.Output<string>;
  /** Secret: PKCS#8 PEM encrypted with `passphrase`. */
  privateKeyPem: pulumi.Output<string>;
  /** Secret. */
  passphrase: pulumi.Output<string>;
}

/** Declares the key pair and its passphrase under `parent`, named `<name>-pbs-master-*`. */
export function createPbsMasterKey(name: string, parent: pulumi.Resource, bits: 3072 | 4096 = 4096): PbsMasterKey {
  const keep = { parent, protect: true, retainOnDelete: true };
  const passphrase = new random.RandomPassword(`${name}-pbs-master-passphrase`, { length: 40, special: false }, { ...keep, additionalSecretOutputs: ["result", "bcryptHash"] });
  const master = new RsaKey(`${name}-pbs-master-key`, { bits, passphrase: pulumi.secret(passphrase.result) }, { ...keep, dependsOn: [passphrase] });
  return { publicKeyPem: master.publicKeyPem, privateKeyPem: pulumi.secret(master.privateKeyPem), passphrase: pulumi.secret(passphrase.result) };
}
