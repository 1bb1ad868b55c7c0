// A load process for `npm run bench -- api`: holds `count` idle authenticated socket.io
// connections (websocket only) to the service. Several run at once; each has its own fd limit.
// IPC: {cmd:'open', url, token, count, concurrency} → progress and {type:'opened'};
// {cmd:'count'} → {type:'count'}; {cmd:'close'} disconnects everything and exits.
import { io, type Socket } from 'socket.io-client';

type Msg = { cmd: 'open'; url: string; token: string; count: number; concurrency: number } | { cmd: 'count' } | { cmd: 'close' };

const sockets: Socket[] = [];
let failed = 0;
let disconnects = 0;
const errors = new Map<string, number>();
const send = (m: object) => process.send?.(m);

function connect(url: string, token: string): Promise<void> {
  // forceNew: one engine.io connection per socket, not one multiplexed connection for all.
  const s = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true, timeout: 30_000 });
  return new Promise((resolve) => {
    s.once('connect', () => {
      sockets.push(s);
      s.on('disconnect', () => disconnects++);
      resolve();
    });
    s.once('connect_error', (err: Error) => {
      failed++;
      errors.set(err.message, (errors.get(err.message) ?? 0) + 1);
      s.close();
      resolve();
    });
  });
}

async function open(m: Extract<Msg, { cmd: 'open' }>): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < m.count) {
      next++;
      await connect(m.url, m.token);
      const done = sockets.length + failed;
      if (done % 500 === 0) send({ type: 'progress', connected: sockets.length, failed });
    }
  };
  await Promise.all(Array.from({ length: m.concurrency }, lane));
  send({ type: 'opened', connected: sockets.length, failed, errors: Object.fromEntries(errors), rssMb: Math.round(process.memoryUsage().rss / 2 ** 20), seconds: (performance.now() - t0) / 1000 });
}

process.on('message', (m: Msg) => {
  if (m.cmd === 'open') void open(m);
  else if (m.cmd === 'count') send({ type: 'count', connected: sockets.filter((s) => s.connected).length, disconnects });
  else if (m.cmd === 'close') {
    for (const s of sockets) s.disconnect();
    setTimeout(() => process.exit(0), 500);
  }
});
process.on('disconnect', () => process.exit(0));
