// Where a webhook may be sent. A webhook URL is typed by a customer's administrator, and the
// service POSTs to it from inside the operator's network: without a check, a webhook could reach
// the cloud metadata service (169.254.169.254), the database or the nodes' internal API (SSRF).
// So unless the operator allows it (MIMAMORI_WEBHOOK_ALLOW_PRIVATE=1), the host must resolve only to
// public addresses. Checked at creation and again at every delivery, at connect time (the address
// the socket connects to is the one checked: DNS that changes in between cannot slip one in).
import dns from 'node:dns';
import net from 'node:net';
import { ApiError } from '../errors.ts';

/** Loopback, private, link-local (cloud metadata), shared, multicast and reserved ranges. */
const BLOCKED = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) BLOCKED.addSubnet(address, prefix, 'ipv6');

/** Whether an IP address is one a webhook may not reach without the operator's permission. */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return true; // not an address: refuse rather than guess
  if (family === 6) {
    // ::ffff:10.0.0.1 and ::10.0.0.1 are IPv4 addresses in IPv6 clothing.
    const mapped = /^(?:::ffff:(?:0:)?|::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return isPrivateAddress(mapped[1]!);
    const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
    if (hexMapped) {
      const hi = parseInt(hexMapped[1]!, 16);
      const lo = parseInt(hexMapped[2]!, 16);
      return isPrivateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
    return BLOCKED.check(address, 'ipv6');
  }
  return BLOCKED.check(address, 'ipv4');
}

export const webhookUrlRefused = (message: string) => new ApiError(400, 'webhook_url_refused', message);

/**
 * The URL as it will be called, or 400 `webhook_url_refused`: https (http only where private
 * addresses are allowed), no credentials in it, at most 2,000 characters. Does not resolve the host.
 */
export function parseWebhookUrl(text: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw webhookUrlRefused('url is not a URL; give the whole address, like https://hooks.example.com/mimamori');
  }
  if (text.length > 2000) throw webhookUrlRefused('url is longer than 2,000 characters');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowPrivate)) {
    throw webhookUrlRefused(`url must start with https:// (deliveries carry camera names and ids); ${url.protocol}// is accepted only when the operator sets MIMAMORI_WEBHOOK_ALLOW_PRIVATE=1`);
  }
  if (url.username || url.password) throw webhookUrlRefused('url must not carry a user name or password: receivers check the Mimamori-Signature header instead');
  return url;
}

/** The addresses a host resolves to now (an address literal: itself). */
async function addressesOf(hostname: string): Promise<string[]> {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(bare)) return [bare];
  const found = await dns.promises.lookup(bare, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/**
 * Refuses (400 `webhook_url_refused`) a URL whose host does not resolve, or resolves to a private
 * address while those are not allowed. At creation; deliveries check again at connect time.
 */
export async function assertReachable(url: URL, allowPrivate: boolean): Promise<void> {
  let addresses: string[];
  try {
    addresses = await addressesOf(url.hostname);
  } catch {
    throw webhookUrlRefused(`the host ${url.hostname} of url does not resolve; check the name`);
  }
  if (addresses.length === 0) throw webhookUrlRefused(`the host ${url.hostname} of url does not resolve; check the name`);
  if (allowPrivate) return;
  const blocked = addresses.find(isPrivateAddress);
  if (blocked !== undefined) {
    throw webhookUrlRefused(`the host ${url.hostname} of url resolves to ${blocked}, a loopback, private, link-local or reserved address; webhooks go to public addresses only (the operator may allow private ones with MIMAMORI_WEBHOOK_ALLOW_PRIVATE=1)`);
  }
}

/** Thrown at connect time by `guardedLookup`: the host resolves to a private address now. */
export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError';
  readonly code = 'webhook_private_address';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request: resolves like the default, then refuses private addresses (unless
 * allowed), so the address checked is the address connected to.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, found) => {
      if (err) return callback(err, '');
      const list = found as dns.LookupAddress[];
      const blocked = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (blocked) return callback(Object.assign(new PrivateAddressError(`${hostname} resolves to ${blocked.address}, a private address (not allowed)`), { errno: 0 }) as NodeJS.ErrnoException, '');
      if (list.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '');
      if (options.all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
