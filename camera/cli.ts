// `mimamori camera`: a synthetic camera that behaves like a real one: it exchanges its secret for
// a publish token, publishes over WHIP, and publishes again by itself whenever the server is lost
// (a restart, a dead node behind the load balancer, network loss) until its duration is over or it
// is interrupted. The loop is Publisher's; this file only prints what happens.
import type { CameraLostReason } from './Camera.ts';
import { WhipError } from './errors.ts';
import { Publisher } from './Publisher.ts';

export interface CameraCommandOptions {
  url: string;
  cameraId: string;
  secret: string;
  kbps: number;
  seconds: number;
  width: number;
  height: number;
  fps: number;
  audio: boolean;
  /** Annex-B H.264 file to loop instead of the test pattern. */
  file?: string;
}

const say = (line: string) => process.stderr.write(`[camera] ${line}\n`);

const LOST: Record<CameraLostReason, string> = {
  server_silent: 'nothing came from the server for 2 s (it stopped or cannot be reached)',
  connection_lost: 'the connection to the server was lost',
  connection_failed: 'the connection to the server failed',
};

export async function runCameraCommand(o: CameraCommandOptions): Promise<void> {
  const publisher = Publisher.create({
    url: o.url,
    cameraId: o.cameraId,
    secret: o.secret,
    seconds: o.seconds,
    camera: { width: o.width, height: o.height, fps: o.fps, kbps: o.kbps, audio: o.audio, ...(o.file ? { videoFile: o.file } : {}) },
  });
  // Attempts come every 2 s at most while the service is away: the same failure is printed again
  // only after 10 s, and the live line says how long it took.
  let outage: { since: number; attempts: number; message: string; quietUntil: number } | undefined;
  publisher.on('live', () => {
    const after = outage ? `, after ${outage.attempts} failed attempts in ${((Date.now() - outage.since) / 1000).toFixed(1)} s` : '';
    outage = undefined;
    say(`live: ${o.width}x${o.height}@${o.fps} H.264 ${o.kbps} kbit/s${o.audio ? ' + Opus' : ''}${after}`);
  });
  publisher.on('lost', ({ reason }) => say(`${LOST[reason as CameraLostReason] ?? `session closed (${reason})`}; publishing again`));
  publisher.on('retry', (err, delayMs) => {
    const now = Date.now();
    outage ??= { since: now, attempts: 0, message: '', quietUntil: 0 };
    outage.attempts += 1;
    if (err.message === outage.message && now < outage.quietUntil) return;
    outage.message = err.message;
    outage.quietUntil = now + 10_000;
    say(`cannot publish (${err.message}); retrying in ${(delayMs / 1000).toFixed(1)} s, then every 2 s at most`);
  });
  const stop = () => void publisher.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const { reason, error } = await publisher.finished();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (reason === 'refused' && error instanceof WhipError) throw new Error(`the server refused this camera: ${error.message}`);
  if (error) throw error;
  say('stopped');
}
