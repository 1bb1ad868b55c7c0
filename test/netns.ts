// Network namespaces for tests that cut a node off for real (root only): one bridge in the test's
// own namespace with an address of a private /24, and one namespace per node joined to it by a
// veth pair. A cut takes the node's end of its veth down: no RST, no ICMP — packets simply stop,
// as when a machine's cable or switch fails. Only addresses of this network are ever used, and
// close() (or the process's 'exit' handler) removes every link and namespace it made.
//
//   const net = await TestNetwork.create(['a', 'b']);
//   try { net.address('a'); await net.cut('a'); await net.heal('a'); } finally { await net.close(); }
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const IP = '/usr/sbin/ip';

/** Made and not yet removed, for the 'exit' handler. */
const live = new Set<TestNetwork>();
let exitHandler = false;

export const canMakeNetworks = (): boolean => process.getuid?.() === 0 && fs.existsSync(IP);

export class TestNetwork {
  readonly #tag: string;
  readonly #subnet: number;
  readonly #members: readonly string[];
  #closed = false;

  /** A bridge and one namespace per member, each with its address, loopback up. */
  static async create(members: readonly string[]): Promise<TestNetwork> {
    if (!canMakeNetworks()) throw new Error(`network namespaces need root and ${IP} (iproute2)`);
    if (members.length > 200) throw new Error('at most 200 members');
    // A random /24 of 10.231.0.0/16, so two runs side by side do not meet.
    const net = new TestNetwork(crypto.randomBytes(2).toString('hex'), 16 + crypto.randomInt(224), members);
    live.add(net);
    if (!exitHandler) {
      exitHandler = true;
      process.on('exit', () => {
        for (const n of live) n.#removeSync();
      });
    }
    try {
      await net.#make();
    } catch (err) {
      await net.close();
      throw err;
    }
    return net;
  }

  private constructor(tag: string, subnet: number, members: readonly string[]) {
    this.#tag = tag;
    this.#subnet = subnet;
    this.#members = members;
  }

  /** The bridge's address: where servers in the test's own namespace listen for the members. */
  get hostAddress(): string {
    return `10.231.${this.#subnet}.1`;
  }

  /** The network in CIDR, e.g. for pg_hba.conf. */
  get cidr(): string {
    return `10.231.${this.#subnet}.0/24`;
  }

  /** The namespace's name, for `ip netns exec`. */
  namespace(member: string): string {
    return `mm${this.#tag}-${this.#index(member)}`;
  }

  address(member: string): string {
    return `10.231.${this.#subnet}.${this.#index(member) + 2}`;
  }

  /** Takes the member's link down: nothing reaches it, nothing leaves it. */
  async cut(member: string): Promise<void> {
    await exec(IP, ['-n', this.namespace(member), 'link', 'set', this.#inner(member), 'down']);
  }

  async heal(member: string): Promise<void> {
    await exec(IP, ['-n', this.namespace(member), 'link', 'set', this.#inner(member), 'up']);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#removeSync();
    live.delete(this);
  }

  #index(member: string): number {
    const i = this.#members.indexOf(member);
    if (i < 0) throw new Error(`${member} is not a member of this network`);
    return i;
  }

  get #bridge(): string {
    return `mm${this.#tag}br`;
  }

  #outer(member: string): string {
    return `mm${this.#tag}o${this.#index(member)}`;
  }

  #inner(member: string): string {
    return `mm${this.#tag}i${this.#index(member)}`;
  }

  async #make(): Promise<void> {
    const ip = (...args: string[]) => exec(IP, args);
    await ip('link', 'add', this.#bridge, 'type', 'bridge');
    await ip('addr', 'add', `${this.hostAddress}/24`, 'dev', this.#bridge);
    await ip('link', 'set', this.#bridge, 'up');
    for (const m of this.#members) {
      const ns = this.namespace(m);
      await ip('netns', 'add', ns);
      await ip('link', 'add', this.#outer(m), 'type', 'veth', 'peer', 'name', this.#inner(m));
      await ip('link', 'set', this.#inner(m), 'netns', ns);
      await ip('link', 'set', this.#outer(m), 'master', this.#bridge);
      await ip('link', 'set', this.#outer(m), 'up');
      await ip('-n', ns, 'addr', 'add', `${this.address(m)}/24`, 'dev', this.#inner(m));
      await ip('-n', ns, 'link', 'set', this.#inner(m), 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  }

  /** Synchronous, so the 'exit' handler can run it; what is already gone is skipped. */
  #removeSync(): void {
    const quiet = (...args: string[]) => {
      try {
        execFileSync(IP, args, { stdio: 'ignore' });
      } catch {
        // already gone
      }
    };
    for (const m of this.#members) {
      quiet('link', 'del', this.#outer(m)); // takes its peer in the namespace with it
      quiet('netns', 'del', this.namespace(m));
    }
    quiet('link', 'del', this.#bridge);
  }
}
