// API keys of an organisation: its administrators create them (the key is in that answer only),
// list them (never their secrets) with their last use and state, and revoke them. Keys cannot
// call these routes themselves: a key never makes or revokes keys.
import { Hono } from 'hono';
import { z } from 'zod';
import { apiKeyPrefix, apiKeyState, newApiKey, SCOPE_RIGHTS } from '../apiKeys.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, badRequest, notFound } from '../errors.ts';
import { audit, requireAdmin, requireUser } from '../middleware.ts';
import { API_KEY_SCOPES, type ApiKey, type ApiKeyScope } from '../store/index.ts';
import { ApiKeyList, CreatedApiKey } from '../wire/answers/index.ts';
import { describe, reply, validate } from '../wire/index.ts';
import { ID, instant } from './params.ts';

/** At most this far ahead: a key meant to outlive that should be rotated anyway. */
const MAX_LIFETIME_MS = 5 * 365 * 86_400_000;

const createBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    scope: z.enum(API_KEY_SCOPES as [ApiKeyScope, ...ApiKeyScope[]], { message: `scope must be one of ${API_KEY_SCOPES.join(', ')}` }),
    /** ISO 8601 or ms; absent: the key works until revoked. */
    expiresAt: instant.optional(),
    groupId: z.string().regex(ID, 'not a group id').optional(),
  })
  .strict();
const keyParam = z.object({ id: z.string().regex(/^key_[0-9a-f]{16}$/, 'not an API key id (key_ and 16 hex digits)') });

const tag = 'API keys';
const auth = ['user'] as const;
const access = 'an organisation administrator (API keys cannot manage keys)';
const exampleKey = {
  id: 'key_3f9a0c2b7d1e4a65',
  prefix: 'mk_3f9a0c2b7d1e4a65_',
  name: '入退室システム (access control)',
  scope: 'live',
  rights: ['live'],
  groupId: null,
  expiresAt: '2027-12-31T15:00:00.000Z',
  createdAt: '2026-12-06T01:00:00.000Z',
  createdBy: 'u_3Q50xK2a',
  lastUsedAt: null,
  revokedAt: null,
  state: 'active',
};

export function apiKeyRoutes(deps: Deps) {
  const view = (k: ApiKey) => ({
    id: k.id,
    /** The start of the key itself, so an administrator can tell which one an integration holds. */
    prefix: apiKeyPrefix(k.id),
    name: k.name,
    scope: k.scope,
    rights: [...SCOPE_RIGHTS[k.scope]],
    groupId: k.cameraGroupId ?? null,
    expiresAt: k.expiresAt ?? null,
    createdAt: k.createdAt,
    createdBy: k.createdBy,
    lastUsedAt: k.lastUsedAt ?? null,
    revokedAt: k.revokedAt ?? null,
    state: apiKeyState(deps.store, k),
  });

  return new Hono<AppEnv>()
    .use(requireUser(deps), requireAdmin)
    .get('/', describe({ summary: 'List the organisation\'s API keys', description: 'Newest first, revoked ones included; never a key\'s secret.', tag, auth, access, answer: { description: 'The keys', schema: ApiKeyList, example: { apiKeys: [exampleKey] } }, errors: ['forbidden', 'session_revoked'] }), (c) => {
      const keys = [...deps.store.apiKeysOf(c.get('user').orgId)].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      return reply(c, ApiKeyList, { apiKeys: keys.map(view) });
    })
    .post('/', describe({
      summary: 'Create an API key',
      description: 'Scopes: `read` (camera list, timelines, playback), `live` (live view), `export` (playback and exports), `manage_cameras` (create and configure cameras). A key limited to a group sees only that group\'s cameras, and never more than its creator. The key is in this answer only: store it now. Each key is rate-limited (429 `rate_limited` with Retry-After) and every call made with it is audited under its name. Audited.',
      tag, auth, access,
      answer: { status: 201, description: 'The key, shown this once, and its listing', schema: CreatedApiKey, example: { apiKey: exampleKey, key: 'mk_3f9a0c2b7d1e4a65_Q2hhbmdlLW1lLXRoaXMtaXMtYW4tZXhhbXBsZS1rZXk' } },
      errors: ['forbidden', 'session_revoked', 'group_not_found', 'api_key_name_taken', 'database_unavailable', 'bad_request'],
      example: { name: '入退室システム (access control)', scope: 'live', expiresAt: '2027-12-31T15:00:00Z' },
    }), validate('json', createBody), async (c) => {
      const { name, scope, expiresAt, groupId } = c.req.valid('json');
      const user = c.get('user');
      if (expiresAt !== undefined && expiresAt <= Date.now()) throw badRequest('expiresAt must be in the future (or left out: the key then works until revoked)', 'invalid_request');
      if (expiresAt !== undefined && expiresAt > Date.now() + MAX_LIFETIME_MS) throw badRequest('expiresAt must be within 5 years; leave it out for a key that works until revoked', 'invalid_request');
      if (groupId !== undefined && deps.store.group(groupId)?.orgId !== user.orgId) throw notFound('group', groupId);
      if (deps.store.apiKeysOf(user.orgId).some((k) => k.name === name && !k.revokedAt)) {
        throw new ApiError(409, 'api_key_name_taken', `a working API key named "${name}" exists; choose another name or revoke that key first`);
      }
      const { id, token, secretHash } = newApiKey();
      const key = await deps.store.addApiKey({
        id,
        orgId: user.orgId,
        name,
        scope,
        ...(groupId !== undefined ? { cameraGroupId: groupId } : {}),
        ...(expiresAt !== undefined ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
        secretHash,
        createdBy: user.id,
      });
      audit(deps, c, { actor: `u:${user.id}`, action: 'api_key.create', outcome: 'ok', detail: { keyId: id, name, scope, groupId, expiresAt: key.expiresAt } });
      // The only time the key is shown: it is not stored, and never logged.
      return reply(c, CreatedApiKey, { apiKey: view(key), key: token }, 201);
    })
    .delete('/:id', describe({ summary: 'Revoke an API key', description: 'At once on every node: calls with it answer 401 `api_key_revoked`, its live views stop. Revoking a revoked key changes nothing. Audited.', tag, auth, access, answer: { status: 204, description: 'Revoked' }, errors: ['forbidden', 'session_revoked', 'api_key_not_found', 'database_unavailable'] }), validate('param', keyParam), async (c) => {
      const { id } = c.req.valid('param');
      const user = c.get('user');
      const existing = deps.store.apiKey(id);
      if (!existing || existing.orgId !== user.orgId) throw notFound('api_key', id);
      // Every node stops accepting it as the change reaches it; its live views stop (Revocations).
      const key = await deps.store.revokeApiKey(id, user.id);
      if (!key) throw notFound('api_key', id); // deleted meanwhile
      audit(deps, c, { actor: `u:${user.id}`, action: 'api_key.revoke', outcome: 'ok', detail: { keyId: id, name: key.name, alreadyRevoked: existing.revokedAt !== undefined } });
      return c.body(null, 204);
    });
}
