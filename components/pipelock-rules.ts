/**
 * pipelock's own rules for the values a bottle hands it, checked in `pulumi preview` so that a
 * bad value fails there instead of killing the bottle's pipelock at start. Read from pipelock
 * v2.3.0 (commit 7a3b7de): `internal/config/validate.go` (`ValidateTrustedDomains`,
 * `validateSSRF`) and `internal/scanner/scanner.go` (`IsTrustedDomain`, `MatchDomain`).
 * Each function returns `<what is wrong>; <how to fix>` or undefined; config-schema.ts adds the
 * field path.
 */
import { isIP } from "node:net";

/** Where a host pattern goes in pipelock's config. */
export type HostPatternField = "extra_hosts" | "trusted_domains";

/**
 * pipelock accepts `*.` only before a name with at least two labels (`*.test` is refused in
 * `trusted_domains`). It does not check `api_allowlist` at all, where `*.test` would pass every
 * host under `.test`; the project holds `extra_hosts` to the same rule.
 */
function isBroadWildcard(pattern: string): boolean {
  return pattern.startsWith("*.") && !pattern.slice(2).includes(".");
}

/** A host pattern (already lower-case and shaped as a hostname or IPv4 address) that pipelock would refuse or ignore. */
export function hostPatternProblem(pattern: string, field: HostPatternField): string | undefined {
  if (isBroadWildcard(pattern)) {
    return "a wildcard must target a concrete domain, as pipelock requires (`*.example.com`, never `*.<top-level domain>`); " +
      "name the domain below the wildcard, e.g. *.example.test, or list the hosts";
  }
  // pipelock never matches an IP literal as a trusted domain: `pipelock check` passes, and it is ignored
  if (field === "trusted_domains" && isIP(pattern) !== 0) {
    return `is an IP address, which pipelock never matches as a trusted domain (it would be ignored); ` +
      `exempt the address with ssrf_ip_allowlist: [${pattern}/32] instead, or name the host`;
  }
  return undefined;
}

const V4_PARTS = 4;
const V6_GROUPS = 8;

/** An address as a number of `bits` bits; undefined unless it is a plain IPv4 or IPv6 address. */
function addressValue(addr: string): { value: bigint; bits: 32 | 128 } | undefined {
  const family = isIP(addr);
  if (family === 4) {
    return { value: addr.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n), bits: 32 };
  }
  // Go's ParseCIDR refuses zones (`fe80::1%eth0`), which Node's isIP accepts
  if (family !== 6 || addr.includes("%")) return undefined;
  let text = addr;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (isIP(tail) === 4) {
    // an embedded IPv4 address (`::ffff:10.0.0.0`) fills the last two groups
    const embedded = addressValue(tail);
    if (embedded === undefined) throw new Error(`internal: embedded IPv4 address ${tail} has no value`);
    const v4 = embedded.value;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const zeros = rest === undefined ? 0 : V6_GROUPS - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill("0"), ...restGroups];
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
}

/** An address in the form Go prints it (RFC 5952 for IPv6: the longest run of zero groups as `::`). */
function formatAddress(value: bigint, bits: 32 | 128): string {
  if (bits === 32) {
    return Array.from({ length: V4_PARTS }, (_, i) => String((value >> BigInt(8 * (V4_PARTS - 1 - i))) & 0xffn)).join(".");
  }
  const groups = Array.from({ length: V6_GROUPS }, (_, i) => Number((value >> BigInt(16 * (V6_GROUPS - 1 - i))) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < V6_GROUPS; ) {
    let j = i;
    while (j < V6_GROUPS && groups[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(":");
  return `${hex.slice(0, best.at).join(":")}::${hex.slice(best.at + best.len).join(":")}`;
}

/**
 * Why pipelock would refuse `cidr` in `ssrf.ip_allowlist`, or undefined: it must parse as a
 * CIDR, must not be a catch-all `/0`, and must not have host bits set (pipelock does not round
 * `10.0.0.1/8` down to the network; it refuses it).
 */
export function ssrfCidrProblem(cidr: string): string | undefined {
  const parts = cidr.split("/");
  const addr = parts[0] !== undefined ? addressValue(parts[0]) : undefined;
  const prefix = parts[1];
  if (parts.length !== 2 || addr === undefined || prefix === undefined || !/^(?:0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > addr.bits) {
    return "must be a CIDR such as 172.30.0.0/16; write the network address and prefix length";
  }
  const length = Number(prefix);
  if (length === 0) return "is a catch-all (/0), which pipelock refuses because it turns SSRF protection off; name the subnet of the upstream";
  const hostMask = (1n << BigInt(addr.bits - length)) - 1n;
  if ((addr.value & hostMask) !== 0n) {
    return `has host bits set, which pipelock refuses; write ${formatAddress(addr.value & ~hostMask, addr.bits)}/${length}`;
  }
  return undefined;
}
