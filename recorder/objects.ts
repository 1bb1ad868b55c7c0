// Object names in the bucket: a pure encode/decode pair (table-tested). Names sort by time within
// a camera and hour, so listing a prefix walks the timeline in order.
//
//   recordings/<cameraId>/<YYYY>/<MM>/<DD>/<HH>/<YYYYMMDDTHHMMSSmmmZ>_<session>_<seq>.mmr   one segment
//   index/<cameraId>/<YYYY>/<MM>/<DD>/<HH>[.<writer>].mmi                                one hour's index,
//                                                                                        one object per writer (node)

export interface SegmentName {
  cameraId: string;
  /** Wall-clock start of the segment's first frame, ms since the epoch (UTC). */
  startMs: number;
  /** The recording session (one connection of the camera's producers to the recorder). */
  session: string;
  /** Segment number within the session, from 0. */
  seq: number;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const SEGMENT = /^recordings\/([A-Za-z0-9_-]{1,64})\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/(\d{8}T\d{9}Z)_([a-z0-9]{1,16})_(\d{1,9})\.mmr$/;
const INDEX = /^index\/([A-Za-z0-9_-]{1,64})\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})(?:\.([A-Za-z0-9_-]{1,64}))?\.mmi$/;
const WRITER = /^[A-Za-z0-9_-]{1,64}$/;
const HOUR_MS = 3_600_000;

function assertId(cameraId: string): void {
  if (!ID.test(cameraId)) throw new TypeError(`not a camera id: ${JSON.stringify(cameraId)}`);
}

function hourPath(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-26T23:22:36.123Z
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}`;
}

function compactTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}Z`;
}

function parseCompactTime(s: string): number {
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 18)}Z`;
  return Date.parse(iso);
}

/** Start of the UTC hour containing `ms`. */
export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** The UTC hours (their start times) that [fromMs, toMs) touches. */
export function hoursBetween(fromMs: number, toMs: number): number[] {
  const hours: number[] = [];
  for (let h = hourStart(fromMs); h < toMs; h += HOUR_MS) hours.push(h);
  return hours;
}

export function segmentKey(n: SegmentName): string {
  assertId(n.cameraId);
  if (!/^[a-z0-9]{1,16}$/.test(n.session)) throw new TypeError(`not a session id: ${n.session}`);
  if (!Number.isInteger(n.seq) || n.seq < 0 || n.seq > 999_999_999) throw new TypeError(`bad segment number ${n.seq}`);
  return `recordings/${n.cameraId}/${hourPath(n.startMs)}/${compactTime(n.startMs)}_${n.session}_${n.seq}.mmr`;
}

/** null for any key that is not exactly what segmentKey() writes. */
export function parseSegmentKey(key: string): SegmentName | null {
  const m = SEGMENT.exec(key);
  if (!m) return null;
  const startMs = parseCompactTime(m[6]!);
  if (!Number.isFinite(startMs)) return null;
  const name: SegmentName = { cameraId: m[1]!, startMs, session: m[7]!, seq: Number(m[8]) };
  return segmentKey(name) === key ? name : null;
}

/** Prefix of every segment of a camera, or of one of its hours. */
export function segmentPrefix(cameraId: string, hourMs?: number): string {
  assertId(cameraId);
  return hourMs === undefined ? `recordings/${cameraId}/` : `recordings/${cameraId}/${hourPath(hourMs)}/`;
}

/**
 * One hour's index as one writer keeps it: '' for a node on its own (the name it always had), the
 * node's id in a cluster, so no index object ever has two writers; readers merge an hour's objects.
 */
export function indexKey(cameraId: string, hourMs: number, writer = ''): string {
  assertId(cameraId);
  if (writer !== '' && !WRITER.test(writer)) throw new TypeError(`not an index writer: ${JSON.stringify(writer)}`);
  return `index/${cameraId}/${hourPath(hourMs)}${writer ? `.${writer}` : ''}.mmi`;
}

export function parseIndexKey(key: string): { cameraId: string; hourMs: number; writer: string } | null {
  const m = INDEX.exec(key);
  if (!m) return null;
  const hourMs = Date.parse(`${m[2]}-${m[3]}-${m[4]}T${m[5]}:00:00.000Z`);
  if (!Number.isFinite(hourMs)) return null;
  const writer = m[6] ?? '';
  return indexKey(m[1]!, hourMs, writer) === key ? { cameraId: m[1]!, hourMs, writer } : null;
}

/** Every writer's index object of one hour starts with this. */
export function indexHourPrefix(cameraId: string, hourMs: number): string {
  assertId(cameraId);
  return `index/${cameraId}/${hourPath(hourMs)}.`;
}

/** A node id as an index writer (the characters object names allow). */
export function indexWriter(nodeId: string): string {
  return nodeId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
}

export function indexPrefix(cameraId: string): string {
  assertId(cameraId);
  return `index/${cameraId}/`;
}

const EXPORT_ID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * One part of a finished clip export (one sealed chunk each, so neither upload nor download holds
 * the clip in memory); kept past retention until deleted. `exports/<cameraId>/<exportId>/<part>.mmx`
 */
export function exportKey(cameraId: string, exportId: string, part: number): string {
  assertId(cameraId);
  if (!EXPORT_ID.test(exportId)) throw new TypeError(`not an export id: ${JSON.stringify(exportId)}`);
  if (!Number.isInteger(part) || part < 0 || part > 9_999_999) throw new TypeError(`bad export part ${part}`);
  return `exports/${cameraId}/${exportId}/${String(part).padStart(7, '0')}.mmx`;
}

/** Every export of a camera, or every part of one export. */
export function exportPrefix(cameraId: string, exportId?: string): string {
  if (exportId === undefined) {
    assertId(cameraId);
    return `exports/${cameraId}/`;
  }
  return exportKey(cameraId, exportId, 0).replace(/[^/]*$/, '');
}
