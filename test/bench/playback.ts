// `npm run bench -- playback`: over a camera with 24 hours of recording (made with the recorder's
// own writer, sealed, in the embedded S3, indexed) and 29 more days of index:
//   - seek-to-first-frame in Chromium (hls.js, as the player does it: POST playback, a new Hls at
//     the asked instant, play) to random instants of the 24 h, p50/p95;
//   - the same seeks served by a plain static server of the same fragments unencrypted (one fMP4
//     file per 60 s segment, one VOD playlist per clock hour with byte ranges), same page, same run;
//   - the 30-day timeline query over HTTP (cold after a restart, then the median of warm runs),
//     and once over 30 days with no index at all (a camera younger than the range);
//   - the requests behind a seek timed from Node without a browser, ours beside the static server;
//   - export throughput: a 10-minute export job (POST → done) and another 10-minute range as a
//     direct clip.mp4 download, MB/s of the MP4 produced.
// Prints JSON lines; the last is the summary. Knobs: MIMAMORI_BENCH_SEEKS (40), MIMAMORI_BENCH_HOURS
// (24), MIMAMORI_BENCH_DAYS (30, days of index in all), MIMAMORI_BENCH_EXPORT_MINUTES (10),
// MIMAMORI_BENCH_PHASES (timeline,seek,export).
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium } from '../chromium.ts';
import { startService, type Service } from '../harness.ts';
import { baselinePlaylist, generate, type Generated } from './playback/generate.ts';
import { PAGE, type SeekRequest, type SeekResult } from './playback/page.ts';
import { pageServer, staticServer } from './playback/server.ts';
import { emit, median, percentile, round, sleep } from './figures.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SEEKS = Number(process.env.MIMAMORI_BENCH_SEEKS ?? 40);
const HOURS = Number(process.env.MIMAMORI_BENCH_HOURS ?? 24);
const DAYS = Number(process.env.MIMAMORI_BENCH_DAYS ?? 30);
const EXPORT_MINUTES = Number(process.env.MIMAMORI_BENCH_EXPORT_MINUTES ?? 10);
const PHASES = new Set((process.env.MIMAMORI_BENCH_PHASES ?? 'timeline,seek,export').split(','));
const TIMELINE_RUNS = 10;
const SPEC = { width: 640, height: 360, fps: 30, kbps: 300 };
const HOUR_MS = 3_600_000;


/** mulberry32: the same instants on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Instants inside recorded spans (not in the last 5 s of one), whole-ms, spread over the day. */
function seekTargets(g: Generated, n: number, seed: number): number[] {
  const rnd = random(seed);
  const spans = g.spans.map(([a, b]) => [a, b - 5000] as const).filter(([a, b]) => b > a);
  const total = spans.reduce((s, [a, b]) => s + (b - a), 0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let x = Math.floor(rnd() * total);
    for (const [a, b] of spans) {
      if (x < b - a) {
        out.push(a + x);
        break;
      }
      x -= b - a;
    }
  }
  return out;
}

class Api {
  constructor(
    readonly url: string,
    public token: string,
  ) {}
  fetch(pathname: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    if (init.body) headers.set('content-type', 'application/json');
    return fetch(`${this.url}${pathname}`, { ...init, headers });
  }
  async json<T>(pathname: string, init: RequestInit = {}): Promise<T> {
    const res = await this.fetch(pathname, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${pathname}: ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }
}

interface TimelineReply {
  spans: unknown[];
  gaps: unknown[];
  events: unknown[];
  liveEdgeMs?: number;
}

async function timeline(api: Api, cameraId: string, dataDir: string) {
  const indexFiles = async () => (await fs.readdir(path.join(dataDir, 'index', cameraId)).catch(() => [] as string[])).length;
  const now = Date.now();
  const q = `/api/cameras/${cameraId}/timeline?from=${now - 30 * 24 * HOUR_MS}&to=${now}`;
  const once = async () => {
    const t0 = performance.now();
    const res = await api.fetch(q);
    const body = await res.text();
    const ms = performance.now() - t0;
    if (!res.ok) throw new Error(`timeline: ${res.status} ${body.slice(0, 300)}`);
    return { ms, reply: JSON.parse(body) as TimelineReply, bytes: body.length };
  };
  const cold = await once();
  const warm: number[] = [];
  for (let i = 0; i < TIMELINE_RUNS; i++) warm.push((await once()).ms);
  // 30 days before the index: nothing recorded there (a camera younger than the range).
  const emptyQ = `/api/cameras/${cameraId}/timeline?from=${now - 61 * 24 * HOUR_MS}&to=${now - 31 * 24 * HOUR_MS}`;
  const empty: number[] = [];
  const filesBefore = await indexFiles();
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    const res = await api.fetch(emptyQ);
    await res.text();
    empty.push(performance.now() - t0);
  }
  const row = {
    phase: 'timeline',
    days: 30,
    cold_ms: round(cold.ms),
    warm_ms_p50: round(median(warm)),
    warm_ms_max: round(Math.max(...warm)),
    spans: cold.reply.spans.length,
    gaps: cold.reply.gaps.length,
    events: cold.reply.events.length,
    reply_bytes: cold.bytes,
    empty_30d_cold_ms: round(empty[0]!),
    empty_30d_again_ms: round(empty[1]!),
    /** Local index files the query over unrecorded days left behind (one empty hour file per hour). */
    empty_30d_index_files_created: (await indexFiles()) - filesBefore,
  };
  emit(row);
  return row;
}

