// Synthetic camera and headless viewer for tests, benchmarks and `mimamori camera`.
//
// Camera publishes a looping H.264 test pattern (+ a 440 Hz Opus tone) over WHIP; Viewer plays a
// camera over WHEP. Both speak only HTTP (POST offer → 201 answer + Location, DELETE Location)
// and WebRTC (werift), so they exercise the server exactly like a third-party encoder or player.
//
//   const camera = await Camera.create({ whipUrl: `${url}/whip/${id}`, token, width: 640, height: 360, fps: 30, seconds: Infinity });
//   const viewer = await Viewer.create({ whepUrl: `${url}/whep/${id}`, token: userToken });
//   await viewer.waitForFrames(60, 10_000);
//   const m = matchFrames(camera.frames, viewer.frames); // m.unmatched === 0: bit-exact delivery
//   await viewer.close(); await camera.close();
//
// A Camera is one session: it closes itself when the server falls silent (no RTCP for 2 s) or ICE
// is lost. Publisher (what `mimamori camera` runs) publishes again then, with a short backoff.
//
// Both create() calls resolve only once ICE/DTLS is connected, and throw WhipError (HTTP status +
// the server's { error: { code, message } }) or CameraError (connect_timeout, connect_failed) after
// undoing what they started. close() is idempotent, DELETEs the session and never throws.
//
// Frame identity: `frames` on both sides lists hashAccessUnit() of each access unit: SHA-256 over
// (4-byte big-endian length ‖ NAL bytes) for each NAL unit of the access unit but the parameter
// sets, AUD and filler, without start codes: the sample a recording holds (hashSample of it).
// By default the camera inserts a FrameStamp SEI (its stampId, frame number, send time) before each
// picture, so hashes are unique across fixture loops and cameras, and a viewer's 'frame' event
// carries `stamp` for latency (receivedAt - stamp.sentAt).
//
// The H.264 comes from fixture files made once by Debian's ffmpeg and cached in
// ${MIMAMORI_CACHE:-~/.cache/mimamori}/fixtures/ (see fixtures.ts for the exact commands):
// keyframe every second, SPS/PPS before each, no B-frames. The camera loops the file with monotonic
// timestamps, paced in real time, and answers PLI/FIR by jumping to the next keyframe of the file.
// Everything under "format" is pure and synchronous (no I/O, timers or clocks).

export {
  Camera,
  type CameraClosedInfo,
  type CameraEvents,
  type CameraLostReason,
  type CameraOptions,
  type CameraState,
  type CameraStats,
} from './Camera.ts';
export { Publisher, type PublisherClosedInfo, type PublisherEvents, type PublisherOptions, type PublisherState } from './Publisher.ts';
export {
  Viewer,
  type ReceivedFrame,
  type ViewerClosedInfo,
  type ViewerEvents,
  type ViewerOptions,
  type ViewerState,
  type ViewerStats,
} from './Viewer.ts';
export { FollowingViewer, type FollowingViewerEvents } from './FollowingViewer.ts';
export { CameraError, FixtureError, FormatError, WhipError } from './errors.ts';
export { matchFrames, type FrameMatch } from './verify.ts';
export { decodeStamp, encodeStamp, findStamp, STAMP_UUID, stampAccessUnit, type FrameStamp } from './stamp.ts';
export type { IceServer } from './peer.ts';

// Source and fixtures.
export {
  AudioLoop,
  resolveSourceOptions,
  SyntheticSource,
  VideoLoop,
  type AudioStep,
  type ResolvedSourceOptions,
  type SourceOptions,
  type SyntheticSourceEvents,
  type VideoStep,
} from './source.ts';
export {
  audioFixtureArgs,
  ensureAudioFixture,
  ensureVideoFixture,
  fixtureDir,
  videoFixtureArgs,
  type AudioFixtureParams,
  type H264Profile,
  type VideoFixtureParams,
} from './fixtures.ts';

// Format (pure).
export {
  groupAccessUnits,
  hashAccessUnit,
  hashSample,
  sampleNalus,
  isFirstSliceOfPicture,
  addEmulationPrevention,
  NalType,
  nalType,
  removeEmulationPrevention,
  parseAnnexB,
  splitAnnexB,
  toAnnexB,
  type AccessUnit,
} from './h264.ts';
export { oggCrc, opusPacketSamples, parseOggOpus, parseOggPackets, type OggOpus } from './ogg.ts';
export {
  DEFAULT_MAX_PAYLOAD,
  H264_CLOCK_RATE,
  H264Packetizer,
  OPUS_CLOCK_RATE,
  OpusPacketizer,
  rtpTimestamp,
  seqAdd,
  seqDiff,
  type H264PacketizerOptions,
  type PacketizerOptions,
  type RtpPacketData,
} from './rtp.ts';
