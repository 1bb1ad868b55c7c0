// Who the client is behind a load balancer (signaling/clientAddress.ts): X-Forwarded-For counts
// only from a trusted proxy, read from the right past every trusted hop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clientAddress, trustedProxies } from '../signaling/clientAddress.ts';

const proxies = trustedProxies(['127.0.0.1', '10.0.1.0/24', 'fd00::1']);

const cases: [name: string, peer: string | undefined, forwarded: string | undefined, want: string | undefined][] = [
  ['no proxy: the peer', '203.0.113.7', undefined, '203.0.113.7'],
  ['an untrusted peer cannot forward', '203.0.113.7', '198.51.100.1', '203.0.113.7'],
  ['a trusted proxy forwards the client', '127.0.0.1', '198.51.100.1', '198.51.100.1'],
  ['IPv4-mapped peer', '::ffff:127.0.0.1', '198.51.100.1', '198.51.100.1'],
  ['a client cannot put itself in the list: the rightmost untrusted hop', '10.0.1.5', '1.2.3.4, 198.51.100.1', '198.51.100.1'],
  ['past several trusted hops', '127.0.0.1', '198.51.100.1, 10.0.1.9', '198.51.100.1'],
  ['garbage hops are ignored', '127.0.0.1', 'unknown, 198.51.100.1', '198.51.100.1'],
  ['only trusted hops: the leftmost', '127.0.0.1', '10.0.1.2, 10.0.1.3', '10.0.1.2'],
  ['a trusted proxy without the header: the peer', '127.0.0.1', undefined, '127.0.0.1'],
  ['IPv6 proxy', 'fd00::1', '2001:db8::5', '2001:db8::5'],
  ['no peer', undefined, '198.51.100.1', undefined],
];

for (const [name, peer, forwarded, want] of cases) {
  test(name, () => assert.is(clientAddress(peer, forwarded, proxies), want));
}

test('no trusted proxies: the header never counts', () => {
  assert.is(clientAddress('127.0.0.1', '198.51.100.1', trustedProxies([])), '127.0.0.1');
});

test.run();
