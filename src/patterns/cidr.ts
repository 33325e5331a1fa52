// The `cidr` operator: parses IPv4 and IPv6 addresses and CIDR blocks and tests whether
// an address string from an event lies inside a block. Addresses are kept as 16-bit groups
// (2 for IPv4, 8 for IPv6) so both families share one comparison.

/** A parsed address: its family and its 16-bit groups. */
interface Address {
  readonly family: 4 | 6;
  readonly groups: readonly number[];
}

/** A CIDR block: the network address and how many leading bits are fixed. */
export interface CidrBlock {
  readonly family: 4 | 6;
  readonly groups: readonly number[];
  readonly bits: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseIPv4Octets(text: string): number[] | undefined {
  const m = IPV4.exec(text);
  if (m === null) return undefined;
  const octets: number[] = [];
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    // A leading zero is ambiguous (octal in some parsers), so it is not an address.
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    octets.push(n);
  }
  return octets;
}

function parseIPv6Groups(text: string): number[] | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parseSide = (side: string, allowV4Tail: boolean): number[] | undefined => {
    if (side === '') return [];
    const parts = side.split(':');
    const groups: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (allowV4Tail && i === parts.length - 1 && part.includes('.')) {
        const octets = parseIPv4Octets(part);
        if (octets === undefined) return undefined;
        groups.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
      } else {
        if (!HEX_GROUP.test(part)) return undefined;
        groups.push(Number.parseInt(part, 16));
      }
    }
    return groups;
  };
  if (halves.length === 1) {
    const groups = parseSide(text, true);
    return groups !== undefined && groups.length === 8 ? groups : undefined;
  }
  const head = parseSide(halves[0]!, false);
  const tail = parseSide(halves[1]!, true);
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  // "::" stands for at least one zero group.
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

// The last address parsed: one event value is often tested against several blocks in a row.
let lastText: string | undefined;
let lastAddress: Address | undefined;

/** Parses an IPv4 or IPv6 address literal (no zone id, no brackets); undefined when it is not one. */
export function parseAddress(text: string): Address | undefined {
  if (text === lastText) return lastAddress;
  lastText = text;
  lastAddress = parseAddressUncached(text);
  return lastAddress;
}

function parseAddressUncached(text: string): Address | undefined {
  if (text.includes(':')) {
    const groups = parseIPv6Groups(text);
    return groups === undefined ? undefined : { family: 6, groups };
  }
  const octets = parseIPv4Octets(text);
  if (octets === undefined) return undefined;
  return { family: 4, groups: [(octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!] };
}

function maskGroup(group: number, bitsInGroup: number): number {
  if (bitsInGroup >= 16) return group;
  if (bitsInGroup <= 0) return 0;
  return group & ((0xffff << (16 - bitsInGroup)) & 0xffff);
}

function formatBlock(family: 4 | 6, groups: readonly number[], bits: number): string {
  if (family === 4) {
    const octets = groups.flatMap((g) => [g >> 8, g & 0xff]);
    return `${octets.join('.')}/${bits}`;
  }
  // Compress the longest run of two or more zero groups to "::" (RFC 5952).
  let runStart = -1;
  let runLength = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > runLength) {
      runStart = i;
      runLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (runLength < 2) return `${hex.join(':')}/${bits}`;
  const head = hex.slice(0, runStart).join(':');
  const tail = hex.slice(runStart + runLength).join(':');
  return `${head}::${tail}/${bits}`;
}

/**
 * Parses a CIDR block such as `10.0.0.0/24` or `2001:db8::/32`; returns the problem as a
 * string when it is malformed or has bits set past the prefix length.
 */
export function parseCidr(text: string): CidrBlock | string {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) {
    return `cidr ${JSON.stringify(text)} needs exactly one "/", e.g. "10.0.0.0/24" or "2001:db8::/32"`;
  }
  const address = parseAddress(text.slice(0, slash));
  if (address === undefined) {
    return `cidr ${JSON.stringify(text)}: ${JSON.stringify(text.slice(0, slash))} is not an IPv4 or IPv6 address`;
  }
  const bitsText = text.slice(slash + 1);
  const maxBits = address.family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > maxBits) {
    return `cidr ${JSON.stringify(text)}: the prefix length must be a whole number from 0 to ${maxBits}`;
  }
  const bits = Number(bitsText);
  const network = address.groups.map((g, i) => maskGroup(g, bits - 16 * i));
  if (network.some((g, i) => g !== address.groups[i])) {
    return `cidr ${JSON.stringify(text)} has bits set past the /${bits} prefix; did you mean ${JSON.stringify(formatBlock(address.family, network, bits))}?`;
  }
  return { family: address.family, groups: network, bits };
}

/** True when `text` is an address literal of the block's family that lies inside the block. */
export function inCidr(block: CidrBlock, text: string): boolean {
  const address = parseAddress(text);
  if (address === undefined || address.family !== block.family) return false;
  for (let i = 0; i < block.groups.length; i++) {
    const bitsInGroup = block.bits - 16 * i;
    if (bitsInGroup <= 0) return true;
    if (maskGroup(address.groups[i]!, bitsInGroup) !== block.groups[i]) return false;
  }
  return true;
}
