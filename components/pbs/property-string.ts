/**
 * PBS property strings: nested objects travel as `key=value,key=value` (datastore `tuning`,
 * `maintenance-mode`, webhook headers and secrets). A value that contains a comma, a double quote,
 * a backslash or surrounding whitespace, or is empty, is written in double quotes with `\"` and
 * `\\` escapes, which is what proxmox-schema's parser reads.
 */

/** Keys are kebab-case identifiers. */
const KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;

function needsQuotes(value: string): boolean {
  return value === "" || /[,"\\]/.test(value) || value !== value.trim() || /[\r\n]/.test(value);
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * Encodes entries in the order given; undefined values are left out. Booleans become true/false.
 * Throws on a key that is not an identifier, since PBS would misread it.
 */
export function encodePropertyString(entries: ReadonlyArray<readonly [string, string | number | boolean | undefined]>): string {
  const parts: string[] = [];
  for (const [key, raw] of entries) {
    if (raw === undefined) continue;
    if (!KEY.test(key)) throw new Error(`property-string key "${key}" is not an identifier`);
    const value = String(raw);
    parts.push(`${key}=${needsQuotes(value) ? quote(value) : value}`);
  }
  return parts.join(",");
}

/** Decodes a property string into its key/value pairs; throws with the position on malformed input. */
export function decodePropertyString(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`property string "${text}": expected key=value at position ${i}`);
    const key = text.slice(i, eq).trim();
    if (!KEY.test(key)) throw new Error(`property string "${text}": "${key}" is not a key`);
    i = eq + 1;
    let value = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`property string "${text}": unterminated quoted value for ${key}`);
        const c = text[i];
        if (c === "\\" && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (i < text.length && text[i] !== ",") throw new Error(`property string "${text}": expected , after the quoted value of ${key}`);
    } else {
      const comma = text.indexOf(",", i);
      const end = comma < 0 ? text.length : comma;
      value = text.slice(i, end);
      i = end;
    }
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new Error(`property string "${text}": ${key} appears twice`);
    out[key] = value;
    i++; // the comma
  }
  return out;
}
