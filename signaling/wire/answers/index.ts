// The answers of the REST API, one file per area: the routes document and check their answers
// with them (signaling/wire/answer.ts), the browser client parses answers with them (client/api.ts).
export * from './common.ts';
export * from './cameras.ts';
export * from './playback.ts';
export * from './exports.ts';
export * from './shares.ts';
export * from './kiosks.ts';
export * from './auth.ts';
export * from './me.ts';
export * from './groups.ts';
export * from './grants.ts';
export * from './announcements.ts';
export * from './nodes.ts';
export * from './audit.ts';
export * from './apiKeys.ts';
export * from './webhooks.ts';
export * from './recorder.ts';
export * from './sfu.ts';
export * from './health.ts';
export * from './users.ts';
export * from './orgs.ts';
export * from './layouts.ts';
export * from './sites.ts';
export * from './cameraHealth.ts';
