// Pieces the answers of several areas share. This folder is the answer side of the wire contract:
// the routes document and check their answers with these schemas, and the browser client parses
// them with the same ones, so it imports nothing but zod and the domain's enumerations.
import { z } from 'zod';
import { RIGHTS, type Right } from '../domain.ts';

/** An ISO 8601 time in UTC, as toISOString() writes it (checked; zod's long regex is kept out of the document). */
export const isoTime = z.iso.datetime().meta({ pattern: undefined });
/** A wall-clock instant as the recording index counts it. */
export const epochMs = z.number().int().describe('ms since the epoch (UTC)');
export const right = z.enum(RIGHTS as [Right, ...Right[]]);
/** Tiles on a screen: 1, 2×2, 3×3 or 4×4 (each answer says what it lays out). */
export const screenLayout = z.union([z.literal(1), z.literal(4), z.literal(9), z.literal(16)]);

/** Why nothing was recorded for a while (the recorder's gap reasons; signaling/routes/playback.ts checks they match). */
export const GAP_MEANINGS = {
  'camera-offline': 'the camera was not publishing',
  'frames-lost': 'frames were lost on the way',
  'recorder-down': 'the recorder was not running',
  'spool-overflow': 'the local spool was full before the storage took the segments',
  'disk-full': 'the spool disk was full',
  'disk-slow': 'the spool disk stalled: what waited in memory for it was dropped',
  'clock-drift': 'the camera\'s clock drifted and the timeline restarted',
  'producer-changed': 'the camera reconnected (a new stream)',
  'node-failed': 'the node recording it failed',
} as const;
export type GapReason = keyof typeof GAP_MEANINGS;
export const GAP_REASONS = Object.keys(GAP_MEANINGS) as [GapReason, ...GapReason[]];

/** An enum whose description lists what each value means. */
export const enumOf = <K extends string>(lead: string, meanings: Record<K, string>) =>
  z.enum(Object.keys(meanings) as [K, ...K[]]).describe(`${lead}: ${Object.entries(meanings).map(([k, v]) => `\`${k}\`: ${v}`).join('; ')}`);
