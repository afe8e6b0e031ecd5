/**
 * Reading SSH private keys offline: the public half (which the PBS host must authorise) and
 * TrueNAS's refusal of encrypted keys, so both are known at preview instead of after a call whose
 * answer TrueNAS may redact.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";

function sshString(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/** An SSH mpint: big-endian, with a leading zero byte when the top bit is set. */
function mpint(data: Buffer): Buffer {
  let d = data;
  while (d.length > 1 && d[0] === 0 && ((d[1] as number) & 0x80) === 0) d = d.subarray(1);
  return sshString((d[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), d]) : d);
}

function readString(buf: Buffer, offset: number): { value: Buffer; next: number } {
  if (offset + 4 > buf.length) throw new Error("truncated");
  const len = buf.readUInt32BE(offset);
  if (offset + 4 + len > buf.length) throw new Error("truncated");
  return { value: buf.subarray(offset + 4, offset + 4 + len), next: offset + 4 + len };
}

function publicLine(blob: Buffer): string {
  const type = readString(blob, 0).value.toString();
  return `${type} ${blob.toString("base64")}`;
}

function fromOpenSsh(text: string): { publicKey: string } | { error: string } {
  const body = text.replace(/-----(BEGIN|END) OPENSSH PRIVATE KEY-----/g, "").replace(/\s+/g, "");
  const buf = Buffer.from(body, "base64");
  const magic = "openssh-key-v1\0";
  if (buf.subarray(0, magic.length).toString("latin1") !== magic) return { error: "not an OpenSSH private key" };
  try {
    const cipher = readString(buf, magic.length);
    if (cipher.value.toString() !== "none") return { error: "Encrypted private keys are not allowed" };
    const kdf = readString(buf, cipher.next);
    const kdfOptions = readString(buf, kdf.next);
    const nkeys = buf.readUInt32BE(kdfOptions.next);
    if (nkeys !== 1) return { error: `expected one key in the file, found ${nkeys}` };
    return { publicKey: publicLine(readString(buf, kdfOptions.next + 4).value) };
  } catch {
    return { error: "the OpenSSH private key is truncated" };
  }
}

function fromPem(text: string): { publicKey: string } | { error: string } {
  if (/ENCRYPTED/.test(text)) return { error: "Encrypted private keys are not allowed" };
  let jwk: Record<string, unknown>;
  try {
    jwk = createPublicKey(createPrivateKey(text)).export({ format: "jwk" }) as Record<string, unknown>;
  } catch {
    return { error: "not a readable PEM private key" };
  }
  const b64 = (v: unknown): Buffer => Buffer.from(String(v), "base64url");
  if (jwk.kty === "RSA") return { publicKey: publicLine(Buffer.concat([sshString(Buffer.from("ssh-rsa")), mpint(b64(jwk.e)), mpint(b64(jwk.n))])) };
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return { publicKey: publicLine(Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(b64(jwk.x))])) };
  const curves: Record<string, string> = { "P-256": "nistp256", "P-384": "nistp384", "P-521": "nistp521" };
  const curve = curves[String(jwk.crv)];
  if (jwk.kty === "EC" && curve) {
    const point = Buffer.concat([Buffer.from([4]), b64(jwk.x), b64(jwk.y)]);
    return { publicKey: publicLine(Buffer.concat([sshString(Buffer.from(`ecdsa-sha2-${curve}`)), sshString(Buffer.from(curve)), sshString(point)])) };
  }
  return { error: `unsupported key type ${String(jwk.kty)}` };
}

/** The public key (`ssh-ed25519 AAAA...`) of an unencrypted OpenSSH or PEM private key, or why not. */
export function publicKeyOf(privateKey: string): { publicKey: string } | { error: string } {
  if (privateKey.includes("BEGIN OPENSSH PRIVATE KEY")) return fromOpenSsh(privateKey);
  if (/BEGIN [A-Z ]*PRIVATE KEY/.test(privateKey)) return fromPem(privateKey);
  return { error: "not a private key; expected an OpenSSH or PEM private key" };
}

/** A host key as `ssh-keyscan` prints it, optionally prefixed with the host: `[host]:22 ssh-ed25519 AAAA...`. */
const HOST_KEY = /^(?:\S+\s+)?((?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+[A-Za-z0-9+/]+={0,3})(?:\s+.*)?$/;

/**
 * Host key lines without the host prefix or comments, the form TrueNAS's own scan stores
 * (`remote_host_key`), or a reason when a line is not a public host key.
 */
export function normalizeHostKey(text: string): { hostKey: string } | { error: string } {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  if (lines.length === 0) return { error: "the host key is empty" };
  const keys: string[] = [];
  for (const line of lines) {
    const m = HOST_KEY.exec(line);
    if (!m) return { error: `"${line.slice(0, 40)}" is not an SSH public host key such as "ssh-ed25519 AAAA..."` };
    keys.push((m[1] as string).replace(/\s+/g, " "));
  }
  return { hostKey: keys.join("\n") };
}
