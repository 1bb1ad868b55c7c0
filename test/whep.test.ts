// Chromium as a third-party WHIP encoder and WHEP player (no SDK): the player numbers its payload
// types its own way, and the SFU must answer in that numbering for the video to decode.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchChromium, type Browser } from './chromium.ts';
import { CLOCK_SCRIPT, PEER_SCRIPT } from './pages.ts';
import { startService, type Service } from './harness.ts';

let svc: Service;
let browser: Browser;

test.before(async () => {
  svc = await startService({ workers: 1 });
  browser = await launchChromium();
});
test.after(async () => {
  await browser?.close();
  await svc?.stop();
});

test('Chromium publishes over WHIP and plays over WHEP; decoded frames carry the painted clock', async () => {
  const cam = await svc.createCamera('WHIP encoder');
  const page = async () => {
    const p = await browser.context.newPage();
    await p.addInitScript(CLOCK_SCRIPT + PEER_SCRIPT);
    await p.goto(`${svc.url}/healthz`);
    return p;
  };
  const encoder = await page();
  const player = await page();
  const offer = await encoder.evaluate(() => (globalThis as any).__publishOffer());
  const answer = await encoder.evaluate(([u, t, s]) => (globalThis as any).__post(u, t, s), [`${svc.url}/whip/${cam.id}`, cam.secret, offer]);
  assert.match(answer, /a=ice-lite/);
  await encoder.evaluate((s) => (globalThis as any).__answer(s), answer);
  await encoder.waitForFunction(() => (globalThis as any).__pc.connectionState === 'connected', undefined, { timeout: 10_000 });

  const playOffer: string = await player.evaluate(() => (globalThis as any).__playOffer());
  const playAnswer: string = await player.evaluate(([u, t, s]) => (globalThis as any).__post(u, t, s), [`${svc.url}/whep/${cam.id}`, svc.adminToken, playOffer]);
  // The answer's H.264 payload type is the one the player offered for it.
  const pt = /a=rtpmap:(\d+) H264\/90000/.exec(playAnswer)?.[1];
  assert.ok(pt, 'the answer has H.264');
  assert.match(playOffer, new RegExp(`a=fmtp:${pt} .*packetization-mode=1`));
  await player.evaluate((s) => (globalThis as any).__answer(s), playAnswer);
  await player.waitForFunction(() => (globalThis as any).__clockSamples.length >= 30, undefined, { timeout: 20_000 });
  const samples: number[] = await player.evaluate(() => (globalThis as any).__clockSamples);
  const sorted = [...samples].sort((a, b) => a - b);
  assert.ok(sorted[Math.floor(sorted.length / 2)]! < 1000, `median glass-to-glass ${sorted[Math.floor(sorted.length / 2)]} ms`);
});

test.run();
