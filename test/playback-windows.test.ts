// Playback planning (pure): entries start at keyframes, windows start at the keyframe before the
// asked time or after a gap, media times run on over gaps, playlists are stable as they grow.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SegmentEntry } from '../recorder/index.ts';
import { entriesOf, keyOfName, mergeSegments, NoRecordingError, planWindow, playlist, segmentName, WINDOW_MS } from '../playback/windows.ts';

const T0 = Date.UTC(2026, 10, 27, 3, 12, 0);

/** A segment of `n` 1-second fragments; `keys` lists which fragments start with a keyframe (default all). */
function segment(startMs: number, n: number, session = 'sa', seq = 0, keys?: number[]): SegmentEntry {
  const iso = new Date(startMs).toISOString();
  const compact = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}Z`;
  return {
    key: `recordings/cam1/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}/${compact}_${session}_${seq}.mmr`,
    session,
    seq,
    startMs,
    endMs: startMs + n * 1000,
    bytes: 0,
    init: [0, 100],
    fragments: Array.from({ length: n }, (_, i) => [i * 1000, 1000, !keys || keys.includes(i) ? 1 : 0, 100 + i * 1000, 1000] as [number, number, 0 | 1, number, number]),
    end: 'duration',
    video: { codec: 'h264', width: 640, height: 360 },
  };
}

test('entries start at keyframe fragments and take the fragments after them', () => {
  const entries = entriesOf([{ entry: segment(T0, 6, 'sa', 0, [0, 3]), open: false }]);
  assert.equal(entries.map((e) => [e.first, e.last, e.wallMs - T0, e.durMs]), [[0, 2, 0, 3000], [3, 5, 3000, 3000]]);
});

test('the last entry of a segment still being written is held back (it may grow)', () => {
  const entries = entriesOf([{ entry: segment(T0, 6, 'sa', 0, [0, 3]), open: true }]);
  assert.equal(entries.map((e) => e.first), [0]);
});

test('a window starts at the keyframe at or before the asked time; media time is continuous', () => {
  const segs = [segment(T0, 10, 'sa', 0, [0, 4, 8]), segment(T0 + 10_000, 10, 'sa', 1, [0, 5])];
  const w = planWindow({ entries: entriesOf(segs.map((entry) => ({ entry, open: false }))), gaps: [], atMs: T0 + 6500, recording: false });
  assert.is(w.startMs, T0 + 4000);
  assert.is(w.gap, undefined);
  assert.equal(w.mediaS, [0, 4, 6, 11]);
  assert.equal(w.discontinuity, [false, false, false, false], 'one session, no hole');
  assert.is(w.endMs, T0 + 20_000);
  assert.not.ok(w.live);
});

test('a time in a gap starts at the next recording, says where the gap is and why', () => {
  const segs = [segment(T0, 5, 'sa'), segment(T0 + 65_000, 5, 'sb')];
  const gaps = [{ fromMs: T0 + 5000, toMs: T0 + 65_000, reason: 'camera-offline' as const }];
  const w = planWindow({ entries: entriesOf(segs.map((entry) => ({ entry, open: false }))), gaps, atMs: T0 + 30_000, recording: false });
  assert.is(w.startMs, T0 + 65_000);
  assert.equal(w.gap, { fromMs: T0 + 5000, toMs: T0 + 65_000, reason: 'camera-offline' });
  const from0 = planWindow({ entries: entriesOf(segs.map((entry) => ({ entry, open: false }))), gaps, atMs: T0 + 1000, recording: false });
  assert.equal(from0.gaps, [{ fromMs: T0 + 5000, toMs: T0 + 65_000, reason: 'camera-offline' }]);
  assert.equal(from0.discontinuity, [false, false, false, false, true, false, false, false, false]);
  assert.is(from0.mediaS[4], 4, 'the gap takes no media time');
  const text = playlist(from0);
  assert.is(text.match(/#EXT-X-DISCONTINUITY/g)?.length, 1);
  assert.is(text.match(/#EXT-X-MAP/g)?.length, 2, 'one init per segment');
  assert.match(text, /#EXT-X-ENDLIST\n$/);
  assert.match(text, new RegExp(`#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + 65_000).toISOString()}`));
});

test('after the last recording: an error that says where it ends, unless the camera records now', () => {
  const entries = entriesOf([{ entry: segment(T0, 5), open: false }]);
  try {
    planWindow({ entries, gaps: [], atMs: T0 + 3_600_000, recording: false });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, NoRecordingError);
    assert.match((error as Error).message, /latest recording ends at 2026-11-27T03:12:05/);
  }
  const live = planWindow({ entries, gaps: [], atMs: T0 + 3_600_000, recording: true });
  assert.ok(live.live);
  assert.is(live.startMs, T0 + 4000, 'the newest keyframe');
  assert.not.match(playlist(live), /ENDLIST/);
  assert.match(playlist(live), /PLAYLIST-TYPE:EVENT/);
});

test('a window is at most an hour, or up to `to`', () => {
  const segs = Array.from({ length: 90 }, (_, i) => segment(T0 + i * 60_000, 60, 'sa', i));
  const entries = entriesOf(segs.map((entry) => ({ entry, open: false })));
  const w = planWindow({ entries, gaps: [], atMs: T0, recording: false });
  assert.is(w.endMs - w.startMs, WINDOW_MS);
  const short = planWindow({ entries, gaps: [], atMs: T0, toMs: T0 + 10_000, recording: false });
  assert.is(short.endMs, T0 + 10_000);
});

test('index copies win over spool copies; overlapping fragments are listed once', () => {
  const a = segment(T0, 5);
  const merged = mergeSegments([a], [{ entry: { ...a, fragments: a.fragments.slice(0, 2) }, open: true }, { entry: segment(T0 + 5000, 5, 'sa', 1), open: true }]);
  assert.is(merged.length, 2);
  assert.is(merged[0]!.entry.fragments.length, 5);
  const overlapping = entriesOf([{ entry: segment(T0, 5, 'sa'), open: false }, { entry: segment(T0 + 3000, 5, 'sb'), open: false }]);
  assert.equal(overlapping.map((e) => e.wallMs - T0), [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]);
});

test('segment names in URLs map back to keys only when they are exactly names', () => {
  const s = segment(T0, 1);
  assert.is(keyOfName('cam1', segmentName(s.key)), s.key);
  for (const bad of ['../../db.json', '20261127T031200000Z_sa_0/../x', '20261127T031200000Z_SA_0', '20261127T031200000Z_sa_', '']) assert.is(keyOfName('cam1', bad), undefined, bad);
});

test.run();
