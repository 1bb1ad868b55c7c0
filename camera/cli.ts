// `mimamori camera`: a synthetic camera that behaves like a real one: it exchanges its secret for
// a publish token, publishes over WHIP, and reconnects with backoff whenever the session ends
// (network loss, server restart) until its duration is over or it is interrupted.
import { Camera } from './Camera.ts';
import { WhipError } from './errors.ts';

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

async function publishToken(o: CameraCommandOptions): Promise<string> {
  const res = await fetch(`${o.url}/api/cameras/${encodeURIComponent(o.cameraId)}/publish-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ secret: o.secret }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { code: string; message: string } };
  if (!res.ok || !body.token) {
    throw new WhipError(res.status, body.error?.code ?? 'http_error', body.error?.message ?? `publish token request failed (${res.status})`);
  }
  return body.token;
}

export async function runCameraCommand(o: CameraCommandOptions): Promise<void> {
  const endAt = Number.isFinite(o.seconds) ? Date.now() + o.seconds * 1000 : Infinity;
  let stopping = false;
  let current: Camera | undefined;
  let wake: () => void = () => undefined;
  const stop = () => {
    stopping = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  let delay = 500;
  while (!stopping && Date.now() < endAt) {
    try {
      const token = await publishToken(o);
      const remaining = (endAt - Date.now()) / 1000;
      current = await Camera.create({
        whipUrl: `${o.url}/whip/${encodeURIComponent(o.cameraId)}`,
        token,
        width: o.width,
        height: o.height,
        fps: o.fps,
        kbps: o.kbps,
        audio: o.audio,
        seconds: remaining,
        ...(o.file ? { videoFile: o.file } : {}),
      });
      delay = 500;
      say(`live: ${o.width}x${o.height}@${o.fps} H.264 ${o.kbps} kbit/s${o.audio ? ' + Opus' : ''}`);
      const camera = current;
      await new Promise<void>((resolve) => {
        wake = resolve;
        camera.once('closed', () => resolve());
        camera.once('ended', () => resolve());
      });
      if (camera.state !== 'closed' && !stopping && Date.now() < endAt) say('session ended by the server; reconnecting');
      await camera.close();
      current = undefined;
    } catch (err) {
      if (err instanceof WhipError && (err.status === 401 || err.status === 403 || err.status === 404)) {
        // Wrong id or secret: retrying cannot help.
        throw new Error(`the server refused this camera: ${err.message}`);
      }
      say(`cannot publish (${err instanceof Error ? err.message : String(err)}); retrying in ${(delay / 1000).toFixed(1)} s`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, delay * (0.75 + Math.random() / 2));
      });
      delay = Math.min(10_000, delay * 2);
    }
  }
  await current?.close();
  say('stopped');
}
