// One hour written down by several nodes (recorder/indexMerge.ts), and the index objects' names
// with their writer (recorder/objects.ts): a table of named cases, whole structures compared.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeHours, trimmed } from '../recorder/indexMerge.ts';
import { indexHourPrefix, indexKey, indexWriter, parseIndexKey } from '../recorder/objects.ts';
import type { FragmentTuple, GapEntry, SegmentEntry } from '../recorder/RecordingIndex.ts';

const HOUR = Date.parse('2026-12-06T05:00:00Z');

/** A segment of `n` one-second fragments from `startS` (seconds into the hour), keyframes every `gop`. */
function seg(key: string, session: string, startS: number, n: number, epoch?: number, gop = 2): SegmentEntry {
  const fragments: FragmentTuple[] = Array.from({ length: n }, (_, i) => [i * 1000, 1000, i % gop === 0 ? 1 : 0, 100 + i * 50, 50]);
  return {
    key,
    session,
    seq: 0,
    startMs: HOUR + startS * 1000,
    endMs: HOUR + (startS + n) * 1000,
    bytes: 100 + n * 50,
    init: [0, 100],
    fragments,
    end: 'duration',
    ...(epoch !== undefined ? { holder: { node: `n${epoch}`, epoch } } : {}),
  };
}
const gap = (fromS: number, toS: number, reason: GapEntry['reason']): GapEntry => ({ fromMs: HOUR + fromS * 1000, toMs: HOUR + toS * 1000, reason });
const spans = (segments: SegmentEntry[]) => segments.map((s) => [s.key, (s.startMs - HOUR) / 1000, (s.endMs - HOUR) / 1000]);

test('one writer: what it wrote', () => {
  const h = mergeHours('cam', HOUR, [{ segments: [seg('a', 's1', 0, 10, 1)], gaps: [gap(10, 20, 'camera-offline')] }]);
  assert.equal(spans(h.segments), [['a', 0, 10]]);
  assert.equal(h.gaps, [gap(10, 20, 'camera-offline')]);
});

test('two nodes, one after the other: both recordings, the failover gap between them', () => {
  const a = { segments: [seg('a1', 'sa', 0, 10, 1)], gaps: [] };
  const b = { segments: [seg('b1', 'sb', 13, 10, 2)], gaps: [gap(10, 13, 'node-failed')] };
  const h = mergeHours('cam', HOUR, [a, b]);
  assert.equal(spans(h.segments), [['a1', 0, 10], ['b1', 13, 23]]);
  assert.equal(h.gaps, [gap(10, 13, 'node-failed')]);
});

test('the failover gap shrinks to its exact bounds when the failed node\'s last seconds arrive', () => {
  // B took over at 13 s, believing A stopped at 8 s; A's spool, uploaded after its restart, reaches 10 s.
  const b = { segments: [seg('b1', 'sb', 13, 10, 2)], gaps: [gap(8, 13, 'node-failed')] };
  const a = { segments: [seg('a1', 'sa', 0, 10, 1)], gaps: [] };
  assert.equal(mergeHours('cam', HOUR, [b, a]).gaps, [gap(10, 13, 'node-failed')]);
});

test('each segment once, whichever writers list it', () => {
  const s = seg('a1', 'sa', 0, 10, 1);
  const h = mergeHours('cam', HOUR, [{ segments: [s], gaps: [] }, { segments: [s], gaps: [] }]);
  assert.equal(spans(h.segments), [['a1', 0, 10]]);
});

test('overlap: the higher epoch wins, the lower one keeps what is outside it, from a keyframe', () => {
  // A (epoch 1) paused and woke up: its segment 0–12 s overlaps B's (epoch 2) from 8 s.
  const a = { segments: [seg('a1', 'sa', 0, 12, 1)], gaps: [] };
  const b = { segments: [seg('b1', 'sb', 8, 10, 2)], gaps: [] };
  const h = mergeHours('cam', HOUR, [a, b]);
  assert.equal(spans(h.segments), [['a1', 0, 8], ['b1', 8, 18]], 'each second once');
  const kept = h.segments[0]!;
  assert.is(kept.fragments.length, 8);
  assert.equal(kept.fragments[0]!.slice(0, 3), [0, 1000, 1]);
});

test('overlap at the start: what is left starts on the next keyframe (a player decodes from there)', () => {
  const lower = seg('a1', 'sa', 5, 10, 1, 4); // keyframes at 5, 9, 13 s
  const t = trimmed(lower, [[HOUR, HOUR + 7000]]);
  assert.ok(t);
  assert.equal([(t!.startMs - HOUR) / 1000, (t!.endMs - HOUR) / 1000], [9, 15]);
  assert.equal(t!.fragments.map((f) => f[0]), [0, 1000, 2000, 3000, 4000, 5000], 'offsets from the new start');
  assert.equal(t!.fragments.map((f) => f[3]), [300, 350, 400, 450, 500, 550], 'byte ranges unchanged');
});

test('a lower-epoch segment wholly inside a newer one is dropped; a segment with no epoch counts as the lowest', () => {
  const h = mergeHours('cam', HOUR, [{ segments: [seg('old', 'so', 2, 3)], gaps: [] }, { segments: [seg('new', 'sn', 0, 10, 4)], gaps: [] }]);
  assert.equal(spans(h.segments), [['new', 0, 10]]);
});

