// `mimamori rolling-restart`: every node of the cluster in turn is drained (its cameras move to the
// others without a hole, its viewers re-join elsewhere), stops, and is started again by its
// supervisor (systemd Restart=always, a container's restart policy) — with a new release, that is
// a rolling upgrade. The next node waits until this one is back and up. It reads the nodes from
// the database like the nodes themselves (heartbeats) and asks each to drain over the internal API.
import pg from 'pg';
import { callNode } from './internal.ts';

export interface RollingRestartOptions {
  databaseUrl: string;
  /** Only these nodes, in this order (default: every live node, by id). */
  nodes?: string[];
  /** A node must have drained and stopped within this long. */
  drainTimeoutMs: number;
  /** …and be back (a newer start, up) within this long after it stopped. */
  restartTimeoutMs: number;
  /** Pause after a node is back, for the load balancer's health checks to take it in. */
  settleMs: number;
  /** One line per step. */
  say: (line: string) => void;
}

export class RollingRestartError extends Error {
  override name = 'RollingRestartError';
}

interface NodeRow {
  id: string;
  internal_url: string;
  release: string;
  started_at: Date;
  state: 'up' | 'draining' | 'stopped';
  live: boolean;
  owns: number;
}

/** A node heard of within this long is live (heartbeats every second). */
const LIVE_S = 3;
const POLL_MS = 250;

export async function rollingRestart(o: RollingRestartOptions): Promise<{ restarted: string[]; ms: number }> {
  const started = Date.now();
  const db = new pg.Client({ connectionString: o.databaseUrl, application_name: 'mimamori rolling-restart' });
  await db.connect();
  try {
    const secret = (await db.query<{ value: string }>("SELECT value FROM service_secrets WHERE name = 'clusterSecret'")).rows[0]?.value;
    const nodes = async () =>
      (
        await db.query<NodeRow>(
          `SELECT n.id, n.internal_url, n.release, n.started_at, n.state, n.seen_at > now() - make_interval(secs => $1) AS live,
                  (SELECT count(*)::int FROM camera_owners o WHERE o.node_id = n.id) AS owns
           FROM nodes n ORDER BY n.id`,
          [LIVE_S],
        )
      ).rows;
    const first = await nodes();
    const live = first.filter((n) => n.live);
    if (!secret || live.length === 0) throw new RollingRestartError('no node of this cluster is running (no heartbeat in the last 3 s): check MIMAMORI_DATABASE_URL');
    const order = o.nodes ?? live.map((n) => n.id);
    for (const id of order) if (!live.some((n) => n.id === id)) throw new RollingRestartError(`node ${id} is not running (no heartbeat in the last ${LIVE_S} s); running: ${live.map((n) => n.id).join(', ')}`);
    const busy = live.find((n) => n.state === 'draining');
    if (busy) throw new RollingRestartError(`node ${busy.id} is draining already: wait until it is back, then run the rolling restart again`);
    if (live.length < 2) throw new RollingRestartError(`a rolling restart needs two running nodes at least (found ${live.length}): a node's cameras move to another; restart a single node with SIGTERM (its cameras reconnect when it is back)`);

    const restarted: string[] = [];
    for (const id of order) {
      const before = (await nodes()).find((n) => n.id === id);
      if (!before?.live) throw new RollingRestartError(`node ${id} stopped by itself before its turn; not restarted: ${order.slice(restarted.length).join(', ')}`);
      const others = (await nodes()).filter((n) => n.id !== id && n.live && n.state === 'up');
      if (others.length === 0) throw new RollingRestartError(`no other node is up to take ${id}'s cameras; stopped here (restarted: ${restarted.join(', ') || 'none'})`);
      o.say(`${id}: draining (${before.owns} camera(s), release ${before.release})`);
      const askedAt = Date.now();
      await callNode({ url: before.internal_url, secret, method: 'POST', path: '/internal/drain', body: { reason: 'mimamori rolling-restart' }, timeoutMs: 5000 });
      // Stopped: silent, or already started again by its supervisor.
      const stopped = await until(o.drainTimeoutMs, async () => {
        const now = (await nodes()).find((n) => n.id === id);
        return !now || !now.live || now.state === 'stopped' || now.started_at.getTime() !== before.started_at.getTime() ? true : undefined;
      });
      if (!stopped) throw new RollingRestartError(`${id} did not drain and stop within ${o.drainTimeoutMs / 1000} s (its log says what it could not move); stopped here, not restarted: ${order.slice(restarted.length).join(', ')}`);
      const stoppedAt = Date.now();
      o.say(`${id}: drained and stopped in ${((stoppedAt - askedAt) / 1000).toFixed(1)} s`);
      const back = await until(o.restartTimeoutMs, async () => {
        const now = (await nodes()).find((n) => n.id === id);
        return now?.live && now.state === 'up' && now.started_at.getTime() > before.started_at.getTime() ? now : undefined;
      });
      if (!back) {
        throw new RollingRestartError(
          `${id} drained and stopped but was not back within ${o.restartTimeoutMs / 1000} s: run every node under a supervisor that starts it again (systemd Restart=always; see the README); stopped here, not restarted: ${order.slice(restarted.length + 1).join(', ') || 'none'}`,
        );
      }
      restarted.push(id);
      o.say(`${id}: back in ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s (release ${back.release})`);
      await new Promise((r) => setTimeout(r, o.settleMs));
    }
    return { restarted, ms: Date.now() - started };
  } finally {
    await db.end().catch(() => undefined);
  }
}

async function until<T>(limitMs: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
