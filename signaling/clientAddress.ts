// Who is calling, behind a load balancer: the socket's peer is the balancer itself, so the
// address it forwards (X-Forwarded-For) is taken instead — but only from a proxy listed in
// MIMAMORI_TRUSTED_PROXIES, walking the list from the right past every trusted hop (anything
// further left was written by the client and proves nothing).
import net from 'node:net';

/** The addresses and ranges (CIDR) of the proxies allowed to say who the client is. */
export function trustedProxies(entries: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const type = net.isIPv6(address!) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(bits), type);
  }
  return list;
}

const plain = (address: string): string => address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

function trusted(list: net.BlockList, address: string): boolean {
  const a = plain(address);
  return net.isIP(a) !== 0 && list.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
}

/** The client's address: the socket's peer, or what trusted proxies in front of it forwarded. */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, proxies: net.BlockList): string | undefined {
  if (peer === undefined || !forwardedFor || !trusted(proxies, peer)) return peer === undefined ? undefined : plain(peer);
  const hops = forwardedFor.split(',').map((h) => h.trim()).filter((h) => net.isIP(plain(h)) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted(proxies, hops[i]!)) return plain(hops[i]!);
  return hops.length ? plain(hops[0]!) : plain(peer);
}