async function seek(page: Page, req: SeekRequest): Promise<SeekResult> {
  return page.evaluate((r) => (globalThis as any).__seek(r), req) as Promise<SeekResult>;
}

async function seeks(api: Api, cameraId: string, g: Generated, statics: string) {
  // The baseline's playlists, one per clock hour, as files beside its media.
  const hours = [...g.baseline.keys()].sort((a, b) => a - b);
  for (const hour of hours) await fs.writeFile(path.join(g.baselineDir, `hour-${hour}.m3u8`), baselinePlaylist(g.baseline.get(hour)!));
  const baselineRequest = (atMs: number): SeekRequest => {
    const hour = Math.floor(atMs / HOUR_MS) * HOUR_MS;
    const segments = g.baseline.get(hour);
    if (!segments) throw new Error(`no baseline hour for ${new Date(atMs).toISOString()}`);
    let mediaS = 0;
    for (const seg of segments) {
      for (const e of seg.entries) {
        if (e.wallMs <= atMs && atMs < e.wallMs + e.durS * 1000) return { kind: 'baseline', atMs, url: `/static/hour-${hour}.m3u8`, startS: mediaS + (atMs - e.wallMs) / 1000 };
        mediaS += e.durS;
      }
    }
    throw new Error(`${new Date(atMs).toISOString()} is not recorded`);
  };
  const oursRequest = (atMs: number): SeekRequest => ({ kind: 'ours', atMs, cameraId, token: api.token });

  const web = await pageServer({ page: PAGE, hlsJs: path.join(ROOT, 'node_modules', 'hls.js', 'dist', 'hls.min.js'), service: api.url, statics });
  const browser = await launchChromium();
  const ours: SeekResult[] = [];
  const base: SeekResult[] = [];
  try {
    const page = await browser.context.newPage();
    page.on('pageerror', (err) => emit({ phase: 'seek', pageerror: err.message }));
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') emit({ phase: 'seek', console: m.type(), text: m.text().slice(0, 500) });
    });
    await page.goto(`${web.url}/`);
    await page.waitForFunction(() => typeof (globalThis as any).Hls === 'function' && typeof (globalThis as any).__seek === 'function');
    // Warm-up (not counted): hls.js, the decoder, both servers' first requests.
    const warm = seekTargets(g, 2, 7);
    for (const at of warm) {
      const o = await seek(page, oursRequest(at));
      const b = await seek(page, baselineRequest(at));
      emit({ phase: 'seek-warmup', at: new Date(at).toISOString(), ours_ms: round(o.ms), baseline_ms: round(b.ms) });
    }
    const targets = seekTargets(g, SEEKS, 1);
    for (let i = 0; i < targets.length; i++) {
      const at = targets[i]!;
      // Alternate which goes first, so neither always follows the other.
      const order = i % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const);
      const got: Partial<Record<'ours' | 'baseline', SeekResult>> = {};
      for (const kind of order) {
        got[kind] = await seek(page, kind === 'ours' ? oursRequest(at) : baselineRequest(at));
        await sleep(50);
      }
      const o = got.ours!;
      const b = got.baseline!;
      ours.push(o);
      base.push(b);
      emit({
        phase: 'seek',
        i,
        at: new Date(at).toISOString(),
        ours_ms: round(o.ms),
        ours_steps: { reply: o.reply, destroyed: o.destroyed, playlist: o.playlist, fragment: o.fragment, frame: o.anyFrame, fragments: o.fragments },
        ours_frame_off_s: round(o.frameS - o.startS, 3),
        ours_window_lead_ms: o.windowStartMs !== undefined ? at - o.windowStartMs : undefined,
        baseline_ms: round(b.ms),
        baseline_steps: { destroyed: b.destroyed, playlist: b.playlist, fragment: b.fragment, frame: b.anyFrame, fragments: b.fragments },
        baseline_frame_off_s: round(b.frameS - b.startS, 3),
      });
    }
  } finally {
    await browser.close();
    await web.close();
  }
  const steps = (xs: SeekResult[], k: 'reply' | 'destroyed' | 'playlist' | 'fragment' | 'anyFrame') => round(median(xs.map((x) => x[k]).filter((v): v is number => v !== undefined)));
  const row = {
    phase: 'seek-summary',
    seeks: ours.length,
    seek_ms_p50: round(percentile(ours.map((x) => x.ms), 50)),
    seek_ms_p95: round(percentile(ours.map((x) => x.ms), 95)),
    baseline_seek_ms_p50: round(percentile(base.map((x) => x.ms), 50)),
    baseline_seek_ms_p95: round(percentile(base.map((x) => x.ms), 95)),
    ratio_p50: round(percentile(ours.map((x) => x.ms), 50) / percentile(base.map((x) => x.ms), 50), 2),
    ours_median_steps_ms: { reply: steps(ours, 'reply'), destroyed: steps(ours, 'destroyed'), playlist: steps(ours, 'playlist'), fragment: steps(ours, 'fragment'), frame: steps(ours, 'anyFrame') },
    baseline_median_steps_ms: { destroyed: steps(base, 'destroyed'), playlist: steps(base, 'playlist'), fragment: steps(base, 'fragment'), frame: steps(base, 'anyFrame') },
  };
  emit(row);
  return row;
}

