// The store interface, one suite run against both implementations: the files in a data folder and
// a real PostgreSQL (TestPostgres). Every operation, what survives a reopen, and the rules that
// must hold when two nodes race (PostgreSQL: two stores on one database, as two nodes would be;
// files: concurrent calls in the one process that owns the folder). Then what only PostgreSQL
// has: migrations under concurrency and from a newer release, the change feed between nodes,
// a reload after missed changes, and the shared audit chain.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../signaling/log.ts';
import { FileStore, MIGRATIONS, PostgresStore, StoreError, emptySnapshot, migrate, ROW_KEY, TABLES, withoutDangling, type Change, type Snapshot, type Store } from '../signaling/store/index.ts';
import type { WrappedKey } from '../recorder/seal/index.ts';
import { TestPostgres } from './postgres.ts';

const log = createLogger('silent');
const LOCKOUT = { failures: 10, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };
const wrapped = (keyId: string): WrappedKey => ({ keyId, masterKeyId: 'mk_test', wrapped: 'd3JhcHBlZA' });

/** Two handles on one store: two nodes on one database, or the same files store twice. */
interface Kind {
  name: string;
  open(): Promise<{ a: Store; b: Store; reopen(): Promise<Store>; close(): Promise<void> }>;
}

let server: TestPostgres;
let databases = 0;

