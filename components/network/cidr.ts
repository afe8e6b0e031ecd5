/**
 * Address forms as Proxmox VE stores them in IP sets and rules: host bits zeroed and `/32`
 * dropped for single hosts. PVE rewrites whatever it is given into this form, so anything else in
 * the program shows up as a diff on every `pulumi up`.
 */
import { ipToInt, parseCidr } from "../../config/net";

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** `10.20.0.5/24` → `10.20.0.0/24`, `10.20.0.5/32` and `10.20.0.5` → `10.20.0.5`. */
export function normalizeCidr(address: string): string {
  if (!address.includes("/")) return intToIp(ipToInt(address));
  const { base, prefix } = parseCidr(address);
  return prefix === 32 ? intToIp(base) : `${intToIp(base)}/${prefix}`;
}

/** The prefix length of a subnet in CIDR form. */
export function prefixLength(cidr: string): number {
  return parseCidr(cidr).prefix;
}

/** Whether a (normalized) entry matches every IPv4 address; kernel hash:net sets refuse `/0`. */
export function isAnyAddress(cidr: string): boolean {
  return cidr.endsWith("/0");
}

/** Normalizes, removes duplicates and sorts numerically, so equal sets compare equal as arrays. */
export function normalizeSet(addresses: readonly string[]): string[] {
  const unique = [...new Set(addresses.map(normalizeCidr))];
  const key = (a: string) => {
    const { base, prefix } = a.includes("/") ? parseCidr(a) : { base: ipToInt(a), prefix: 32 };
    return base * 64 + prefix;
  };
  return unique.sort((a, b) => key(a) - key(b));
}