/** Times one request read to the end; throws on a non-2xx status. */
async function timed(url: string, init: RequestInit = {}): Promise<{ ms: number; text: string; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(url, init);
  const buf = new Uint8Array(await res.arrayBuffer());
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${url.slice(0, 120)}: ${res.status} ${new TextDecoder().decode(buf.subarray(0, 300))}`);
  return { ms, text: init.method === 'POST' || url.includes('.m3u8') ? new TextDecoder().decode(buf) : '', bytes: buf.length };
}

/** The URIs a player fetches for media entry k of a playlist: its EXT-X-MAP and its own URI (with byte ranges). */
function entryUris(playlist: string, k: number): { map: string; mapRange?: string; uri: string; range?: string } {
  let map = '';
  let mapRange: string | undefined;
  let range: string | undefined;
  let n = 0;
  for (const line of playlist.split('\n')) {
    const m = /^#EXT-X-MAP:URI="([^"]+)"(?:,BYTERANGE="(\d+)@(\d+)")?/.exec(line);
    if (m) {
      map = m[1]!;
      mapRange = m[2] ? `bytes=${m[3]}-${Number(m[3]) + Number(m[2]) - 1}` : undefined;
      continue;
    }
    const r = /^#EXT-X-BYTERANGE:(\d+)@(\d+)/.exec(line);
    if (r) range = `bytes=${r[2]}-${Number(r[2]) + Number(r[1]) - 1}`;
    if (line === '' || line.startsWith('#')) continue;
    if (n++ === k) return { map, ...(mapRange ? { mapRange } : {}), uri: line, ...(range ? { range } : {}) };
    range = undefined;
  }
  throw new Error(`playlist has no entry ${k}`);
}

/**
 * What a seek asks of each server, timed from this process without a browser: ours (POST
 * playback, the window's playlist, its init segment, the entry's fragment) beside the static
 * server (the hour's playlist, the init byte range, the fragment byte range).
 */
async function requests(api: Api, cameraId: string, g: Generated, statics: string) {
  const ours = { post: [] as number[], playlist: [] as number[], init: [] as number[], fragment: [] as number[] };
  const base = { playlist: [] as number[], init: [] as number[], fragment: [] as number[] };
  let sizes = { post: 0, playlist: 0, baselinePlaylist: 0, entries: 0 };
  for (const at of seekTargets(g, 20, 3)) {
    const post = await timed(`${api.url}/api/cameras/${cameraId}/playback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ at }),
    });
    const w = JSON.parse(post.text) as { url: string; entries: { wallMs: number; durS: number }[] };
    const playlist = await timed(`${api.url}${w.url}`);
    const k = w.entries.findIndex((e) => e.wallMs <= at && at < e.wallMs + e.durS * 1000);
    const u = entryUris(playlist.text, Math.max(0, k));
    const dir = `${api.url}${w.url.replace(/[^/]*$/, '')}`;
    ours.post.push(post.ms);
    ours.playlist.push(playlist.ms);
    ours.init.push((await timed(dir + u.map)).ms);
    ours.fragment.push((await timed(dir + u.uri)).ms);
    sizes = { post: post.bytes, playlist: playlist.bytes, baselinePlaylist: sizes.baselinePlaylist, entries: w.entries.length };

    const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
    const bp = await timed(`${statics}/hour-${hour}.m3u8`);
    let kb = 0;
    for (const seg of g.baseline.get(hour) ?? []) for (const e of seg.entries) if (e.wallMs + e.durS * 1000 <= at) kb += 1;
    const bu = entryUris(bp.text, kb);
    base.playlist.push(bp.ms);
    base.init.push((await timed(`${statics}/${bu.map}`, { headers: bu.mapRange ? { range: bu.mapRange } : {} })).ms);
    base.fragment.push((await timed(`${statics}/${bu.uri}`, { headers: bu.range ? { range: bu.range } : {} })).ms);
    sizes.baselinePlaylist = bp.bytes;
  }
  const med = (xs: number[]) => round(median(xs));
  const row = {
    phase: 'requests',
    samples: ours.post.length,
    ours_ms_p50: { post_playback: med(ours.post), playlist: med(ours.playlist), init: med(ours.init), fragment: med(ours.fragment) },
    baseline_ms_p50: { playlist: med(base.playlist), init: med(base.init), fragment: med(base.fragment) },
    ours_bytes: { post_reply: sizes.post, playlist: sizes.playlist, entries: sizes.entries },
    baseline_bytes: { playlist: sizes.baselinePlaylist },
  };
  emit(row);
  return row;
}

