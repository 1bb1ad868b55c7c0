// Ids of rows: random and opaque (never sequential: they appear in URLs).
import crypto from 'node:crypto';

export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(9).toString('base64url')}`;
}

/** 128 random bits: a share link's id is the link itself, so it cannot be guessed. */
export function newShareId(): string {
  return crypto.randomBytes(16).toString('base64url');
}

/** The organisation the first administrator (and data from before organisations) belongs to. */
export const FIRST_ORG_NAME = 'Default';