test('a gap another writer recorded over is no gap', () => {
  const h = mergeHours('cam', HOUR, [{ segments: [], gaps: [gap(0, 60, 'recorder-down')] }, { segments: [seg('b', 'sb', 10, 20, 3)], gaps: [] }]);
  assert.equal(h.gaps, [gap(0, 10, 'recorder-down'), gap(30, 60, 'recorder-down')]);
});

test('a planned handover: the old node\'s last fragment overlapping the new one\'s first by up to 0.4 s (two clocks) is kept whole', () => {
  const h = mergeHours('cam', HOUR, [{ segments: [seg('a1', 'sa', 0, 10, 1)], gaps: [] }, { segments: [seg('b1', 'sb', 9.995, 5, 2)], gaps: [] }]);
  assert.equal(spans(h.segments), [['a1', 0, 10], ['b1', 9.995, 14.995]]);
  const clocks = mergeHours('cam', HOUR, [{ segments: [seg('a1', 'sa', 0, 10, 1)], gaps: [] }, { segments: [seg('b1', 'sb', 9.7, 5, 2)], gaps: [] }]);
  assert.equal(spans(clocks.segments), [['a1', 0, 10], ['b1', 9.7, 14.7]]);
  // More than the clocks' difference is an overlap: the old one's fragment goes.
  const late = mergeHours('cam', HOUR, [{ segments: [seg('a1', 'sa', 0, 10, 1)], gaps: [] }, { segments: [seg('b1', 'sb', 9.5, 5, 2)], gaps: [] }]);
  assert.equal(spans(late.segments), [['a1', 0, 9], ['b1', 9.5, 14.5]]);
});

test('a moment a paused node recorded after waking (shorter than the 0.4 s tolerance) inside the newer holder\'s recording is dropped', () => {
  // Seen in cluster.test.ts (SIGSTOP): 133 ms, one fragment, wholly inside the new holder's segment.
  const moment: SegmentEntry = { ...seg('woke', 'sw', 3.4, 1, 1), endMs: HOUR + 3533, fragments: [[0, 133, 1, 100, 50]], end: 'stopped' };
  for (const order of [0, 1]) {
    const parts = [{ segments: [moment], gaps: [] }, { segments: [seg('new', 'sn', 2, 4, 2)], gaps: [] }];
    const h = mergeHours('cam', HOUR, order ? parts.reverse() : parts);
    assert.equal(spans(h.segments), [['new', 2, 6]]);
  }
});

test('every node gets the same answer whichever writer it lists first; overlapping gaps of two writers list each second once', () => {
  // A paused holder woke up and wrote its own gap from where it stopped; the new holder wrote a
  // node-failed gap from the same second. Each node merges its own index first.
  const a = { segments: [seg('a1', 'sa', 0, 10, 1)], gaps: [gap(10, 30, 'camera-offline')] };
  const b = { segments: [seg('b1', 'sb', 14, 10, 2)], gaps: [gap(10, 14, 'node-failed'), gap(24, 26, 'frames-lost')] };
  const ab = mergeHours('cam', HOUR, [a, b]);
  const ba = mergeHours('cam', HOUR, [b, a]);
  assert.equal(ab, ba);
  assert.equal(ab.gaps, [gap(10, 14, 'node-failed'), gap(24, 26, 'frames-lost'), gap(26, 30, 'camera-offline')]);
  for (let i = 1; i < ab.gaps.length; i++) assert.ok(ab.gaps[i]!.fromMs >= ab.gaps[i - 1]!.toMs);
  // Same start: the more specific reason first, what is left of the other after it.
  const c = { segments: [], gaps: [gap(40, 45, 'node-failed')] };
  const d = { segments: [], gaps: [gap(40, 50, 'camera-offline')] };
  assert.equal(mergeHours('cam', HOUR, [c, d]).gaps, [gap(40, 45, 'node-failed'), gap(45, 50, 'camera-offline')]);
  assert.equal(mergeHours('cam', HOUR, [d, c]), mergeHours('cam', HOUR, [c, d]));
});

test('index keys: one object per writer, the single node keeps its old name, every key parses back', () => {
  assert.is(indexKey('cam1', HOUR), 'index/cam1/2026/12/06/05.mmi');
  assert.is(indexKey('cam1', HOUR, 'node-a'), 'index/cam1/2026/12/06/05.node-a.mmi');
  assert.equal(parseIndexKey('index/cam1/2026/12/06/05.mmi'), { cameraId: 'cam1', hourMs: HOUR, writer: '' });
  assert.equal(parseIndexKey('index/cam1/2026/12/06/05.node-a.mmi'), { cameraId: 'cam1', hourMs: HOUR, writer: 'node-a' });
  assert.ok(indexKey('cam1', HOUR, 'node-a').startsWith(indexHourPrefix('cam1', HOUR)));
  assert.ok(indexKey('cam1', HOUR).startsWith(indexHourPrefix('cam1', HOUR)));
  for (const bad of ['index/cam1/2026/12/06/05..mmi', 'index/cam1/2026/12/06/05.a.b.mmi', 'index/cam1/2026/12/06/5.mmi', 'index/cam1/2026/12/06/05.mmi.x']) {
    assert.is(parseIndexKey(bad), null, bad);
  }
  assert.is(indexWriter('node1.example.jp'), 'node1-example-jp');
  assert.throws(() => indexKey('cam1', HOUR, 'a.b'), /not an index writer/);
});

test.run();
