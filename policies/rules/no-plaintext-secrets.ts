import { bad, na, ok, type Rule } from "../rule";

const SECRET_NAME = /(password|secret|token|passphrase|apikey|api_key|privatekey|private_key|encryptionkey)$/i;

/** Field names that hold a secret's value rather than its id, name or fingerprint. */
export function looksSecret(field: string): boolean {
  return SECRET_NAME.test(field) && !/(id|name|fingerprint|file|path)$/i.test(field);
}

export const noPlaintextSecrets: Rule = {
  id: "HB-SECRETS",
  name: "no-plaintext-secrets",
  description: "No secret travels as a plain input: passwords, tokens, keys and passphrases are Pulumi secrets, so they are encrypted in state and masked in logs and the plan.",
  fix: "Pass the value as a secret (config.requireSecret, pulumi.secret) or a secret output of the resource that creates it.",
  enforcement: "mandatory",
  check({ resources }) {
    return resources.map((r) => {
      const subject = `${r.type}::${r.name}`;
      // Secretness is known to the offline plan; CrossGuard hands policies unwrapped values.
      if (!r.secretProps) return na(subject, "secretness of inputs unknown here");
      const leaks: string[] = [];
      const visit = (value: unknown, path: string, top: string) => {
        if (r.secretProps?.includes(top)) return;
        if (typeof value === "string" && looksSecret(path.split(".").pop() ?? "") && value !== "" && value !== "[secret]" && value !== "[unknown]") leaks.push(path);
        else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`, top);
      };
      for (const [k, v] of Object.entries(r.props)) visit(v, k, k);
      return leaks.length ? bad(subject, `${r.name} has plaintext secret inputs: ${leaks.join(", ")}`, r.urn) : ok(subject);
    });
  },
};
