// A camera's state as people see it in lists, site counts and the health page: one definition,
// so the list filter, the site counts and the health page never disagree.
//
//   const stateOf = cameraStates(deps, monitoring.alerts());   // read once per request
//   for (const cam of cameras) stateOf(cam)                      // 'live' | 'offline' | 'not_recording'
//
//   const states = new CameraStateReader(deps, monitoring);     // the same, for routes asked many times a second
//   states.of(cam)
//
// Everything is read from memory this node holds (its media rooms, the recorder's alerts): no
// awaits, a Set lookup per camera, so thousands of cameras per request cost nothing noticeable.

import type { Deps } from './context.ts';
import type { Monitoring, RecorderAlert } from './monitoring.ts';
import type { Camera } from './store/index.ts';

export type CameraState = 'live' | 'offline' | 'not_recording';
/** Every state, in the order "needs attention first" (sort=attention). */
export const CAMERA_STATES = ['not_recording', 'offline', 'live'] as const satisfies readonly CameraState[];

/**
 * The state from what is known of one camera. `alerting`: the recorder raised an alert for it
 * (live and set to record but nothing recorded it for the alert delay, or its spool disk is full).
 * A camera not publishing is offline whatever its recording; one that publishes with recording
 * turned off is live (nothing is missing).
 */
export function cameraState(live: boolean, recordingEnabled: boolean, alerting: boolean): CameraState {
  if (!live) return 'offline';
  return recordingEnabled && alerting ? 'not_recording' : 'live';
}

/** Whether a camera is publishing now, as this node sees it (what GET /api/cameras calls `live`). */
export function cameraLive(deps: Pick<Deps, 'sfu'>, cameraId: string): boolean {
  return deps.sfu.existingRoom(cameraId)?.live ?? false;
}

/**
 * A reader of cameras' states from the alerts read once (Monitoring.alerts(), which also looks
 * for new ones). The alerts use the same delay as the `alert_not_recording` log line and webhook,
 * so a camera that just came online is `live` while its recording starts, not `not_recording`.
 */
export function cameraStates(deps: Pick<Deps, 'sfu'>, alerts: readonly RecorderAlert[]): (cam: Camera) => CameraState {
  return statesWith(deps, new Set(alerts.map((a) => a.cameraId)));
}

/** States from the cameras under alert. */
function statesWith(deps: Pick<Deps, 'sfu'>, alerting: ReadonlySet<string>): (cam: Camera) => CameraState {
  return (cam) => cameraState(cameraLive(deps, cam.id), cam.recording?.enabled ?? true, alerting.has(cam.id));
}

/** How long the recorder's alerts are reused (they change on a 5-second timer and after a 30-second delay). */
const ALERTS_KEEP_MS = 1000;

/**
 * cameraStates() for routes asked many times a second (the camera list, the sites tree): the
 * cameras under alert are gathered at most once a second, not on every request; whether a camera
 * publishes is read at each call. An alert so shows up to a second later than it would anyway.
 */
export class CameraStateReader {
  readonly #deps: Pick<Deps, 'sfu'>;
  readonly #monitoring: Pick<Monitoring, 'alerts'>;
  #alerting: { atMs: number; ids: ReadonlySet<string> } | undefined;

  constructor(deps: Pick<Deps, 'sfu'>, monitoring: Pick<Monitoring, 'alerts'>) {
    this.#deps = deps;
    this.#monitoring = monitoring;
  }

  /** A camera's state now. */
  of(cam: Camera): CameraState {
    return this.now()(cam);
  }

  /** States now, for many cameras in one request: the alerts are looked up once, not per camera. */
  now(): (cam: Camera) => CameraState {
    return statesWith(this.#deps, this.#alertingNow());
  }

  #alertingNow(): ReadonlySet<string> {
    const now = Date.now();
    if (!this.#alerting || now - this.#alerting.atMs >= ALERTS_KEEP_MS) this.#alerting = { atMs: now, ids: new Set(this.#monitoring.alerts().map((a) => a.cameraId)) };
    return this.#alerting.ids;
  }
}
