/**
 * Credentials come from the environment: the stack file's secrets are encrypted and there is no
 * Pulumi CLI to decrypt them. Problems name the variable, never its value.
 */
export const PBS_TOKEN_ENV = "HOMELAB_PBS_TOKEN";
export const TRUENAS_KEY_ENV = "HOMELAB_TRUENAS_API_KEY";

export interface PbsToken {
  tokenId: string;
  secret: string;
}

const TOKEN = /^([^\s:/@!]+@[A-Za-z0-9_-]+![A-Za-z0-9_][A-Za-z0-9._-]*):(\S+)$/;

/** The token, or the one-line problem with it. */
export function pbsTokenFrom(env: NodeJS.ProcessEnv): PbsToken | { problem: string } {
  const value = env[PBS_TOKEN_ENV];
  const expected = "expected the PBS API token as user@realm!name:secret";
  if (value === undefined || value.trim() === "") {
    return { problem: `${PBS_TOKEN_ENV}: is not set; ${expected} (the stack's pbsApiToken is encrypted and is not read here)` };
  }
  const m = TOKEN.exec(value.trim());
  if (!m) return { problem: `${PBS_TOKEN_ENV}: [secret]: is not a token; ${expected}` };
  return { tokenId: m[1] as string, secret: m[2] as string };
}

/** The TrueNAS API key, or why TrueNAS is left out (the report still runs without it). */
export function truenasKeyFrom(env: NodeJS.ProcessEnv): { apiKey: string } | { missing: string } {
  const value = env[TRUENAS_KEY_ENV]?.trim();
  return value ? { apiKey: value } : { missing: `${TRUENAS_KEY_ENV} is not set` };
}
