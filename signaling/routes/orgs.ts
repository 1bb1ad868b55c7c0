// Organisations (tenants). The service's operators (platform admins) create them with their first
// administrator and schedule their contract end; everyone may read their own organisation.
import { Hono } from 'hono';
import { z } from 'zod';
import { checkPasswordPolicy } from '../accounts/index.ts';
import { hashPassword } from '../auth.ts';
import type { AppEnv, Deps } from '../context.ts';
import { ApiError, badRequest, notFound } from '../errors.ts';
import { audit, requirePlatform, requireUser } from '../middleware.ts';
import type { Org } from '../store/index.ts';
import { validate } from '../validate.ts';
import { ID, instant } from './params.ts';
import { publicUser } from './auth.ts';
import { newUserBody } from './users.ts';

const createBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    admin: newUserBody.omit({ role: true }),
  })
  .strict();
const updateBody = z.object({ name: z.string().trim().min(1).max(100) }).strict();
const deletionBody = z.object({ at: instant }).strict();
const orgParam = z.object({ id: z.string().regex(ID, 'not an organisation id') });

export function orgRoutes(deps: Deps) {
  const view = (o: Org) => ({
    id: o.id,
    name: o.name,
    createdAt: o.createdAt,
    deletion: o.deletion ?? null,
    users: deps.store.usersOf(o.id).length,
    cameras: deps.store.camerasOf(o.id).length,
  });
  const own = (id: string) => {
    const org = deps.store.org(id);
    if (!org) throw notFound('organisation', id);
    return org;
  };

  return (
    new Hono<AppEnv>()
      .use(requireUser(deps))
      // Everyone: their own organisation, with its contract end if one is scheduled.
      .get('/current', (c) => {
        const org = own(c.get('user').orgId);
        return c.json({ org: { id: org.id, name: org.name, deletion: org.deletion ?? null } });
      })
      .use(requirePlatform)
      .get('/', (c) => c.json({ orgs: deps.store.orgs.map(view) }))
      .get('/deletion-reports', (c) => c.json({ reports: deps.store.deletionReports }))
      .post('/', validate('json', createBody), async (c) => {
        const { name, admin } = c.req.valid('json');
        const weak = checkPasswordPolicy(admin.password, { username: admin.username });
        if (weak) throw new ApiError(400, 'invalid_request', `invalid json: admin.password: ${weak}`);
        if (deps.store.userByName(admin.username)) throw new ApiError(409, 'username_taken', `the username "${admin.username}" is taken; choose another`);
        // Both or neither: an organisation never exists without its first administrator.
        const { org, admin: user } = await deps.store.addOrg(name, { username: admin.username, passwordHash: await hashPassword(admin.password) });
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'org.create', orgId: org.id, outcome: 'ok', detail: { orgId: org.id, name, adminId: user!.id } });
        return c.json({ org: view(org), admin: publicUser(user!) }, 201);
      })
      .patch('/:id', validate('param', orgParam), validate('json', updateBody), async (c) => {
        const { id } = c.req.valid('param');
        own(id);
        const org = (await deps.store.renameOrg(id, c.req.valid('json').name))!;
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'org.update', outcome: 'ok', detail: { orgId: id, name: org.name } });
        return c.json({ org: view(org) });
      })
      // Contract end: its users see a warning until `at`; then everything of it is deleted.
      .put('/:id/deletion', validate('param', orgParam), validate('json', deletionBody), async (c) => {
        const { id } = c.req.valid('param');
        own(id);
        if (id === c.get('user').orgId) throw new ApiError(409, 'own_organisation', 'you cannot end the contract of the organisation you operate the service from');
        const { at } = c.req.valid('json');
        if (at <= Date.now()) throw badRequest('the deletion date must be in the future (give the customer time to export what they keep)', 'deletion_in_past');
        const deletion = { at: new Date(at).toISOString(), requestedAt: new Date().toISOString(), requestedBy: c.get('user').id };
        const org = (await deps.store.setOrgDeletion(id, deletion))!;
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'org.deletion_scheduled', orgId: id, outcome: 'ok', detail: { orgId: id, at: deletion.at } });
        deps.log.warn({ event: 'org_deletion_scheduled', orgId: id, at: deletion.at }, 'contract end scheduled');
        return c.json({ org: view(org) });
      })
      .delete('/:id/deletion', validate('param', orgParam), async (c) => {
        const { id } = c.req.valid('param');
        own(id);
        const org = (await deps.store.setOrgDeletion(id, undefined))!;
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'org.deletion_cancelled', orgId: id, outcome: 'ok', detail: { orgId: id } });
        return c.json({ org: view(org) });
      })
  );
}