/** Reads a response to the end; bytes and seconds from the request to the last byte. */
async function download(res: Response, t0: number): Promise<{ bytes: number; s: number }> {
  if (!res.ok || !res.body) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Uint8Array).length;
  return { bytes, s: (performance.now() - t0) / 1000 };
}

async function exports(api: Api, cameraId: string, g: Generated) {
  // Ranges in the longest span, away from the seeks' cache: two different EXPORT_MINUTES ranges.
  const [a, b] = g.spans.reduce((best, s) => (s[1] - s[0] > best[1] - best[0] ? s : best));
  const len = EXPORT_MINUTES * 60_000;
  if (b - a < 2 * len + 120_000) throw new Error('the longest span is too short for the export ranges');
  const jobRange = { from: a + 60_000 + 123, to: a + 60_000 + 123 + len };
  const clipRange = { from: jobRange.to + 60_000, to: jobRange.to + 60_000 + len };
  const rows: Record<string, unknown> = {};

  // 1. The export job: POST, polled until done; then its file downloaded.
  try {
    const t0 = performance.now();
    const { export: created } = await api.json<{ export: { id: string } }>(`/api/cameras/${cameraId}/exports`, { method: 'POST', body: JSON.stringify(jobRange) });
    let job: { status: string; bytes?: number; error?: { code: string; message: string }; durationMs?: number };
    for (;;) {
      job = (await api.json<{ export: typeof job }>(`/api/exports/${created.id}`)).export;
      if (job.status === 'done' || job.status === 'failed') break;
      if (performance.now() - t0 > 300_000) throw new Error(`export still ${job.status} after 300 s`);
      await sleep(50);
    }
    const doneS = (performance.now() - t0) / 1000;
    if (job.status === 'failed') throw new Error(`export failed: ${job.error?.code}: ${job.error?.message}`);
    const t1 = performance.now();
    const file = await download(await api.fetch(`/api/exports/${created.id}/file`), t1);
    rows.export = { bytes: job.bytes, seconds_to_done: round(doneS, 2), mb_s: round((job.bytes ?? 0) / 1e6 / doneS), download_mb_s: round(file.bytes / 1e6 / file.s), media_s: (job.durationMs ?? 0) / 1000 };
    emit({ phase: 'export', kind: 'job', minutes: EXPORT_MINUTES, ...(rows.export as object) });
  } catch (err) {
    rows.export = { error: (err as Error).message };
    emit({ phase: 'export', kind: 'job', error: (err as Error).message });
  }

  // 2. The direct clip download of another range, through a playback token.
  try {
    const w = await api.json<{ url: string }>(`/api/cameras/${cameraId}/playback`, { method: 'POST', body: JSON.stringify({ at: clipRange.from }) });
    const base = w.url.replace(/\/[^/]*$/, '');
    const t0 = performance.now();
    const res = await fetch(`${api.url}${base}/clip.mp4?from=${clipRange.from}&to=${clipRange.to}`);
    const got = await download(res, t0);
    rows.clip = { bytes: got.bytes, seconds: round(got.s, 2), mb_s: round(got.bytes / 1e6 / got.s) };
    emit({ phase: 'export', kind: 'clip.mp4', minutes: EXPORT_MINUTES, ...(rows.clip as object) });
  } catch (err) {
    rows.clip = { error: (err as Error).message };
    emit({ phase: 'export', kind: 'clip.mp4', error: (err as Error).message });
  }
  return rows as { export: { mb_s?: number; error?: string }; clip: { mb_s?: number; error?: string } };
}

