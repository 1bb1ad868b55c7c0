// One error shape from every layer: each typed error carries its status and code, and the root
// handler answers what the caller may know (never a storage key or a stack). And events that
// cannot break their emitter: a listener that throws is reported, the others still run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { onListenerFailure, SafeEmitter } from '../errors/index.ts';
import { toErrorBody } from '../signaling/errors.ts';
import { StoreError as MetadataError } from '../signaling/store/index.ts';
import { StoreError as ObjectStoreError } from '../recorder/store/index.ts';
import { SealError } from '../recorder/seal/index.ts';
import { SegmentError } from '../recorder/reader.ts';
import { Mp4FormatError } from '../recorder/mp4/index.ts';
import { ClipError } from '../playback/clip/errors.ts';
import { NoRecordingError, PlaybackError } from '../playback/index.ts';
import { SfuError } from '../sfu/errors.ts';

test('every layer\'s typed error answers with its own status and a code the caller can act on', () => {
  const cases: [unknown, number, string][] = [
    [new NoRecordingError('nothing recorded between 10:00 and 10:05'), 404, 'no_recording'],
    [new PlaybackError('out_of_window', 'outside'), 403, 'out_of_window'],
    [new PlaybackError('segment_not_found', 'no such segment'), 404, 'segment_not_found'],
    [new ClipError('codec_changed', 'the codec changes at 10:02'), 409, 'codec_changed'],
    [new ClipError('source_failed', 'a recording could not be read; try again'), 502, 'source_failed'],
    [new SfuError('not_publisher', 'another connection publishes', 409), 409, 'not_publisher'],
    [new MetadataError('username_taken', 'the username "sato" is taken; choose another'), 409, 'username_taken'],
    [new MetadataError('database_unavailable', 'the database cannot be reached; try again'), 503, 'database_unavailable'],
  ];
  for (const [error, status, code] of cases) {
    const answer = toErrorBody(error);
    assert.is(answer.status, status, code);
    assert.is(answer.body.error.code, code);
    assert.is(answer.body.error.message, (error as Error).message);
  }
});

test('failures of stored recordings and of the storage say what to do, without internal detail', () => {
  const key = 'recordings/c_1/2026/12/06/10/1765015200000-s1-0.seg';
  for (const error of [new SealError('record_tampered', `${key}: authentication failed`), new SegmentError('record_truncated', `${key} fragment 3: truncated`), new Mp4FormatError('truncated', `${key}: box runs past the end`)]) {
    const answer = toErrorBody(error);
    assert.is(answer.status, 500);
    assert.is(answer.body.error.code, 'recording_damaged');
    assert.match(answer.body.error.message, /mimamori verify/);
    assert.not.match(answer.body.error.message, /recordings\//);
  }
  const storage = toErrorBody(new ObjectStoreError('unavailable', 'PUT http://10.0.0.5:9000/bucket/recordings/... ECONNREFUSED'));
  assert.is(storage.status, 503);
  assert.is(storage.body.error.code, 'storage_unavailable');
  assert.not.match(storage.body.error.message, /10\.0\.0\.5|ECONNREFUSED/);
  const schema = toErrorBody(new MetadataError('schema_mismatch', 'schema 9 at postgres://db.internal/mimamori is newer'));
  assert.equal(schema, { status: 500, body: { error: { code: 'internal', message: 'the server failed to handle this request; it was logged, try again' } } });
  assert.is(toErrorBody(new Error('ENOENT /var/lib/mimamori/secret')).body.error.code, 'internal');
  assert.not.match(toErrorBody(new Error('ENOENT /var/lib/mimamori/secret')).body.error.message, /var/);
});

class Room extends SafeEmitter<{ closed: [reason: string] }> {
  close(reason: string): void {
    this.safeEmit('closed', reason);
  }
}

test('a listener that throws is reported and the listeners after it still run', async () => {
  const failures: string[] = [];
  onListenerFailure((error, emitter, event) => failures.push(`${emitter} ${event}: ${(error as Error).message}`));
  const room = new Room();
  const seen: string[] = [];
  room.on('closed', () => {
    throw new Error('viewer bookkeeping failed');
  });
  room.once('closed', (reason) => seen.push(`once ${reason}`));
  room.on('closed', (reason) => seen.push(`after ${reason}`));
  room.on('closed', async () => {
    throw new Error('async listener failed');
  });
  room.close('camera left');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(seen, ['once camera left', 'after camera left']);
  assert.equal(failures, ['Room closed: viewer bookkeeping failed', 'Room closed: async listener failed']);
  // The once-listener ran once.
  room.close('again');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(seen, ['once camera left', 'after camera left', 'after again']);
});

test.run();
