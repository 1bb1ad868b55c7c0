// The standalone S3 server's signature check (recorder/store/sigv4.ts): AWS's own published
// examples, a table of named ways a request can be wrong, and the real SDK against the server
// with a key pair (what `mimamori s3` runs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkSignature, EmbeddedS3, S3ObjectStore, StoreError, type SignedRequest } from '../recorder/store/index.ts';
import { MAX_SKEW_MS } from '../recorder/store/sigv4.ts';

// From AWS's "Signature Calculations for the Authorization Header: Transferring Payload in a
// Single Chunk" (S3 API reference): key pair, time and the four example requests with their signatures.
const AWS_KEY = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const AWS_NOW = Date.UTC(2013, 4, 24);
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const HOST = 'examplebucket.s3.amazonaws.com';

function awsRequest(method: string, url: string, headers: Record<string, string>, signed: string, signature: string): SignedRequest {
  const authorization = `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=${signature}`;
  return { method, url, headers: { host: HOST, 'x-amz-date': '20130524T000000Z', 'x-amz-content-sha256': EMPTY_SHA256, ...headers, authorization } };
}

const getObject = awsRequest('GET', '/test.txt', { range: 'bytes=0-9' }, 'host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
const putObjectHeaders = {
  date: 'Fri, 24 May 2013 00:00:00 GMT',
  'x-amz-storage-class': 'REDUCED_REDUNDANCY',
  'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
};
const putSigned = 'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class';
const putSignature = '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd';

const AWS_EXAMPLES: [string, SignedRequest][] = [
  ['GET Object with a Range header', getObject],
  ['PUT Object, "$" in the key sent as is', awsRequest('PUT', '/test$file.text', putObjectHeaders, putSigned, putSignature)],
  ['PUT Object, "$" in the key percent-encoded', awsRequest('PUT', '/test%24file.text', putObjectHeaders, putSigned, putSignature)],
  ['GET Bucket Lifecycle (a query parameter without value)', awsRequest('GET', '/?lifecycle', {}, 'host;x-amz-content-sha256;x-amz-date', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543')],
  ['GET Bucket (list objects), query in another order', awsRequest('GET', '/?prefix=J&max-keys=2', {}, 'host;x-amz-content-sha256;x-amz-date', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7')],
];

test('AWS\'s published example requests verify', () => {
  const failed = AWS_EXAMPLES.filter(([, r]) => !checkSignature(r, AWS_KEY, AWS_NOW).ok).map(([name]) => name);
  assert.equal(failed, []);
});

const withHeaders = (r: SignedRequest, headers: Record<string, string | undefined>): SignedRequest => ({ ...r, headers: { ...r.headers, ...headers } });
const auth = getObject.headers.authorization as string;

const WRONG: [name: string, request: SignedRequest, nowMs: number, expected: string][] = [
  ['the right request', getObject, AWS_NOW, 'ok'],
  ['14 minutes late: still in time', getObject, AWS_NOW + MAX_SKEW_MS - 60_000, 'ok'],
  ['an unsigned header added on the way', withHeaders(getObject, { 'x-forwarded-for': '10.0.0.1' }), AWS_NOW, 'ok'],
  ['no Authorization header (anonymous)', withHeaders(getObject, { authorization: undefined }), AWS_NOW, 'AccessDenied'],
  ['signature version 2', withHeaders(getObject, { authorization: 'AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=' }), AWS_NOW, 'AuthorizationHeaderMalformed'],
  ['another access key id', withHeaders(getObject, { authorization: auth.replace('AKIAIOSFODNN7EXAMPLE', 'AKIAOTHERKEY00000000') }), AWS_NOW, 'InvalidAccessKeyId'],
  ['16 minutes late', getObject, AWS_NOW + MAX_SKEW_MS + 60_000, 'RequestTimeTooSkewed'],
  ['16 minutes early', getObject, AWS_NOW - MAX_SKEW_MS - 60_000, 'RequestTimeTooSkewed'],
  ['scope of another day than x-amz-date', withHeaders(getObject, { authorization: auth.replace('/20130524/', '/20130523/') }), AWS_NOW, 'AuthorizationHeaderMalformed'],
  ['scope of another service', withHeaders(getObject, { authorization: auth.replace('/s3/', '/ec2/') }), AWS_NOW, 'AuthorizationHeaderMalformed'],
  ['x-amz-date not signed', withHeaders(getObject, { authorization: auth.replace('host;range;x-amz-content-sha256;x-amz-date', 'host;range;x-amz-content-sha256') }), AWS_NOW, 'AuthorizationHeaderMalformed'],
  ['another path', { ...getObject, url: '/test.tx' }, AWS_NOW, 'SignatureDoesNotMatch'],
  ['a query added', { ...getObject, url: '/test.txt?acl' }, AWS_NOW, 'SignatureDoesNotMatch'],
  ['another method', { ...getObject, method: 'DELETE' }, AWS_NOW, 'SignatureDoesNotMatch'],
  ['a signed header changed', withHeaders(getObject, { range: 'bytes=0-99' }), AWS_NOW, 'SignatureDoesNotMatch'],
  ['another declared payload', withHeaders(getObject, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }), AWS_NOW, 'SignatureDoesNotMatch'],
  ['a broken escape in the path', { ...getObject, url: '/test%zz.txt' }, AWS_NOW, 'SignatureDoesNotMatch'],
  ['the wrong secret', getObject, AWS_NOW, 'wrong-secret'],
];

test('a table of wrong requests: each refused with S3\'s code', () => {
  const wrong: string[] = [];
  for (const [name, request, nowMs, expected] of WRONG) {
    const key = expected === 'wrong-secret' ? { ...AWS_KEY, secretAccessKey: `${AWS_KEY.secretAccessKey}x` } : AWS_KEY;
    const verdict = checkSignature(request, key, nowMs);
    const got = verdict.ok ? 'ok' : verdict.code;
    if (got !== (expected === 'wrong-secret' ? 'SignatureDoesNotMatch' : expected)) wrong.push(`${name}: ${got}`);
    if (!verdict.ok && verdict.status !== (verdict.code === 'AuthorizationHeaderMalformed' ? 400 : 403)) wrong.push(`${name}: status ${verdict.status}`);
  }
  assert.equal(wrong, []);
});

test('the SDK against the server with a key pair: keys of any shape, paging; a wrong secret and unsigned requests refused', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-sigv4-'));
  const credentials = { accessKeyId: 'MMRTESTKEY0000000000', secretAccessKey: 'a-secret-of-enough-length' };
  const server = await EmbeddedS3.start({ directory: dir, bucket: 'mimamori', credentials });
  const store = await S3ObjectStore.create({ ...server.options, createBucket: true, listPageSize: 2 });
  const wrong = await S3ObjectStore.create({ ...server.options, secretAccessKey: 'not-the-secret-at-all' });
  try {
    assert.is(server.options.accessKeyId, credentials.accessKeyId, 'its options carry the key pair');
    const keys = ['a/plain.bin', 'a/with space.bin', 'a/dollar$plus+equals=.bin', 'a/日本語.bin', "a/quote'paren().bin"];
    for (const [i, key] of keys.entries()) await store.put(key, new Uint8Array([i, i, i]));
    for (const [i, key] of keys.entries()) assert.equal([...(await store.get(key))], [i, i, i], key);
    assert.equal([...(await store.get(keys[1]!, { offset: 1, length: 1 }))], [1], 'a ranged get');
    const listed: string[] = [];
    for await (const o of store.list('a/')) listed.push(o.key);
    assert.equal(listed.sort(), [...keys].sort(), 'listed over pages of 2');
    assert.is((await store.head(keys[0]!))?.size, 3);

    const refused = await wrong.get(keys[0]!).catch((e: unknown) => e);
    assert.instance(refused, StoreError);
    assert.is((refused as StoreError).code, 'denied', (refused as Error).message);
    const put = await wrong.put('a/intruder.bin', new Uint8Array([9])).catch((e: unknown) => e);
    assert.is((put as StoreError).code, 'denied');
    assert.is(await store.head('a/intruder.bin'), null, 'nothing was written with the wrong secret');

    const endpoint = server.options.endpoint!;
    for (const [method, url] of [['GET', `${endpoint}/mimamori/a/plain.bin`], ['GET', `${endpoint}/mimamori?list-type=2`], ['DELETE', `${endpoint}/mimamori/a/plain.bin`], ['PUT', `${endpoint}/other-bucket`]] as const) {
      const res = await fetch(url, { method });
      const body = await res.text();
      assert.is(res.status, 403, `${method} ${url} without a signature`);
      assert.match(body, '<Code>AccessDenied</Code>');
    }
    assert.ok(await store.head('a/plain.bin'), 'the unsigned DELETE deleted nothing');
    assert.is(await store.delete(keys), keys.length);
  } finally {
    store.close();
    wrong.close();
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('without a key pair the embedded server is as before (S3RVER, any signature)', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-sigv4-'));
  const server = await EmbeddedS3.start({ directory: dir, bucket: 'mimamori' });
  const store = await S3ObjectStore.create({ ...server.options, createBucket: true });
  try {
    assert.is(server.options.accessKeyId, 'S3RVER');
    await store.put('x', new Uint8Array([1]));
    assert.equal([...(await store.get('x'))], [1]);
  } finally {
    store.close();
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test.run();
