// The playback benchmark's web servers: a plain static file server (byte ranges, no cache) for the
// baseline's unencrypted files, and the page's origin, which serves the bench page and hls.js and
// proxies /api/ to the service and /static/ to the static server. Both paths take the same one
// proxy hop, so the page needs no CORS and neither side gets an advantage from the proxy.
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.js': 'text/javascript',
  '.html': 'text/html; charset=utf-8',
};

export interface Listening {
  url: string;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<Listening> {
  server.keepAliveTimeout = 60_000;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Serves files under `root` (GET/HEAD, single byte ranges), `Cache-Control: no-store`. */
export function staticServer(root: string): Promise<Listening> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const file = path.join(root, path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return void res.writeHead(404).end();
      const headers: http.OutgoingHttpHeaders = {
        'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'Accept-Ranges': 'bytes',
        'Cache-Control': 'no-store',
      };
      let start = 0;
      let end = st.size - 1;
      let status = 200;
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      if (range && (range[1] || range[2])) {
        if (range[1]) {
          start = Number(range[1]);
          if (range[2]) end = Math.min(end, Number(range[2]));
        } else {
          start = Math.max(0, st.size - Number(range[2]));
        }
        if (start > end) return void res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
        status = 206;
        headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
      }
      headers['Content-Length'] = end - start + 1;
      res.writeHead(status, headers);
      if (req.method === 'HEAD') return void res.end();
      fs.createReadStream(file, { start, end }).pipe(res);
    });
  });
  return listen(server);
}

/** The page's origin: `/` the page, `/hls.min.js`, `/api/…` → service, `/static/…` → static server. */
export function pageServer(o: { page: string; hlsJs: string; service: string; statics: string }): Promise<Listening> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const proxy = (req: http.IncomingMessage, res: http.ServerResponse, target: URL) => {
    const headers = { ...req.headers, host: target.host };
    const up = http.request(target, { method: req.method, headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(up);
  };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/api/')) return proxy(req, res, new URL(url, o.service));
    if (url.startsWith('/static/')) return proxy(req, res, new URL(url.slice('/static'.length), o.statics));
    if (url === '/hls.min.js') {
      res.writeHead(200, { 'Content-Type': TYPES['.js']!, 'Cache-Control': 'max-age=3600' });
      return void fs.createReadStream(o.hlsJs).pipe(res);
    }
    if (url === '/favicon.ico') return void res.writeHead(204).end();
    if (url === '/' || url.startsWith('/?')) {
      res.writeHead(200, { 'Content-Type': TYPES['.html']!, 'Cache-Control': 'no-store' });
      return void res.end(o.page);
    }
    res.writeHead(404).end();
  });
  return listen(server).then((l) => ({
    ...l,
    close: async () => {
      agent.destroy();
      await l.close();
    },
  }));
}
