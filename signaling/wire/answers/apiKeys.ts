// Answers of /api/api-keys: an organisation's API keys as listed (never their secrets), and the
// key itself in the answer that created it.
import { z } from 'zod';
import { API_KEY_SCOPES, type ApiKeyScope } from '../domain.ts';
import { right } from './common.ts';

export const ApiKeyView = z.object({
  id: z.string().describe('The key\'s id (key_ and 16 hex digits); the key itself is mk_<hex>_<secret>'),
  prefix: z.string().describe('The start of the key itself (mk_<hex>_), to tell which key an integration holds'),
  name: z.string(),
  scope: z.enum(API_KEY_SCOPES as [ApiKeyScope, ...ApiKeyScope[]]),
  rights: z.array(right).describe('The camera rights the scope gives (never more than its creator has)'),
  groupId: z.string().nullable().describe('The camera group it is limited to; null: every camera its creator may see'),
  expiresAt: z.string().nullable().describe('ISO 8601; null: works until revoked'),
  createdAt: z.string(),
  createdBy: z.string().describe('The administrator who created it (user id); the key stops working if they are no longer one'),
  lastUsedAt: z.string().nullable().describe('ISO 8601, noted at most once a minute'),
  revokedAt: z.string().nullable(),
  state: z.enum(['active', 'expired', 'revoked', 'holder_gone']).describe('holder_gone: its creator is no longer an administrator of the organisation (it works again if they are made one again)'),
});
export const ApiKeyList = z.object({ apiKeys: z.array(ApiKeyView) });
export const CreatedApiKey = z.object({ apiKey: ApiKeyView, key: z.string().describe('The key: shown in this answer only, never again') });
