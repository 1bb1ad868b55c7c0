// Answers typed by their documented schema. The compiler holds every handler to its schema; with
// MIMAMORI_CHECK_ANSWERS=1 (the tests set it) each answer is also parsed at run time, so a schema
// that drifts from what the code sends fails the test that called the route.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { describeIssues } from './issues.ts';

const CHECK = process.env.MIMAMORI_CHECK_ANSWERS === '1';

/**
 * For an answer's enumeration copied from server code the browser bundle cannot import (recorder
 * reasons, audit outcomes, webhook events...): `true satisfies Same<Documented, Server>` stops the
 * build when the two drift apart.
 */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * An answer already serialised, with its headers as a plain record: @hono/node-server writes it
 * straight to the socket, where `c.body` would first build a WHATWG Headers object and read it back
 * (a tenth of a small answer's time). Headers set with `c.header` before it are not sent: use it
 * only on routes whose middleware sets none (the service's own headers go on Node's response,
 * see createApp).
 */
export function serialized(body: string | null, status: number, headers: Record<string, string>): Response {
  return new Response(body, { status, headers });
}

/** An answer that does not match its own documented schema (a server bug: 500, logged). */
export class AnswerContractError extends Error {
  override name = 'AnswerContractError';
}

export function checkAnswer<S extends z.ZodType>(schema: S, body: z.input<S>, where: string): void {
  if (!CHECK) return;
  const problem = answerProblem(schema, body);
  if (problem) throw new AnswerContractError(`the answer of ${where} does not match its documented schema: ${problem}`);
}

/** What is wrong with `body` as an answer documented by `schema`, or undefined: exactly its schema. */
export function answerProblem(schema: z.ZodType, body: unknown): string | undefined {
  // What goes on the wire: JSON (Dates become strings, undefined fields vanish).
  const wire: unknown = JSON.parse(JSON.stringify(body));
  const result = schema.safeParse(wire);
  if (!result.success) return describeIssues(result.error);
  // Objects strip unknown fields when parsed; the document forbids them (additionalProperties: false).
  const extra = extraField(wire, JSON.parse(JSON.stringify(result.data)), '');
  return extra === undefined ? undefined : `${extra || '(root)'} is not in the schema`;
}

/** The path of the first field `sent` has and `parsed` lacks. */
function extraField(sent: unknown, parsed: unknown, at: string): string | undefined {
  if (Array.isArray(sent) && Array.isArray(parsed)) {
    for (let i = 0; i < sent.length; i++) {
      const found = extraField(sent[i], parsed[i], `${at}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (sent && parsed && typeof sent === 'object' && typeof parsed === 'object') {
    for (const [key, value] of Object.entries(sent)) {
      const path = at ? `${at}.${key}` : key;
      if (!(key in parsed)) return path;
      const found = extraField(value, (parsed as Record<string, unknown>)[key], path);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** `c.json(body, status)`, with `body` typed (and, in tests, checked) by the route's answer schema. */
export function reply<S extends z.ZodType>(c: Context, schema: S, body: z.input<S>, status: ContentfulStatusCode = 200): Response {
  checkAnswer(schema, body, `${c.req.method} ${c.req.routePath}`);
  return c.json(body as object, status);
}
