// The signed-in user's own settings: the live grid layout, kept per user.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../context.ts';
import { requireUser } from '../middleware.ts';
import { validate } from '../validate.ts';

const preferencesBody = z.object({ layout: z.union([z.literal(1), z.literal(4), z.literal(9), z.literal(16)]).optional() }).strict();

export function meRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use(requireUser(deps))
    .get('/preferences', (c) => c.json({ preferences: deps.store.preferences(c.get('user').id) }))
    .put('/preferences', validate('json', preferencesBody), async (c) => {
      return c.json({ preferences: await deps.store.setPreferences(c.get('user').id, c.req.valid('json')) });
    });
}
