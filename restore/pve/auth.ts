/**
 * How the restore tool authenticates to PVE: an API token from the environment, or a user's
 * password and second factor typed at the terminal and traded for a ticket. The password lives in
 * one local variable for the two login calls and is never written anywhere; the ticket expires on
 * its own after two hours.
 */
import { isRecord } from "../../components/pbs/client";
import { PveApiError, PveClient, type PveConnection } from "./client";

/** `user@realm!tokenid=secret`, the form `pveum user token add` prints and the Pulumi secret `pveApiToken` holds. */
const TOKEN = /^([^\s:@!=]+@[A-Za-z0-9._-]+![A-Za-z][A-Za-z0-9._-]*)=(\S+)$/;

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

/** The token in `PVE_API_TOKEN`, or undefined when unset. */
export function tokenFromEnv(env: NodeJS.ProcessEnv): { tokenId: string; secret: string } | undefined {
  const text = env.PVE_API_TOKEN;
  if (text === undefined || text === "") return undefined;
  const m = TOKEN.exec(text.trim());
  // The value is a secret: the message names the variable and the shape, never the value.
  if (!m) throw new AuthError("PVE_API_TOKEN: is not an API token; expected user@realm!tokenid=secret");
  return { tokenId: m[1], secret: m[2] };
}

export interface Prompter {
  password(message: string): Promise<string>;
  /** A TOTP code or a recovery key. */
  secondFactor(message: string): Promise<string>;
}

/** `totp:123456` for six digits, `recovery:<key>` otherwise: the two factors a terminal can give. */
export function secondFactorAnswer(code: string): string {
  const trimmed = code.trim();
  return /^\d{6}$/.test(trimmed) ? `totp:${trimmed}` : `recovery:${trimmed}`;
}

function field(data: unknown, name: string): string | undefined {
  return isRecord(data) && typeof data[name] === "string" ? (data[name] as string) : undefined;
}

/**
 * `POST /access/ticket` with the password; when the user has a second factor PVE answers with a
 * challenge ticket (`NeedTFA`), answered by a second POST carrying `tfa-challenge`.
 */
export async function loginWithTicket(connection: PveConnection, username: string, prompt: Prompter): Promise<PveClient> {
  const password = await prompt.password(`Password for ${username}`);
  const anonymous = new PveClient(connection, { kind: "none" }, [password]);
  let data: unknown;
  try {
    data = await anonymous.post("/access/ticket", { username, password });
  } catch (error) {
    if (error instanceof PveApiError && error.status === 401) throw new AuthError(`PVE refused the password for ${username}`);
    throw error;
  }
  if (isRecord(data) && (data.NeedTFA === 1 || data.NeedTFA === true)) {
    const challenge = field(data, "ticket");
    if (challenge === undefined) throw new AuthError("PVE asked for a second factor but sent no challenge");
    const code = await prompt.secondFactor(`Second factor for ${username} (TOTP code or recovery key)`);
    const answering = new PveClient(connection, { kind: "none" }, [password, challenge, code]);
    try {
      data = await answering.post("/access/ticket", { username, "tfa-challenge": challenge, password: secondFactorAnswer(code) });
    } catch (error) {
      if (error instanceof PveApiError && error.status === 401) throw new AuthError(`PVE refused the second factor for ${username}`);
      throw error;
    }
  }
  const ticket = field(data, "ticket");
  const csrf = field(data, "CSRFPreventionToken");
  if (ticket === undefined || csrf === undefined) throw new AuthError("PVE's login answer carried no ticket");
  return new PveClient(connection, { kind: "ticket", username: field(data, "username") ?? username, ticket, csrf });
}