const kinds: Kind[] = [
  {
    name: 'files',
    async open() {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-store-'));
      const a = await FileStore.openWithAudit({ dataDir: dir, log, auditRetentionDays: 400 });
      const opened: Store[] = [a];
      return {
        a,
        b: a,
        reopen: async () => {
          const again = await FileStore.open(dir);
          opened.push(again);
          return again;
        },
        close: async () => {
          for (const s of opened) await s.close();
          await fs.rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const url = await server.createDatabase(`store_${++databases}`);
      const open = () => PostgresStore.open({ url, log, nodeId: `node-${databases}`, auditRetentionDays: 400 });
      const [a, b] = await Promise.all([open(), open()]);
      const opened: Store[] = [a, b];
      return {
        a,
        b,
        reopen: async () => {
          const again = await open();
          opened.push(again);
          return again;
        },
        close: async () => {
          for (const s of opened) await s.close();
        },
      };
    },
  },
];

/** Rows that both stores must hold identically; sessions and failures carry times read back exactly. */
function comparable(s: Snapshot): Snapshot {
  const sorted = { ...s };
  for (const t of TABLES) {
    const key = ROW_KEY[t] as (row: unknown) => string;
    (sorted[t] as unknown[]) = [...(s[t] as unknown[])].sort((x, y) => key(x).localeCompare(key(y)));
  }
  return sorted;
}

type Ids = Record<'orgId' | 'adminId' | 'opId' | 'camId' | 'cam2Id' | 'groupId' | 'floorId' | 'shareId' | 'kioskId' | 'jobId' | 'layoutId' | 'orgLayoutId', string>;

async function populate(s: Store): Promise<Ids> {
  const { org, admin } = await s.addOrg('Konoike Construction', { username: 'konoike-admin', passwordHash: 'scrypt$x' });
  const op = await s.addUser({ orgId: org.id, username: 'op1', passwordHash: 'scrypt$y', role: 'operator' });
  const cam = await s.addCamera(org.id, 'Gate 東', 'hash1');
  const cam2 = await s.addCamera(org.id, 'Yard', 'hash2');
  await s.updateCamera(cam.id, { recording: { enabled: false, retentionDays: 90 } });
  await s.setCameraSecret(cam2.id, 'hash2b', new Date('2030-01-01T00:00:00.000Z'));
  const group = await s.addGroup({ orgId: org.id, name: 'Site A', cameraIds: [cam.id, cam2.id] });
  const floor = await s.addGroup({ orgId: org.id, name: 'Site A 2F', cameraIds: [cam2.id], parentId: group.id });
  await s.setGrant({ orgId: org.id, userId: op.id, cameraId: cam.id, rights: ['live', 'playback'], createdBy: admin!.id });
  await s.setGrant({ orgId: org.id, userId: op.id, groupId: group.id, rights: ['export'], createdBy: admin!.id });
  await s.addAnnouncement({ orgId: null, kind: 'maintenance', message: 'メンテナンス', startsAt: '2030-01-01T00:00:00.000Z', endsAt: '2030-01-01T01:00:00.000Z', createdBy: admin!.id });
  await s.addWrappedKey(cam.id, wrapped('dk_1'));
  await s.addHold({ cameraId: cam.id, fromMs: 1_700_000_000_000, toMs: 1_700_000_600_000, reason: 'incident 42', createdBy: admin!.id });
  const share = await s.addShare({ cameraId: cam.id, kind: 'clip', fromMs: 1_700_000_000_000, toMs: 1_700_000_060_000, expiresAt: '2030-01-01T00:00:00.000Z', passwordHash: 'scrypt$z', createdBy: op.id });
  await s.sharePasswordFailed(share.id, Date.now(), 60_000);
  const kiosk = await s.addKiosk({ orgId: org.id, name: 'Lobby', cameraIds: [cam.id, cam2.id], layout: 4, rotateSeconds: 30, tokenHash: 'kh', createdBy: admin!.id });
  await s.rotateKioskToken(kiosk.id, 'kh2');
  const job = await s.addExport({ cameraId: cam.id, fromMs: 1, toMs: 2, name: 'clip.mp4', createdBy: `u:${op.id}` });
  await s.updateExport(job.id, { status: 'done', progress: 1, bytes: 1234, gaps: [{ fromMs: 1, toMs: 2, reason: 'camera-offline' }], finishedAt: new Date().toISOString() });
  await s.setPreferences(op.id, { layout: 9 });
  const layout = await s.addLayout({ orgId: org.id, userId: op.id, name: '正門まわり', size: 3, cameraIds: [cam.id, null, cam2.id], createdBy: op.id });
  const orgLayout = await s.addLayout({ orgId: org.id, name: 'Whole site', size: 2, cameraIds: [cam2.id, cam.id], createdBy: admin!.id });
  await s.addSession({ id: 'sid_aaaaaaaaaaaaaaaa', userId: op.id, createdAtMs: Date.now() - 1000, lastUsedAtMs: Date.now(), currentHash: 'h0', usedHashes: [], userAgent: 'test' });
  await s.recordLoginFailure('op1', Date.now(), LOCKOUT);
  await s.beginTotp(op.id, 'sealed-secret');
  await s.setOrgDeletion(org.id, { at: '2031-01-01T00:00:00.000Z', requestedAt: new Date().toISOString(), requestedBy: admin!.id });
  return { orgId: org.id, adminId: admin!.id, opId: op.id, camId: cam.id, cam2Id: cam2.id, groupId: group.id, floorId: floor.id, shareId: share.id, kioskId: kiosk.id, jobId: job.id, layoutId: layout.id, orgLayoutId: orgLayout.id };
}

for (const kind of kinds) {
  const t = suite(`store (${kind.name})`);
  t.before(async () => {
    if (kind.name === 'postgres') server ??= await TestPostgres.start();
  });

  t('every operation: rows as written, the same after a reopen (or on another node)', async () => {
    const { a, b, reopen, close } = await kind.open();
    try {
      const ids = await populate(a);
      assert.is(a.org(ids.orgId)?.deletion?.at, '2031-01-01T00:00:00.000Z');
      assert.equal(a.camera(ids.camId)?.recording, { enabled: false, retentionDays: 90 });
      assert.equal(a.camera(ids.cam2Id)?.previousSecret, { hash: 'hash2', until: '2030-01-01T00:00:00.000Z' });
      assert.equal([...a.rightsOn(a.userById(ids.opId)!, ids.cam2Id)], ['export'], 'a group grant covers its cameras');
      assert.equal([...a.rightsOn(a.userById(ids.opId)!, ids.camId)].sort(), ['export', 'live', 'playback']);
      assert.is(a.kiosk(ids.kioskId)?.generation, 2);
      assert.is(a.kioskByTokenHash('kh2')?.id, ids.kioskId);
      assert.is(a.kioskByTokenHash('kh'), undefined, 'the old token hash finds nothing');
      assert.is(a.share(ids.shareId)?.passwordFailures?.length, 1);
      assert.is(a.userByName('op1')?.id, ids.opId);
      assert.equal(a.preferences(ids.opId), { layout: 9 });
      assert.is(a.group(ids.floorId)?.parentId, ids.groupId);
      assert.is(a.group(ids.groupId)?.parentId, undefined, 'a top group has no parentId (absent, not undefined)');
      assert.not.ok('parentId' in a.group(ids.groupId)!);
      assert.equal(a.layout(ids.layoutId)?.cameraIds, [ids.camId, null, ids.cam2Id], 'empty slots are kept as null');
      assert.is(a.layout(ids.layoutId)?.userId, ids.opId);
      assert.not.ok('userId' in a.layout(ids.orgLayoutId)!, "an organisation's layout has no userId");
      await b.sync();
      assert.equal(comparable(b.snapshot()), comparable(a.snapshot()), 'the other node holds the same rows');
      const again = await reopen();
      assert.equal(comparable(again.snapshot()), comparable(a.snapshot()), 'a reopened store holds the same rows');
    } finally {
      await close();
    }
  });

  t('removals cascade: a camera leaves groups, kiosks, grants, holds, shares, exports and its key; an organisation takes everything with it', async () => {
    const { a, b, close } = await kind.open();
    try {
      const ids = await populate(a);
      assert.ok(await a.deleteCamera(ids.camId));
      await b.sync();
      for (const s of [a, b]) {
        assert.equal(s.group(ids.groupId)?.cameraIds, [ids.cam2Id]);
        assert.equal(s.kiosk(ids.kioskId)?.cameraIds, [ids.cam2Id]);
        assert.equal(s.layout(ids.layoutId)?.cameraIds, [null, null, ids.cam2Id], "the camera's slot is left empty, the others stay in place");
        assert.equal(s.layout(ids.orgLayoutId)?.cameraIds, [ids.cam2Id, null]);
        assert.is(s.grantsOf(ids.opId).filter((g) => g.cameraId === ids.camId).length, 0);
        assert.is(s.holdsOf(ids.camId).length, 0);
        assert.is(s.share(ids.shareId), undefined);
        assert.is(s.exportJob(ids.jobId), undefined);
        assert.is(s.wrappedKey(ids.camId), undefined);
      }
      await a.removeOrg(ids.orgId, { orgId: ids.orgId, orgName: 'Konoike Construction', scheduledFor: '2031-01-01T00:00:00.000Z', completedAt: new Date().toISOString(), users: 2, cameras: 2, objects: 0, bytes: 0, errors: [] });
      await b.sync();
      for (const s of [a, b]) {
        assert.is(s.org(ids.orgId), undefined);
        assert.is(s.usersOf(ids.orgId).length + s.camerasOf(ids.orgId).length + s.groupsOf(ids.orgId).length + s.grantsIn(ids.orgId).length, 0);
        assert.is(s.kiosk(ids.kioskId), undefined);
        assert.is(s.layoutsOf(ids.orgId).length, 0, 'layouts go with the organisation');
        assert.is(s.deletionReports.length, 1);
        assert.is(s.preferences(ids.opId).layout, undefined);
      }
    } finally {
      await close();
    }
  });

  t('atomic rules under concurrent calls from two nodes', async () => {
    const { a, b, close } = await kind.open();
    try {
      const ids = await populate(a);
      await b.sync();
      const both = <T>(n: number, call: (s: Store, i: number) => Promise<T>) => Promise.allSettled(Array.from({ length: n }, (_, i) => call(i % 2 === 0 ? a : b, i)));
      const fulfilled = <T>(r: PromiseSettledResult<T>[]) => r.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
      const rejected = <T>(r: PromiseSettledResult<T>[]) => r.flatMap((x) => (x.status === 'rejected' ? [x.reason as unknown] : []));

      // One refresh token, presented on both nodes at once: exactly one rotation wins.
      const rotations = await both(10, (s, i) => s.rotateSession('sid_aaaaaaaaaaaaaaaa', 'h0', `h1-${i}`, Date.now(), 32));
      assert.is(fulfilled(rotations).filter(Boolean).length, 1, 'one rotation of the same token wins');
      await Promise.all([a.sync(), b.sync()]);
      assert.ok(a.session('sid_aaaaaaaaaaaaaaaa')!.usedHashes.includes('h0'), 'the used hash is remembered for reuse detection');

      // Failed sign-ins spread over both nodes: none is lost, the tenth locks.
      await a.clearLoginFailures('op1', Date.now());
      const failures = await both(10, (s) => s.recordLoginFailure('op1', Date.now(), LOCKOUT));
      assert.is(fulfilled(failures).filter((f) => f.lockedUntilMs !== undefined).length, 1, 'exactly one failure locks the name');
      await Promise.all([a.sync(), b.sync()]);
      assert.ok((b.loginFailures('op1')?.lockedUntilMs ?? 0) > Date.now(), 'locked on the other node too');

      // Two administrators demoted at once, one on each node: one stays administrator.
      const second = await a.addUser({ orgId: ids.orgId, username: 'second-admin', passwordHash: 'x', role: 'admin' });
      await b.sync();
      const demotions = await Promise.allSettled([a.setUserRole(ids.adminId, 'viewer'), b.setUserRole(second.id, 'viewer')]);
      assert.is(fulfilled(demotions).length, 1, 'one demotion succeeds');
      assert.ok(rejected(demotions).every((e) => e instanceof StoreError && e.code === 'last_admin'), 'the other is refused as last_admin');
      await Promise.all([a.sync(), b.sync()]);
      assert.is(a.usersOf(ids.orgId).filter((u) => u.role === 'admin').length, 1);
      const lastOne = a.usersOf(ids.orgId).find((u) => u.role === 'admin')!;
      await a.deleteUser(lastOne.id).then(
        () => assert.unreachable('the last administrator was deleted'),
        (e: unknown) => assert.ok(e instanceof StoreError && e.code === 'last_admin'),
      );

      // The same username on both nodes at once: one account.
      const names = await both(6, (s) => s.addUser({ orgId: ids.orgId, username: 'same-name', passwordHash: 'x', role: 'viewer' }));
      assert.is(fulfilled(names).length, 1, 'one account gets the name');
      assert.ok(rejected(names).every((e) => e instanceof StoreError && e.code === 'username_taken'));

      // Uses of a share link from both nodes: every one counted.
      await both(20, (s) => s.shareOpened(ids.shareId));
      await Promise.all([a.sync(), b.sync()]);
      assert.is(b.share(ids.shareId)?.uses, 20);
      assert.is(b.share(ids.shareId)?.passwordFailures, undefined, 'opening forgets wrong passwords');
      const wrong = await both(6, (s) => s.sharePasswordFailed(ids.shareId, Date.now(), 60_000));
      assert.equal(fulfilled(wrong).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6], 'wrong passwords counted once each');

      // An export job taken by two nodes at once: one runs it.
      const job = await a.addExport({ cameraId: ids.camId, fromMs: 1, toMs: 2, name: 'x.mp4', createdBy: 'u:x' });
      await b.sync();
      const claims = await Promise.all([a.claimExport(job.id, 'node-a'), b.claimExport(job.id, 'node-b')]);
      assert.is(claims.filter(Boolean).length, 1, 'one node takes the job');

      // A camera's first data key, made on both nodes at once: both get the one that was stored.
      const keys = await Promise.all([a.addWrappedKey(ids.cam2Id, wrapped('dk_a')), b.addWrappedKey(ids.cam2Id, wrapped('dk_b'))]);
      assert.is(keys[0].keyId, keys[1].keyId, 'one data key per camera');

      // A TOTP code sent to both nodes at once is accepted once.
      const steps = await Promise.all([a.useTotpStep(ids.opId, 1000, true), b.useTotpStep(ids.opId, 1000, true)]);
      assert.is(steps.filter(Boolean).length, 1);
      assert.is(await a.useTotpStep(ids.opId, 999, false), false, 'an earlier step is refused after a later one');

      // Two nodes starting at once on an empty store: one first administrator.
      const firsts = await Promise.all([a.ensurePlatformAdmin('root', 'x'), b.ensurePlatformAdmin('root', 'x')]);
      assert.is(firsts.filter((r) => r.created).length, 1);
      assert.is(firsts[0].user.id, firsts[1].user.id);
    } finally {
      await close();
    }
  });

  t('groups nest: moves are checked (organisation, cycles, depth) atomically; a deleted group\'s children move up', async () => {
    const { a, b, close } = await kind.open();
    try {
      const ids = await populate(a);
      const other = (await a.addOrg('Other Co')).org;
      const foreign = await a.addGroup({ orgId: other.id, name: 'Foreign', cameraIds: [] });
      const refused = async (run: () => Promise<unknown>, code: string, what: string) => {
        await run().then(
          () => assert.unreachable(`${what}: accepted`),
          (e: unknown) => assert.ok(e instanceof StoreError && e.code === code, `${what}: ${String(e)}`),
        );
      };
      await refused(() => a.addGroup({ orgId: ids.orgId, name: 'x', cameraIds: [], parentId: foreign.id }), 'group_not_found', 'a parent of another organisation');
      await refused(() => a.addGroup({ orgId: ids.orgId, name: 'x', cameraIds: [], parentId: 'grp_nothing' }), 'group_not_found', 'a parent that does not exist');
      await refused(() => a.updateGroup(ids.groupId, { parentId: ids.groupId }), 'group_cycle', 'a group under itself');
      await refused(() => b.sync().then(() => b.updateGroup(ids.groupId, { parentId: ids.floorId })), 'group_cycle', 'a group under its own child');

      // A chain of 8 levels is the most: Site A (1) → 2F (2) → … → level 8.
      let parent = ids.floorId;
      const chain: string[] = [];
      for (let level = 3; level <= 8; level++) chain.push((parent = (await a.addGroup({ orgId: ids.orgId, name: `level ${level}`, cameraIds: [], parentId: parent })).id));
      await refused(() => a.addGroup({ orgId: ids.orgId, name: 'level 9', cameraIds: [], parentId: parent }), 'group_too_deep', 'a ninth level');
      // A group with a subtree of its own counts with it: a two-level branch under level 7 makes 9.
      const branch = await a.addGroup({ orgId: ids.orgId, name: 'branch', cameraIds: [] });
      await a.addGroup({ orgId: ids.orgId, name: 'leaf', cameraIds: [], parentId: branch.id });
      await refused(() => a.updateGroup(branch.id, { parentId: chain[4]! }), 'group_too_deep', 'a subtree moved too deep');
      assert.is((await a.updateGroup(branch.id, { parentId: chain[3]! }))?.parentId, chain[3], 'the same branch fits one level higher');
      assert.is((await a.updateGroup(branch.id, { parentId: null }))?.parentId, undefined, 'null moves it to the top');
      assert.not.ok('parentId' in a.group(branch.id)!);
      assert.is((await a.updateGroup(branch.id, { name: 'renamed' }))?.name, 'renamed');

      // Two moves at once that would together make a loop (A under B, B under A): one is refused.
      const x = await a.addGroup({ orgId: ids.orgId, name: 'X', cameraIds: [] });
      const y = await a.addGroup({ orgId: ids.orgId, name: 'Y', cameraIds: [] });
      await b.sync();
      const moves = await Promise.allSettled([a.updateGroup(x.id, { parentId: y.id }), b.updateGroup(y.id, { parentId: x.id })]);
      assert.is(moves.filter((m) => m.status === 'fulfilled').length, 1, 'one of two crossing moves succeeds');
      assert.ok(moves.some((m) => m.status === 'rejected' && m.reason instanceof StoreError && m.reason.code === 'group_cycle'), 'the other is refused as a cycle');

      // Deleting 2F: its child (level 3) moves up under Site A; deleting Site A: 3 goes to the top.
      const grant = await a.setGrant({ orgId: ids.orgId, userId: ids.opId, groupId: ids.floorId, rights: ['live'], createdBy: ids.adminId });
      assert.ok(await a.deleteGroup(ids.floorId));
      await b.sync();
      for (const s of [a, b]) {
        assert.is(s.group(chain[0]!)?.parentId, ids.groupId, 'the child of a deleted group moves to its parent');
        assert.is(s.grant(grant!.id), undefined, 'grants on the deleted group go');
        assert.is(s.groupsOf(ids.orgId).filter((g) => g.parentId === ids.floorId).length, 0, 'nothing points at the deleted group');
      }
      assert.ok(await b.deleteGroup(ids.groupId));
      await a.sync();
      for (const s of [a, b]) {
        assert.is(s.group(chain[0]!)?.parentId, undefined, 'the child of a deleted top group moves to the top');
        assert.is(s.group(chain[1]!)?.parentId, chain[0], 'grandchildren stay under their parent');
      }
    } finally {
      await close();
    }
  });

  t('saved layouts: changes, limits per user and per organisation (atomic), removal with their user', async () => {
    const { a, b, close } = await kind.open();
    try {
      const ids = await populate(a);
      await b.sync();
      assert.equal(b.layout(ids.layoutId)?.name, '正門まわり', 'the other node sees it');
      const before = a.layout(ids.layoutId)!;
      await sleep(5);
      const changed = await b.updateLayout(ids.layoutId, { name: 'Gate', cameraIds: [null, ids.camId, null, ids.cam2Id] });
      assert.equal(changed?.cameraIds, [null, ids.camId, null, ids.cam2Id]);
      assert.ok(changed!.updatedAt > before.updatedAt, 'updatedAt moves');
      assert.is(changed!.createdAt, before.createdAt);
      await a.sync();
      assert.equal(a.layout(ids.layoutId), changed, 'the change reaches the other node whole');
      assert.equal((await a.updateLayout(ids.layoutId, { size: 1 }))?.cameraIds, [null], 'a smaller grid keeps its first slots');
      assert.is(await a.updateLayout('lay_nothing', { name: 'x' }), undefined);

      // 50 of a user's own: the 51st is refused, even when both nodes add at once.
      const own = a.layoutsOf(ids.orgId).filter((l) => l.userId === ids.opId).length;
      const adds = await Promise.allSettled(
        Array.from({ length: 50 - own + 4 }, (_, i) => (i % 2 ? a : b).addLayout({ orgId: ids.orgId, userId: ids.opId, name: `mine ${i}`, size: 2, cameraIds: [], createdBy: ids.opId })),
      );
      assert.is(adds.filter((r) => r.status === 'fulfilled').length, 50 - own, 'exactly up to 50 of their own');
      assert.ok(adds.every((r) => r.status === 'fulfilled' || (r.reason instanceof StoreError && r.reason.code === 'layout_limit' && r.reason.status === 409)), 'the rest: layout_limit (409)');
      await Promise.all([a.sync(), b.sync()]);
      assert.is(b.layoutsOf(ids.orgId).filter((l) => l.userId === ids.opId).length, 50);
      // The organisation's shared layouts are counted apart, up to 200.
      const shared = a.layoutsOf(ids.orgId).filter((l) => l.userId === undefined).length;
      for (let i = shared; i < 200; i++) await a.addLayout({ orgId: ids.orgId, name: `shared ${i}`, size: 1, cameraIds: [], createdBy: ids.adminId });
      await a.addLayout({ orgId: ids.orgId, name: 'one too many', size: 1, cameraIds: [], createdBy: ids.adminId }).then(
        () => assert.unreachable('a 201st shared layout was accepted'),
        (e: unknown) => assert.ok(e instanceof StoreError && e.code === 'layout_limit', String(e)),
      );

      assert.ok(await b.deleteLayout(ids.orgLayoutId));
      assert.not.ok(await b.deleteLayout(ids.orgLayoutId), 'deleted once');
      await a.sync();
      assert.is(a.layout(ids.orgLayoutId), undefined);
      // A user's own layouts go with them; the organisation's stay.
      assert.ok(await a.deleteUser(ids.opId));
      await b.sync();
      for (const s of [a, b]) {
        assert.is(s.layoutsOf(ids.orgId).filter((l) => l.userId === ids.opId).length, 0);
        assert.is(s.layoutsOf(ids.orgId).length, 199);
      }
    } finally {
      await close();
    }
  });

  t('sessions: revoking one, every one of a user, pruning ended ones', async () => {
    const { a, close } = await kind.open();
    try {
      const now = Date.now();
      const family = (id: string, userId: string, extra: object = {}) => ({ id, userId, createdAtMs: now, lastUsedAtMs: now, currentHash: `h-${id}`, usedHashes: [], ...extra });
      await a.addSession(family('s1', 'u1'));
      await a.addSession(family('s2', 'u1'));
      await a.addSession(family('s3', 'u1'));
      await a.addSession(family('old', 'u2', { revokedAtMs: now - 3 * 86_400_000, revokedReason: 'logout' }));
      assert.ok(await a.revokeSession('s1', 'logout', now));
      assert.not.ok(await a.revokeSession('s1', 'logout', now), 'revoked once');
      assert.equal((await a.revokeSessionsOf('u1', 'logout_all', now, 's3')).sort(), ['s2']);
      assert.is(a.session('s3')?.revokedAtMs, undefined, 'the kept session stands');
      await a.pruneAccounts(now, (f) => f.lastUsedAtMs + 86_400_000, 86_400_000, 60_000);
      assert.is(a.session('old'), undefined, 'ended more than a day ago: pruned');
      assert.ok(a.session('s1'), 'revoked just now: kept a day for the clear answer');

      // A spray of names: beyond the cap, the least recent unlocked ones are forgotten, never a lockout.
      for (let i = 0; i < 5; i++) await a.recordLoginFailure(`spray-${i}`, now + i, i === 0 ? { ...LOCKOUT, failures: 1 } : LOCKOUT);
      await a.pruneAccounts(now + 10, (f) => f.lastUsedAtMs + 86_400_000, 86_400_000, 60_000, 3);
      assert.equal(['spray-0', 'spray-1', 'spray-2', 'spray-3', 'spray-4'].filter((n) => a.loginFailures(n)), ['spray-0', 'spray-3', 'spray-4'], 'the locked name stays, the two least recent others go');
    } finally {
      await close();
    }
  });

  t('load: fills an empty store, refuses one that holds data', async () => {
    const source = await kind.open();
    const target = await kind.open();
    try {
      await populate(source.a);
      const snapshot = source.a.snapshot();
      await target.a.load(snapshot);
      assert.equal(comparable(target.a.snapshot()), comparable(snapshot));
      await target.a.load(snapshot).then(
        () => assert.unreachable('loaded into a store that holds data'),
        (e: unknown) => assert.ok(e instanceof StoreError && e.code === 'store_not_empty', String(e)),
      );
    } finally {
      await source.close();
      await target.close();
    }
  });

  t.after(async () => {
    if (kind.name === 'postgres') await server?.close();
  });
  t.run();
}

// --- PostgreSQL only -------------------------------------------------------------------------

const only = suite('store (postgres only)');
let pgServer: TestPostgres;
only.before(async () => {
  pgServer = await TestPostgres.start();
});
only.after(async () => {
  await pgServer?.close();
});

only('migrations: two nodes at once apply them once; a schema from a newer release is refused', async () => {
  const url = await pgServer.createDatabase('migrate');
  const pools = [new pg.Pool({ connectionString: url }), new pg.Pool({ connectionString: url })];
  try {
    const applied = await Promise.all(pools.map((p) => migrate(p)));
    assert.equal(applied.flat().sort(), MIGRATIONS.map((m) => m.version), 'every migration applied, each by exactly one of them');
    assert.equal(await migrate(pools[0]!), [], 'nothing left to apply');
    await pools[0]!.query("INSERT INTO schema_migrations (version, name, oldest_compatible) VALUES (999, 'from the future', 999)");
    await migrate(pools[1]!).then(
      () => assert.unreachable('a newer schema was accepted'),
      (e: unknown) => assert.ok(e instanceof StoreError && e.code === 'schema_mismatch' && /version 999/.test(e.message), String(e)),
    );
  } finally {
    for (const p of pools) await p.end();
  }
});

only('rolling upgrades: a release runs on a schema a newer one made only if it can; a migration live nodes cannot follow is refused', async () => {
  const url = await pgServer.createDatabase('versions');
  const pool = new pg.Pool({ connectionString: url });
  // A heartbeat as a node of that release writes it (before schema 4: without a schema version).
  const beat = (id: string, schema?: number) =>
    schema === undefined
      ? pool.query(`INSERT INTO nodes (id, internal_url, release, started_at, seen_at, state, load) VALUES ($1, 'http://127.0.0.1:1', 'x', now(), now(), 'up', '{}')`, [id])
      : pool.query(`INSERT INTO nodes (id, internal_url, release, started_at, seen_at, state, load, schema_version) VALUES ($1, 'http://127.0.0.1:1', 'x', now(), now(), 'up', '{}', $2)`, [id, schema]);
  const refused = async (p: Promise<unknown>, pattern: RegExp) =>
    p.then(
      () => assert.unreachable(`accepted, expected ${pattern}`),
      (e: unknown) => assert.ok(e instanceof StoreError && e.code === 'schema_mismatch' && pattern.test(e.message), String(e)),
    );
  try {
    // The release before (schema 3) made the database; this one adds 4 while it runs: 4 allows it.
    assert.equal(await migrate(pool, MIGRATIONS.slice(0, 3)), [1, 2, 3]);
    await beat('old');
    // This release as of schema 4 (later migrations are beside the point here).
    const release4 = MIGRATIONS.slice(0, 4);
    assert.equal(await migrate(pool, release4), [4], 'a migration the running older node can live with');
    assert.equal(await migrate(pool, MIGRATIONS.slice(0, 3)), [], 'the older release still starts on it');
    // A later migration that renames what older nodes use: refused while one of them runs…
    const breaking = { version: 5, name: 'rename a column', oldestCompatible: 5, sql: 'ALTER TABLE nodes RENAME COLUMN load TO carries' };
    await beat('current', 4);
    await refused(migrate(pool, [...release4, breaking]), /migration 5 \("rename a column"\) needs every node to know schema version 5, and current \(release x, schema 4\), old \(release x, schema 3 or older\) are running.*nothing was changed/);
    assert.equal((await pool.query('SELECT max(version)::int AS v FROM schema_migrations')).rows[0].v, 4, 'nothing applied');
    // …applied once they are gone (silent for longer than a heartbeat could be)…
    await pool.query("UPDATE nodes SET seen_at = now() - interval '1 minute'");
    assert.equal(await migrate(pool, [...release4, breaking]), [5]);
    // …and then a node of a release that does not know it is refused at start, saying why.
    await refused(migrate(pool, release4), /schema is at version 5; migration 5 \("rename a column"\) needs nodes that know at least version 5, and this release knows 4: run a newer release/);
  } finally {
    await pool.end();
  }
});

only('change feed: a change on one node is in the other within a second, with its change event', async () => {
  const url = await pgServer.createDatabase('feed');
  const a = await PostgresStore.open({ url, log, nodeId: 'a', auditRetentionDays: 400 });
  const b = await PostgresStore.open({ url, log, nodeId: 'b', auditRetentionDays: 400 });
  try {
    const { org } = await a.addOrg('Feed KK');
    const seen: Change[] = [];
    b.on('change', (c) => seen.push(c));
    const started = performance.now();
    const cam = await a.addCamera(org.id, 'Dock', 'h');
    while (!b.camera(cam.id) && performance.now() - started < 1000) await sleep(5);
    const ms = performance.now() - started;
    assert.ok(b.camera(cam.id), `the camera reached the other node (${ms.toFixed(0)} ms)`);
    assert.ok(seen.some((c) => c.table === 'cameras' && c.key === cam.id && c.after?.name === 'Dock'), 'with a change event');
  } finally {
    await a.close();
    await b.close();
  }
});

only('a node that missed changes (pruned meanwhile) reloads everything and hears of each difference', async () => {
  const url = await pgServer.createDatabase('gap');
  const a = await PostgresStore.open({ url, log, nodeId: 'a', auditRetentionDays: 400, pollMs: 60_000 });
  const admin = new pg.Pool({ connectionString: url });
  try {
    const { org } = await a.addOrg('Gap KK');
    const cam = await a.addCamera(org.id, 'Gone', 'h');
    const b = await PostgresStore.open({ url, log, nodeId: 'b', auditRetentionDays: 400, pollMs: 60_000, readOnly: true });
    try {
      const seen: Change[] = [];
      b.on('change', (c) => seen.push(c));
      await a.deleteCamera(cam.id);
      const added = await a.addCamera(org.id, 'New', 'h');
      await admin.query('DELETE FROM changes');
      await b.sync();
      assert.is(b.camera(cam.id), undefined, 'the deleted camera is gone');
      assert.ok(b.camera(added.id), 'the new camera is there');
      assert.ok(seen.some((c) => c.table === 'cameras' && c.key === cam.id && c.after === undefined), 'the removal reached listeners');
      assert.is(b.reloads, 1);
    } finally {
      await b.close();
    }
  } finally {
    await admin.end();
    await a.close();
  }
});

only('audit: one chain across nodes, append-only in the database, search, retention', async () => {
  const url = await pgServer.createDatabase('audit');
  let now = Date.parse('2026-01-01T00:00:00Z');
  const a = await PostgresStore.open({ url, log, nodeId: 'a', auditRetentionDays: 400 });
  const b = await PostgresStore.open({ url, log, nodeId: 'b', auditRetentionDays: 400 });
  const admin = new pg.Pool({ connectionString: url });
  try {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).audit.append({ actor: `u:${i}`, action: i % 3 ? 'live.view' : 'auth.login', outcome: 'ok', cameraId: `cam_${i % 4}`, orgId: 'org_1', detail: { i, note: '東京' } }),
      ),
    );
    const verified = await a.audit.verify();
    assert.ok(verified.ok && verified.rows === 40, JSON.stringify(verified));
    const page = await b.audit.search({ action: 'auth.', limit: 5 });
    assert.is(page.rows.length, 5);
    assert.ok(page.rows.every((r) => r.action === 'auth.login'));
    assert.ok(page.rows[0]!.seq > page.rows[4]!.seq, 'newest first');
    const next = await b.audit.search({ action: 'auth.', limit: 5, cursor: page.nextCursor });
    assert.ok(next.rows.every((r) => r.seq < page.rows[4]!.seq));
    assert.is((await a.audit.search({ text: '東京', cameraId: 'cam_1', limit: 100 })).rows.length, 10);
    let all = 0;
    for await (const _ of a.audit.rows({ orgId: 'org_1' })) all++;
    assert.is(all, 40);
    for (const sql of ["UPDATE audit_rows SET actor = 'someone else' WHERE seq = 3", 'DELETE FROM audit_rows WHERE seq = 3', 'TRUNCATE audit_rows']) {
      await admin.query(sql).then(
        () => assert.unreachable(`${sql} was allowed`),
        (e: unknown) => assert.match(String(e), /append-only/),
      );
    }
    assert.ok((await b.audit.verify()).ok);
  } finally {
    await admin.end();
    await a.close();
    await b.close();
  }
});

