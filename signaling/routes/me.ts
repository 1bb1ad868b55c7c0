// The signed-in user's own settings: the live grid layout, kept per user.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { requireUser } from '../middleware.ts';
import { describe, reply, validate } from '../wire/index.ts';

const layout = z.union([z.literal(1), z.literal(4), z.literal(9), z.literal(16)]).describe('How many cameras the live grid shows at once (1, 2×2, 3×3 or 4×4)');
const preferencesBody = z.object({ layout: layout.optional() }).strict();
const PreferencesAnswer = z.object({
  preferences: z.object({ layout: layout.optional().describe('Absent until the user chose one (the app then picks its default)') }).describe('The user\'s saved settings'),
});

const tag = 'Sign-in and sessions';

export function meRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireUser(deps))
    .get(
      '/preferences',
      describe({
        summary: 'My settings',
        tag,
        auth: ['user'],
        access: 'any signed-in user (their own settings)',
        answer: { description: 'The saved settings', schema: PreferencesAnswer, example: { preferences: { layout: 9 } } },
        errors: ['session_revoked', 'forbidden', 'api_key_not_allowed'],
      }),
      (c) => reply(c, PreferencesAnswer, { preferences: deps.store.preferences(c.get('user').id) }),
    )
    .put(
      '/preferences',
      describe({
        summary: 'Change my settings',
        description: 'Merges the fields sent into the saved settings (a field left out keeps its value; unknown fields are refused) and answers with the result.',
        tag,
        auth: ['user'],
        access: 'any signed-in user (their own settings)',
        answer: { description: 'The settings now saved', schema: PreferencesAnswer, example: { preferences: { layout: 4 } } },
        errors: ['session_revoked', 'forbidden', 'api_key_not_allowed', 'database_unavailable', 'bad_request'],
        example: { layout: 4 },
      }),
      validate('json', preferencesBody),
      async (c) => {
        return reply(c, PreferencesAnswer, { preferences: await deps.store.setPreferences(c.get('user').id, c.req.valid('json')) });
      },
    );
}
