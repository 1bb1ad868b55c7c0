// Every error code an answer can carry, with its HTTP status and what it means to the caller.
// The OpenAPI document lists, for each route, the codes it may answer with, from this table.
import { z } from 'zod';

/**
 * [status, meaning]. Clients branch on the code. The status is the code's usual one; a route that
 * answers a code with another status says so in its `errors` (`{ code, status }`).
 */
export const ERROR_CODES = {
  // 400
  invalid_request: [400, 'A path parameter, query parameter or body field failed validation; the message names the field and the rule.'],
  bad_request: [400, 'The body is not valid JSON, or the request is malformed in another way the message names.'],
  wrong_password: [400, 'The current password given to confirm the change is wrong.'],
  totp_invalid: [400, 'The one-time code does not match the authenticator.'],
  unsupported_event: [400, 'The body names an event that is not offered; the message lists those that are.'],
  no_common_codec: [400, 'The offer contains none of the codecs the camera publishes.'],
  wrong_transport: [400, 'The operation does not fit the transport (direction or type).'],
  deletion_in_past: [400, 'The contract-end date must be in the future.'],
  bad_range: [400, 'endsAt must be after startsAt (or after now when startsAt is left out).'],
  right_not_allowed_for_role: [400, 'The user\'s role cannot hold one of the rights asked for: grant fewer rights, or change their role first.'],
  bad_sdp: [400, 'The body is not a usable WebRTC SDP offer (empty, not SDP, no ICE credentials or DTLS fingerprint, no codec to publish, or media parameters refused); the message says which.'],
  cannot_consume: [400, 'The player cannot decode the camera\'s codec: offer the camera\'s codec (H.264 packetization-mode=1, VP8 or Opus).'],
  group_cycle: [400, 'The move would put a camera group under itself or one of its own subgroups: choose a parent outside it.'],
  group_too_deep: [400, 'The tree of camera groups would be more than 8 levels deep: choose a parent nearer the top.'],
  webhook_url_refused: [400, 'The webhook URL cannot be used: not https, carries credentials, does not resolve, or resolves to a loopback, private, link-local or reserved address (allowed only with MIMAMORI_WEBHOOK_ALLOW_PRIVATE=1).'],
  // 401
  unauthorized: [401, 'No credentials, or they are not valid: sign in (or send the key, token or secret this route takes).'],
  token_expired: [401, 'The access token expired: refresh it (POST /api/auth/refresh) or sign in again.'],
  session_revoked: [401, 'The session was signed out or revoked by an administrator: sign in again.'],
  session_expired: [401, 'The session ended (idle too long, or 30 days after sign-in): sign in again.'],
  refresh_missing: [401, 'No refresh token was sent (API clients send { refreshToken }).'],
  refresh_invalid: [401, 'The refresh token is not valid: sign in again.'],
  refresh_reused: [401, 'The refresh token was used twice (two places), so the session was ended for safety.'],
  invalid_credentials: [401, 'The username or password is wrong.'],
  totp_required: [401, 'The account uses two-step sign-in: send the current one-time code.'],
  invalid_camera_secret: [401, 'The camera id or secret is wrong.'],
  kiosk_revoked: [401, 'The display was revoked or its token replaced: open the new kiosk link.'],
  invalid_api_key: [401, 'The API key is not valid (mistyped, cut short, or of a deleted organisation).'],
  api_key_revoked: [401, 'The API key was revoked, or the administrator who created it is no longer one: ask for a new key.'],
  api_key_expired: [401, 'The API key expired: ask an administrator for a new one.'],
  // 403
  forbidden: [403, 'The caller is known but may not do this (role, token type, or organisation).'],
  right_missing: [403, 'The caller lacks the named right on this camera; an organisation administrator can grant it.'],
  api_key_not_allowed: [403, 'API keys cannot call this route (it is for people: accounts, sessions, users, grants, organisations, API keys).'],
  csrf_refused: [403, 'A session cookie was sent without the X-Mimamori-Client: 1 header or from another site.'],
  outside_share: [403, 'A share link covers only its own clip and time range.'],
  out_of_window: [403, 'The segment is outside the playback token\'s window: start playback at that time.'],
  // 404
  not_found: [404, 'Nothing is at this path, or the session does not exist (any more).'],
  camera_not_found: [404, 'No such camera, or the caller may not see it.'],
  user_not_found: [404, 'No such user in the caller\'s organisation.'],
  group_not_found: [404, 'No such camera group in the caller\'s organisation.'],
  grant_not_found: [404, 'No such grant.'],
  hold_not_found: [404, 'No such legal hold on this camera.'],
  kiosk_not_found: [404, 'No such kiosk display.'],
  api_key_not_found: [404, 'No such API key in the caller\'s organisation.'],
  layout_not_found: [404, 'No such saved layout, or it is another user\'s.'],
  webhook_not_found: [404, 'No such webhook in the caller\'s organisation.'],
  share_not_found: [404, 'No such share link: check that the whole link was copied.'],
  export_not_found: [404, 'No such export, or it belongs to someone else.'],
  organisation_not_found: [404, 'No such organisation.'],
  announcement_not_found: [404, 'No such notice.'],
  session_not_found: [404, 'No such WHIP/WHEP session (it may have ended).'],
  segment_not_found: [404, 'The segment name is not one of this recording\'s segments.'],
  fragment_not_found: [404, 'The byte range is not a fragment of this segment.'],
  no_recording: [404, 'Nothing is recorded in the requested range.'],
  node_not_found: [404, 'No such node in this cluster.'],
  relay_not_found: [404, 'No such relay of this camera on this node.'],
  transport_not_found: [404, 'The media transport closed while the session was set up (another connection took over, or access was withdrawn): start again.'],
  consumer_not_found: [404, 'The camera\'s media ended while the session was set up (the camera went offline): start again.'],
  // 405 .. 429
  account_locked: [423, 'Too many failed sign-ins: the account is locked until the time given, or until an administrator unlocks it.'],
  audit_immutable: [405, 'The audit log is append-only: it cannot be written, changed or deleted through the API.'],
  not_supported: [405, 'Trickle ICE is not supported: all candidates are in the answer.'],
  camera_offline: [409, 'The camera is not live now.'],
  camera_closed: [409, 'The camera\'s room closed meanwhile: join again.'],
  not_publisher: [409, 'Another connection of this camera is publishing now.'],
  publisher_replaced: [409, 'The camera connected again elsewhere; this connection no longer publishes.'],
  publish_superseded: [409, 'Another connection of this camera took over since this one joined.'],
  not_joined: [409, 'Join the camera first.'],
  join_cancelled: [409, 'A leave (or a newer join) of the camera came while this join was under way: join again if still wanted.'],
  closed: [409, 'The connection is closing: reconnect.'],
  api_key_name_taken: [409, 'A working API key of the organisation has this name: choose another, or revoke that key first.'],
  layout_limit: [409, 'As many saved layouts as allowed (50 of a user\'s own, 200 shared by an organisation): delete one first.'],
  webhook_limit: [409, 'The organisation has as many webhooks as it may (20): delete one first.'],
  master_keys_readonly: [409, 'The master keys come from MIMAMORI_MASTER_KEYS: rotate them there (add a key, restart), not through the API.'],
  username_taken: [409, 'The username is taken.'],
  self_delete: [409, 'An administrator cannot delete their own account.'],
  last_admin: [409, 'The organisation would have no administrator left.'],
  own_organisation: [409, 'The operator\'s own organisation cannot be ended.'],
  export_not_ready: [409, 'The export is not finished (or failed): download it when it is done.'],
  codec_changed: [409, 'The video codec changes inside the range: export the two parts apart.'],
  totp_already_enabled: [409, 'Two-step sign-in is already on.'],
  totp_not_enabled: [409, 'Two-step sign-in is not on.'],
  totp_not_started: [409, 'Start the two-step set-up first.'],
  not_clustered: [409, 'The service runs as a single node.'],
  not_holder: [409, 'This node does not hold the camera.'],
  unknown_node: [409, 'The node is not a live node of this cluster.'],
  store_not_empty: [409, 'The target store already holds data.'],
  share_expired: [410, 'The share link expired.'],
  share_revoked: [410, 'The share link was revoked.'],
  sdp_too_large: [413, 'The SDP offer is too large.'],
  message_too_large: [413, 'The signaling message is too large.'],
  unsupported_media_type: [415, 'Send the SDP offer as Content-Type: application/sdp.'],
  range_too_long: [422, 'Download at most 6 hours at once; start an export for longer ranges.'],
  range_invalid: [400, 'from/to do not make a range a clip can be made of.'],
  weak_password: [422, 'The new password is too short, too common, or the same as the current one.'],
  protocol_unsupported: [426, 'The calling node speaks another internal protocol version.'],
  rate_limited: [429, 'Too many requests: wait for the Retry-After seconds.'],
  too_many_attempts: [429, 'Too many failed attempts (sign-in from this address, or a share link\'s password): wait, the message says how long.'],
  // 5xx
  schema_mismatch: [500, 'The database schema is newer than this release: upgrade the service.'],
  internal: [500, 'The server failed; the failure was logged with the request id. Try again.'],
  recording_damaged: [500, 'A stored recording failed its integrity check; an operator runs "mimamori verify".'],
  source_failed: [502, 'A recording could not be read while the clip was made: try again.'],
  storage_unavailable: [503, 'The recording storage (S3) cannot be reached right now: try again in a moment.'],
  database_unavailable: [503, 'The metadata database cannot be reached right now: try again in a moment.'],
  node_draining: [503, 'This node is leaving the cluster: connect again through the load balancer.'],
  node_unreachable: [503, 'The node holding the session did not answer: try again.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const statusOf = (code: ErrorCode): number => ERROR_CODES[code][0];

/** The body of every error answer. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().describe('Stable, machine-readable: branch on it.'),
      message: z.string().describe('What was wrong and what to do, in English, for people and logs.'),
    })
      // Some errors add detail (account_locked: lockedUntil).
      .loose(),
  })
  .describe('An error: its code and a message saying what was wrong and what to do.');
export type ErrorBody = z.infer<typeof ErrorBody>;