only('audit retention: the oldest rows go, the rest still verifies from where retention left the chain', async () => {
  const url = await pgServer.createDatabase('audit_retention');
  const pool = new pg.Pool({ connectionString: url });
  await migrate(pool);
  const { PostgresAuditLog } = await import('../signaling/store/postgres/index.ts');
  let now = Date.now() - 40 * 86_400_000;
  const audit = await PostgresAuditLog.open({ pool, log, retentionDays: 10, where: 'test', now: () => now });
  try {
    for (let i = 0; i < 3; i++) await audit.append({ actor: 'system', action: 'live.view', outcome: 'ok', detail: { old: i } });
    now = Date.now();
    await audit.append({ actor: 'system', action: 'live.view', outcome: 'ok', detail: { kept: true } });
    assert.equal(await audit.applyRetention(), ['1-3']);
    const verified = await audit.verify();
    assert.ok(verified.ok && verified.firstSeq === 4, JSON.stringify(verified));
    const rows = (await audit.search({ limit: 10 })).rows;
    assert.equal(rows.map((r) => r.action), ['audit.retention', 'live.view']);
    assert.equal(await audit.applyRetention(), [], 'nothing more to remove');
  } finally {
    await audit.close();
    await pool.end();
  }
});

only('export and import across kinds: files → PostgreSQL → files keeps every row, the audit chain and the secrets', async () => {
  const first = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-export-'));
  const back = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-import-'));
  const files = await FileStore.openWithAudit({ dataDir: first, log, auditRetentionDays: 36_500 });
  const database = await PostgresStore.open({ url: await pgServer.createDatabase('transfer'), log, nodeId: 't', auditRetentionDays: 36_500 });
  const returned = await FileStore.openWithAudit({ dataDir: back, log, auditRetentionDays: 36_500 });
  try {
    const ids = await populate(files);
    // A group moved under one made after it: rows go in in creation order, so the database checks parents at commit.
    const older = await files.addGroup({ orgId: ids.orgId, name: 'older floor', cameraIds: [] });
    const newer = await files.addGroup({ orgId: ids.orgId, name: 'newer site', cameraIds: [] });
    await files.updateGroup(older.id, { parentId: newer.id });
    // A grant left naming a camera that is gone (old files had no foreign keys): PostgreSQL cannot hold it.
    await fs.writeFile(path.join(first, 'secrets.json'), JSON.stringify({ jwtSecret: 'j'.repeat(64) }));
    for (let i = 0; i < 30; i++) await files.audit.append({ actor: 'u:x', action: 'live.view', outcome: 'ok', at: new Date(Date.now() - (30 - i) * 86_400_000).toISOString(), detail: { i } });
    const exported = await files.exportAll();
    exported.rows.grants.push({ id: 'grant_dangling', orgId: ids.orgId, userId: ids.opId, cameraId: 'cam_gone', rights: ['live'], createdAt: new Date().toISOString(), createdBy: 'x' });
    assert.is(exported.audit.length, 30);
    assert.equal(exported.secrets, { jwtSecret: 'j'.repeat(64) });

    const { dropped } = await database.importAll(exported);
    assert.equal(dropped, ['grants grant_dangling'], 'the dangling grant is named and left out');
    assert.is(database.group(older.id)?.parentId, newer.id, 'a child older than its parent arrives under it');
    exported.rows.grants.pop();
    assert.equal(comparable(database.snapshot()), comparable(exported.rows));
    assert.ok((await database.audit.verify()).ok, 'the chain verifies in PostgreSQL');
    assert.is(await database.sharedSecret('jwtSecret', 48), 'j'.repeat(64), 'the signing secret came along (sessions stay valid)');
    const appended = await database.audit.append({ actor: 'system', action: 'audit.migrate', outcome: 'ok' });
    assert.is(appended.seq, 31, 'the chain continues after the imported rows');
    await database.importAll(exported).then(
      () => assert.unreachable('imported twice'),
      (e: unknown) => assert.ok(e instanceof StoreError && e.code === 'store_not_empty'),
    );

    const again = await database.exportAll();
    await returned.importAll(again);
    assert.equal(comparable(returned.snapshot()), comparable(exported.rows));
    const verified = await returned.audit.verify();
    assert.ok(verified.ok && verified.rows === 31, JSON.stringify(verified));
    assert.equal(JSON.parse(await fs.readFile(path.join(back, 'secrets.json'), 'utf8')), { jwtSecret: 'j'.repeat(64) });
  } finally {
    await files.close();
    await database.close();
    await returned.close();
    await fs.rm(first, { recursive: true, force: true });
    await fs.rm(back, { recursive: true, force: true });
  }
});