const svc: Service = await startService();
try {
  const cam = await svc.createCamera('bench-playback');
  // The recordings are written beside the stopped service: it owns db.json (the camera's wrapped
  // data key goes there) and its index cache must not hold stale hours.
  await svc.kill();
  const endMs = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
  const g = await generate({
    dataDir: svc.dataDir,
    cameraId: cam.id,
    endMs,
    hours: HOURS,
    indexOnlyDays: Math.max(0, DAYS - Math.ceil(HOURS / 24)),
    spec: SPEC,
    baselineDir: path.join(svc.dataDir, 'bench-baseline'),
    log: emit,
  });
  emit({
    phase: 'generate',
    hours: HOURS,
    segments: g.segments,
    fragments: g.fragments,
    sealed_mb: round(g.sealedBytes / 1e6),
    plain_mb: round(g.plainBytes / 1e6),
    kbit_s: round((g.plainBytes * 8) / 1000 / (g.fragments || 1)),
    gaps: g.gaps.length,
    index_only_hours: g.indexOnlyHours,
    seconds: g.seconds,
  });
  await svc.restart();
  const api = new Api(svc.url, await svc.login(svc.adminUsername, svc.adminPassword));

  const tl = PHASES.has('timeline') ? await timeline(api, cam.id, svc.dataDir) : undefined;
  const statics = await staticServer(g.baselineDir);
  let sk: Awaited<ReturnType<typeof seeks>> | undefined;
  try {
    sk = PHASES.has('seek') ? await seeks(api, cam.id, g, statics.url) : undefined;
    if (PHASES.has('seek')) await requests(api, cam.id, g, statics.url);
  } finally {
    await statics.close();
  }
  const ex = PHASES.has('export') ? await exports(api, cam.id, g) : undefined;
  emit({
    bench: 'playback',
    seek_ms_p50: sk?.seek_ms_p50 ?? null,
    seek_ms_p95: sk?.seek_ms_p95 ?? null,
    baseline_seek_ms_p50: sk?.baseline_seek_ms_p50 ?? null,
    timeline_30d_ms: tl?.warm_ms_p50 ?? null,
    export_mb_s: ex?.export.mb_s ?? null,
    baseline_seek_ms_p95: sk?.baseline_seek_ms_p95 ?? null,
    seek_vs_baseline_p50: sk?.ratio_p50 ?? null,
    timeline_30d_cold_ms: tl?.cold_ms ?? null,
    timeline_30d_unrecorded_cold_ms: tl?.empty_30d_cold_ms ?? null,
    clip_mb_s: ex?.clip.mb_s ?? null,
    seeks: sk?.seeks ?? 0,
  });
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? err}\n--- service output ---\n${svc.output().slice(-4000)}\n`);
  process.exitCode = 1;
} finally {
  await svc.stop();
}
