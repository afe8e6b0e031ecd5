/** IPv4 maths for subnet checks and firewall flows. Inputs are validated strings. */

export function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function parseCidr(cidr: string): { base: number; size: number; prefix: number } {
  const [ip, prefixText] = cidr.split("/") as [string, string];
  const prefix = Number(prefixText);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ipToInt(ip) / size) * size;
  return { base, size, prefix };
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const { base, size } = parseCidr(cidr);
  const n = ipToInt(ip);
  return n >= base && n < base + size;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.base < y.base + y.size && y.base < x.base + x.size;
}
