export {};
// `npm run bench -- NAME`: runs one benchmark; each prints JSON lines, the last one its summary.
const benches: Record<string, () => Promise<unknown>> = {
  live: () => import('./live.ts'),
  ingest: () => import('./ingest.ts'),
  playback: () => import('./playback.ts'),
  api: () => import('./api.ts'),
  failover: () => import('./failover.ts'),
  ui: () => import('./ui.ts'),
  segmenter: () => import('./segmenter.ts').then((m) => m.main()),
};

// Services measured run as in production: answers are not parsed against their schemas (tests do that).
process.env.MIMAMORI_CHECK_ANSWERS ??= '0';

const name = process.argv[2];
const load = name ? benches[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}>\n`);
  process.exit(2);
}
await load();
