// The signed-in user's own settings: the live grid layout, kept per user.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { requireUser } from '../middleware.ts';
import { describe, reply, validate } from '../wire/index.ts';
import { gridLayout, Preferences } from '../wire/answers/index.ts';

const preferencesBody = z.object({ layout: gridLayout.optional() }).strict();

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
        answer: { description: 'The saved settings', schema: Preferences, example: { preferences: { layout: 9 } } },
        errors: ['session_revoked', 'forbidden', 'api_key_not_allowed'],
      }),
      (c) => reply(c, Preferences, { preferences: deps.store.preferences(c.get('user').id) }),
    )
    .put(
      '/preferences',
      describe({
        summary: 'Change my settings',
        description: 'Merges the fields sent into the saved settings (a field left out keeps its value; unknown fields are refused) and answers with the result.',
        tag,
        auth: ['user'],
        access: 'any signed-in user (their own settings)',
        answer: { description: 'The settings now saved', schema: Preferences, example: { preferences: { layout: 4 } } },
        errors: ['session_revoked', 'forbidden', 'api_key_not_allowed', 'database_unavailable', 'bad_request'],
        example: { layout: 4 },
      }),
      validate('json', preferencesBody),
      async (c) => {
        return reply(c, Preferences, { preferences: await deps.store.setPreferences(c.get('user').id, c.req.valid('json')) });
      },
    );
}