only('rows naming what is gone: a group whose parent is gone goes to the top, a layout tile of a deleted camera is empty, a layout of a deleted user is left out', async () => {
  const rows = emptySnapshot();
  const at = new Date().toISOString();
  rows.orgs.push({ id: 'org_1', name: 'Org', createdAt: at });
  rows.users.push({ id: 'u_1', orgId: 'org_1', username: 'u1', passwordHash: 'x', role: 'admin', createdAt: at });
  rows.cameras.push({ id: 'cam_1', orgId: 'org_1', name: 'Gate', secretHash: 'h', createdAt: at });
  rows.groups.push({ id: 'grp_child', orgId: 'org_1', name: 'Floor', cameraIds: [], createdAt: at, parentId: 'grp_gone' });
  rows.layouts.push({ id: 'lay_1', orgId: 'org_1', userId: 'u_1', name: 'mine', size: 2, cameraIds: ['cam_gone', 'cam_1', null], createdAt: at, updatedAt: at, createdBy: 'u_1' });
  rows.layouts.push({ id: 'lay_2', orgId: 'org_1', userId: 'u_gone', name: 'theirs', size: 1, cameraIds: [], createdAt: at, updatedAt: at, createdBy: 'u_gone' });
  const { rows: kept, dropped } = withoutDangling(rows);
  assert.equal(dropped, ['layouts lay_2']);
  assert.not.ok('parentId' in kept.groups[0]!, 'the orphan is at the top');
  assert.equal(kept.layouts.map((l) => l.cameraIds), [[null, 'cam_1', null]]);
  const database = await PostgresStore.open({ url: await pgServer.createDatabase('dangling'), log, nodeId: 'd', auditRetentionDays: 400 });
  try {
    assert.equal((await database.importAll({ rows, audit: [], secrets: {} })).dropped, ['layouts lay_2'], 'PostgreSQL takes the rest');
    assert.equal(database.layout('lay_1')?.cameraIds, [null, 'cam_1', null]);
  } finally {
    await database.close();
  }
});

