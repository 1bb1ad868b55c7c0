// Pure SDP translation for WHIP/WHEP (no server).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { types } from 'mediasoup';
import { buildAnswer, chooseCodec, parseOffer, playerCapabilities, producerParameters, SdpError } from '../signaling/sdp.ts';
import { mediaCodecs } from '../sfu/codecs.ts';

const fp = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');
const routerCaps: types.RtpCapabilities = {
  codecs: mediaCodecs.map((c, i) => ({ ...c, preferredPayloadType: 100 + i }) as types.RtpCodecCapability),
  headerExtensions: [],
};

function offer(videoLines: string, setup = 'actpass'): string {
  return [
    'v=0',
    'o=- 123 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    `a=fingerprint:sha-256 ${fp}`,
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    `a=setup:${setup}`,
    'a=sendonly',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=ssrc:1111 cname:cam',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103',
    'c=IN IP4 0.0.0.0',
    'a=mid:1',
    'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    `a=setup:${setup}`,
    'a=sendonly',
    'a=rtcp-mux',
    'a=rtpmap:96 VP8/90000',
    'a=rtpmap:97 rtx/90000',
    'a=fmtp:97 apt=96',
    'a=rtpmap:102 H264/90000',
    'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    'a=rtcp-fb:102 nack',
    'a=rtcp-fb:102 nack pli',
    'a=rtpmap:103 rtx/90000',
    'a=fmtp:103 apt=102',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=extmap:9 urn:example:unknown',
    videoLines,
    '',
  ]
    .filter((l, i, a) => l !== '' || i === a.length - 1)
    .join('\r\n');
}

test('parseOffer rejects what is not a usable offer, naming the problem', () => {
  for (const [text, part] of [
    ['', 'empty'],
    ['hello', 'not SDP'],
    ['v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', 'no m='],
    [offer('').replace(/a=fingerprint.*\r\n/, ''), 'fingerprint'],
    [offer('').replace(/a=ice-pwd.*\r\n/g, ''), 'ice-pwd'],
  ] as const) {
    try {
      parseOffer(text);
      assert.unreachable(`accepted: ${part}`);
    } catch (err) {
      assert.instance(err, SdpError);
      assert.ok((err as Error).message.includes(part), `${(err as Error).message} should mention ${part}`);
    }
  }
});

test('H.264 constrained baseline is preferred over VP8; RTX and SSRCs carried into the producer', () => {
  const parsed = parseOffer(offer('a=ssrc-group:FID 2222 3333\r\na=ssrc:2222 cname:cam\r\na=ssrc:3333 cname:cam'));
  assert.equal(parsed.dtls.role, 'client');
  assert.equal(parsed.dtls.fingerprints[0], { algorithm: 'sha-256', value: fp });
  const video = parsed.media[1]!;
  const codec = chooseCodec(video.section, routerCaps);
  assert.is(codec?.payloadType, 102);
  assert.is(codec?.rtxPayloadType, 103);
  const rtp = producerParameters(video, codec!, 'cam');
  assert.equal(rtp.encodings, [{ ssrc: 2222, rtx: { ssrc: 3333 } }]);
  assert.equal(rtp.codecs.map((c) => [c.mimeType, c.payloadType]), [
    ['video/H264', 102],
    ['video/rtx', 103],
  ]);
  assert.equal(rtp.headerExtensions, [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }], 'unknown extensions dropped');
  assert.is(rtp.mid, '1');
  const audio = chooseCodec(parsed.media[0]!.section, routerCaps);
  assert.is(audio?.mimeType, 'audio/opus');
});

test('simulcast rids become encodings', () => {
  const parsed = parseOffer(offer('a=rid:q send\r\na=rid:f send\r\na=simulcast:send q;f'));
  const video = parsed.media[1]!;
  const rtp = producerParameters(video, chooseCodec(video.section, routerCaps)!, 'cam');
  assert.equal(rtp.encodings, [{ rid: 'q' }, { rid: 'f' }]);
});

test('a passive offerer makes us the DTLS client; the answer is ice-lite with our candidates', () => {
  const parsed = parseOffer(offer('', 'passive'));
  assert.is(parsed.dtls.role, 'server');
  const transport = {
    iceParameters: { usernameFragment: 'srvufrag', password: 'srvpassword', iceLite: true },
    iceCandidates: [{ foundation: 'udpcandidate', priority: 1076302079, address: '127.0.0.1', ip: '127.0.0.1', protocol: 'udp', port: 40001, type: 'host' }],
    dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
  } as unknown as Parameters<typeof buildAnswer>[1];
  const video = parsed.media[1]!;
  const rtp = producerParameters(video, chooseCodec(video.section, routerCaps)!, 'cam');
  const answer = buildAnswer(parsed, transport, [
    { media: parsed.media[0]!, direction: 'recvonly' },
    { media: video, rtp, direction: 'recvonly' },
  ]);
  assert.match(answer, /a=ice-lite/);
  assert.match(answer, /a=setup:active/);
  assert.match(answer, /m=audio 0 /, 'unaccepted section rejected with port 0');
  assert.match(answer, /m=video 9 UDP\/TLS\/RTP\/SAVPF 102 103/);
  assert.match(answer, /a=candidate:udpcandidate 1 udp 1076302079 127.0.0.1 40001 typ host/);
  assert.match(answer, /a=group:BUNDLE 1\r\n/);
});

test('player capabilities keep the player payload types', () => {
  const caps = playerCapabilities(parseOffer(offer('').replace(/a=sendonly/g, 'a=recvonly')));
  const h264 = caps.codecs?.find((c) => c.mimeType === 'video/H264');
  assert.is(h264?.preferredPayloadType, 102);
  assert.ok(caps.codecs?.some((c) => c.mimeType === 'video/rtx' && c.parameters?.apt === 102));
});

test.run();
