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
import { CreatedOrg, CurrentOrg, DeletionReports, OrgAnswer, OrgList } from '../wire/answers/index.ts';
import { describe, reply, validate, type ErrorCode } from '../wire/index.ts';
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

const tag = 'Organisations';
/** What requireUser refuses beyond a missing or expired token; requirePlatform adds nothing new. */
const USER_ERRORS = ['session_revoked', 'forbidden', 'api_key_not_allowed'] as const satisfies readonly ErrorCode[];
const PLATFORM = 'an operator of this service (a platform administrator)';


const exampleOrg = { id: 'org_Hk3vQ9xPz2Lm', name: 'Sakura Logistics', createdAt: '2026-03-02T09:14:05.120Z', deletion: null, users: 12, cameras: 40 };
const exampleDeletion = { at: '2027-01-31T00:00:00.000Z', requestedAt: '2026-12-01T10:02:44.551Z', requestedBy: 'u_pX8nW2qLr5Tb' };

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
      .get('/current', describe({
        summary: 'Get your own organisation',
        description: 'With its contract end when one is scheduled: the web app shows a warning until then.',
        tag, auth: ['user'], access: 'any signed-in user',
        answer: { description: 'The caller\'s organisation', schema: CurrentOrg, example: { org: { id: exampleOrg.id, name: exampleOrg.name, deletion: exampleDeletion } } },
        errors: [...USER_ERRORS, 'organisation_not_found'],
      }), (c) => {
        const org = own(c.get('user').orgId);
        return reply(c, CurrentOrg, { org: { id: org.id, name: org.name, deletion: org.deletion ?? null } });
      })
      .use(requirePlatform)
      .get('/', describe({
        summary: 'List organisations',
        description: 'Every organisation of the service, with its number of users and cameras and its scheduled contract end.',
        tag, auth: ['user'], access: PLATFORM,
        answer: { description: 'Every organisation', schema: OrgList, example: { orgs: [exampleOrg, { ...exampleOrg, id: 'org_b7Rt0aQe4WcY', name: 'Minato Clinic', users: 3, cameras: 6, deletion: exampleDeletion }] } },
        errors: USER_ERRORS,
      }), (c) => reply(c, OrgList, { orgs: deps.store.orgs.map(view) }))
      .get('/deletion-reports', describe({
        summary: 'List contract-end deletion reports',
        description: 'What each completed contract end deleted, kept after the organisation itself is gone.',
        tag, auth: ['user'], access: PLATFORM,
        answer: {
          description: 'Every deletion report',
          schema: DeletionReports,
          example: { reports: [{ orgId: 'org_b7Rt0aQe4WcY', orgName: 'Minato Clinic', scheduledFor: '2026-11-30T00:00:00.000Z', completedAt: '2026-11-30T00:00:12.402Z', users: 3, cameras: 6, objects: 48210, bytes: 905338112000, errors: [] }] },
        },
        errors: USER_ERRORS,
      }), (c) => reply(c, DeletionReports, { reports: [...deps.store.deletionReports] }))
      .post('/', describe({
        summary: 'Create an organisation with its first administrator',
        description: 'Both are created together or not at all. The administrator\'s password must meet the password policy (and not be the username). Audited as `org.create`.',
        tag, auth: ['user'], access: PLATFORM,
        answer: {
          status: 201,
          description: 'The organisation and its administrator',
          schema: CreatedOrg,
          example: { org: { ...exampleOrg, users: 1, cameras: 0, createdAt: '2026-12-06T20:15:00.000Z' }, admin: { id: 'u_Qm4sZt8vK1Xe', username: 'admin@sakura', role: 'admin', orgId: exampleOrg.id } },
        },
        errors: [...USER_ERRORS, 'username_taken', 'bad_request', 'database_unavailable'],
        example: { name: 'Sakura Logistics', admin: { username: 'admin@sakura', password: 'correct-horse-battery-staple' } },
      }), validate('json', createBody), async (c) => {
        const { name, admin } = c.req.valid('json');
        const weak = checkPasswordPolicy(admin.password, { username: admin.username });
        if (weak) throw new ApiError(400, 'invalid_request', `invalid json: admin.password: ${weak}`);
        if (deps.store.userByName(admin.username)) throw new ApiError(409, 'username_taken', `the username "${admin.username}" is taken; choose another`);
        // Both or neither: an organisation never exists without its first administrator.
        const { org, admin: user } = await deps.store.addOrg(name, { username: admin.username, passwordHash: await hashPassword(admin.password) });
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'org.create', orgId: org.id, outcome: 'ok', detail: { orgId: org.id, name, adminId: user!.id } });
        return reply(c, CreatedOrg, { org: view(org), admin: publicUser(user!) }, 201);
      })
      .patch('/:id', describe({
        summary: 'Rename an organisation',
        description: 'Audited as `org.update`.',
        tag, auth: ['user'], access: PLATFORM,
        answer: { description: 'The renamed organisation', schema: OrgAnswer, example: { org: { ...exampleOrg, name: 'Sakura Logistics East' } } },
        errors: [...USER_ERRORS, 'organisation_not_found', 'bad_request', 'database_unavailable'],
        example: { name: 'Sakura Logistics East' },
      }), validate('param', orgParam), validate('json', updateBody), async (c) => {
        const { id } = c.req.valid('param');
        own(id);
        const org = await deps.store.renameOrg(id, c.req.valid('json').name);
        if (!org) throw notFound('organisation', id); // deleted meanwhile
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'org.update', outcome: 'ok', detail: { orgId: id, name: org.name } });
        return reply(c, OrgAnswer, { org: view(org) });
      })
      // Contract end: its users see a warning until `at`; then everything of it is deleted.
      .put('/:id/deletion', describe({
        summary: 'Schedule an organisation\'s contract end',
        description:
          'Its users (and kiosk displays) see a contract-end notice until `at`; then every recording, index, export, camera, account and setting of it is deleted and a deletion report kept. ' +
          'Scheduling again moves the date. `at` is ms since the epoch or ISO 8601 with a zone, and must be in the future. Audited as `org.deletion_scheduled`.',
        tag, auth: ['user'], access: `${PLATFORM}, for an organisation other than their own`,
        answer: { description: 'The organisation with its scheduled deletion', schema: OrgAnswer, example: { org: { ...exampleOrg, deletion: exampleDeletion } } },
        errors: [...USER_ERRORS, 'organisation_not_found', 'own_organisation', 'deletion_in_past', 'bad_request', 'database_unavailable'],
        example: { at: '2027-01-31T00:00:00Z' },
      }), validate('param', orgParam), validate('json', deletionBody), async (c) => {
        const { id } = c.req.valid('param');
        own(id);
        if (id === c.get('user').orgId) throw new ApiError(409, 'own_organisation', 'you cannot end the contract of the organisation you operate the service from');
        const { at } = c.req.valid('json');
        if (at <= Date.now()) throw badRequest('the deletion date must be in the future (give the customer time to export what they keep)', 'deletion_in_past');
        const deletion = { at: new Date(at).toISOString(), requestedAt: new Date().toISOString(), requestedBy: c.get('user').id };
        const org = await deps.store.setOrgDeletion(id, deletion);
        if (!org) throw notFound('organisation', id); // deleted meanwhile
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'org.deletion_scheduled', orgId: id, outcome: 'ok', detail: { orgId: id, at: deletion.at } });
        deps.log.warn({ event: 'org_deletion_scheduled', orgId: id, at: deletion.at }, 'contract end scheduled');
        deps.webhooks.contractEndScheduled(org);
        return reply(c, OrgAnswer, { org: view(org) });
      })
      .delete('/:id/deletion', describe({
        summary: 'Cancel an organisation\'s contract end',
        description: 'Nothing is deleted; cancelling when none is scheduled changes nothing. Audited as `org.deletion_cancelled`.',
        tag, auth: ['user'], access: PLATFORM,
        answer: { description: 'The organisation, without a deletion', schema: OrgAnswer, example: { org: exampleOrg } },
        errors: [...USER_ERRORS, 'organisation_not_found', 'database_unavailable'],
      }), validate('param', orgParam), async (c) => {
        const { id } = c.req.valid('param');
        own(id);
        const org = await deps.store.setOrgDeletion(id, undefined);
        if (!org) throw notFound('organisation', id); // deleted meanwhile
        audit(deps, c, { actor: `u:${c.get('user').id}`, action: 'org.deletion_cancelled', orgId: id, outcome: 'ok', detail: { orgId: id } });
        return reply(c, OrgAnswer, { org: view(org) });
      })
  );
}