only('an old db.json (before organisations) reaches PostgreSQL migrated: one organisation, its admin a service operator, view grants as live+playback', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-v1-'));
  const database = await PostgresStore.open({ url: await pgServer.createDatabase('from_v1'), log, nodeId: 'v1', auditRetentionDays: 36_500 });
  try {
    const v1 = {
      version: 1,
      users: [
        { id: 'u_admin', username: 'admin', passwordHash: 'x', role: 'admin', createdAt: '2026-01-01T00:00:00Z' },
        { id: 'u_viewer', username: 'guard', passwordHash: 'x', role: 'viewer', createdAt: '2026-01-01T00:00:00Z' },
      ],
      cameras: [{ id: 'cam_1', name: 'Gate', secretHash: 'h', createdAt: '2026-01-01T00:00:00Z' }],
      grants: [{ userId: 'u_viewer', cameraId: 'cam_1', rights: ['view'], createdAt: '2026-01-01T00:00:00Z' }],
      keys: [{ cameraId: 'cam_1', key: wrapped('dk_v1') }],
      kiosks: [],
    };
    await fs.writeFile(path.join(dir, 'db.json'), JSON.stringify(v1));
    const files = await FileStore.open(dir);
    const exported = await files.exportAll();
    await files.close();
    await database.importAll(exported);
    assert.is(database.orgs.length, 1);
    assert.ok(database.users.every((u) => u.orgId === database.orgs[0]!.id));
    assert.is(database.userById('u_admin')?.platform, true);
    assert.equal([...database.rightsOn(database.userById('u_viewer')!, 'cam_1')].sort(), ['live', 'playback']);
    assert.is(database.wrappedKey('cam_1')?.keyId, 'dk_v1');
  } finally {
    await database.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

only('backup slots: of two nodes asking for the same scheduled backup, one makes it', async () => {
  const url = await pgServer.createDatabase('slots');
  const a = await PostgresStore.open({ url, log, nodeId: 'a', auditRetentionDays: 400 });
  const b = await PostgresStore.open({ url, log, nodeId: 'b', auditRetentionDays: 400 });
  try {
    const slot = Date.parse('2026-12-06T00:00:00Z');
    const answers = await Promise.all([a.claimBackupSlot(slot, 'a'), b.claimBackupSlot(slot, 'b')]);
    assert.is(answers.filter(Boolean).length, 1);
    assert.ok(await a.claimBackupSlot(slot + 86_400_000, 'a'), 'the next slot is free again');
  } finally {
    await a.close();
    await b.close();
  }
});

only.run();

const filesOnly = suite('store (files only)');

filesOnly('db.json and accounts.json are private (0600) from their first write, and files of older releases become so when opened', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mimamori-store-mode-'));
  const mode = async (name: string) => (await fs.stat(path.join(dir, name))).mode & 0o777;
  try {
    const store = await FileStore.open(dir);
    const { org } = await store.addOrg('Mode test');
    // A webhook's signing secret is kept as it is (it signs): the file must not be readable by others.
    await store.addWebhook({ id: 'wh_modeTest0001', orgId: org.id, name: 'hook', url: 'https://example.invalid/hook', events: ['camera.online'], secret: 'whsec_secret', createdBy: 'u:test' });
    await store.recordLoginFailure('nobody', Date.now(), LOCKOUT);
    await store.close();
    assert.is(await mode('db.json'), 0o600);
    assert.is(await mode('accounts.json'), 0o600);
    assert.ok((await fs.readFile(path.join(dir, 'db.json'), 'utf8')).includes('whsec_secret'), 'the webhook was saved');
    assert.equal((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');

    await fs.chmod(path.join(dir, 'db.json'), 0o644); // as lowdb wrote it before
    const again = await FileStore.open(dir);
    assert.is(await mode('db.json'), 0o600);
    assert.is(again.webhook('wh_modeTest0001')?.secret, 'whsec_secret');
    await again.close();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

filesOnly.run();
