// One sentence per audit row, in the viewer's language and time zone: "佐藤さんが「正門」の録画
// （10:02–10:05）を書き出しました" / "sato exported Main gate, 10:02–10:05". Pure: a row and the
// names the server resolved for its page (GET /api/audit `names`) in, text out; nothing here
// touches the page, so test/audit-sentences.test.ts tables every action in both languages.
//
// Each action has its own sentence (SENTENCES). Refused or failed rows read as attempts: the
// action's `attempt` phrase ("…しようと" / "… tried to …") wrapped in "…but was refused", or, for
// actions that are never refused in practice, a generic "X tried: <label> — refused". Actions
// whose sentence already says it was refused (a failed sign-in) ignore the outcome. An action this
// page does not know yet (a newer server) gets a generic sentence naming it.
import { formatDateTime, hasMessage, lang, t, type MessageKey, type Params } from './i18n.ts';

export interface AuditSentenceRow {
  at: string;
  actor: string;
  action: string;
  outcome: 'ok' | 'refused' | 'error';
  cameraId?: string;
  detail?: Record<string, unknown>;
}
/** GET /api/audit's `names`: `<kind>:<id>` → its name now, or deleted (with the name a row recorded). */
export type AuditNames = Record<string, { name?: string; deleted?: boolean }>;

type RefKind = 'u' | 'a' | 'k' | 's' | 'c' | 'g' | 'w' | 'o' | 'l';

/** What a sentence builder reads: the row, and its references as display text. */
interface Ctx {
  row: AuditSentenceRow;
  d: Record<string, unknown>;
  who: string;
  /** `<kind>:<id>` as an object of a sentence ("佐藤さん", "「正門」", "“Floor 1”"). */
  ref(kind: RefKind, id: unknown, fallbackName?: unknown): string;
  camera: string;
  /** A time range from detail fromMs/toMs: ", 10:02–10:05" / "（10:02–10:05）", or "". */
  range: string;
  num(key: string): number;
  str(key: string): string;
}
interface Built {
  key: MessageKey;
  params?: Params;
  /** The same act as an attempt, for refused and failed rows. */
  attempt?: MessageKey;
}
type Builder = (c: Ctx) => Built;

const userOrSelf = (c: Ctx) => c.ref('u', c.d.userId, c.d.username);
const scope = (c: Ctx) => (c.row.cameraId ? c.camera : c.d.groupId ? t('auditLog.part.group', { group: c.ref('g', c.d.groupId) }) : t('auditLog.part.allCameras'));
const rightsText = (v: unknown) => (Array.isArray(v) && v.length ? v.map((r) => (hasMessage(`right.${String(r)}`) ? t(`right.${String(r)}` as MessageKey) : String(r))).join(lang() === 'ja' ? '・' : ', ') : t('auditLog.part.noRights'));
const roleText = (v: unknown) => (hasMessage(`role.${String(v)}`) ? t(`role.${String(v)}` as MessageKey) : String(v ?? ''));

/** Every audited action's sentence (the list is signaling/audit/actions.ts AUDIT_ACTIONS). */
export const SENTENCES: Record<string, Builder> = {
  'auth.login': () => ({ key: 'auditLog.ok.auth.login' }),
  'auth.login_failed': (c) => ({ key: 'auditLog.ok.auth.login_failed', params: { username: c.str('username'), reason: reason(c.d.code) } }),
  'auth.lockout': (c) => ({ key: 'auditLog.ok.auth.lockout', params: { username: c.str('username') } }),
  'auth.unlock': (c) => ({ key: 'auditLog.ok.auth.unlock', params: { target: userOrSelf(c) } }),
  'auth.logout': () => ({ key: 'auditLog.ok.auth.logout' }),
  'auth.logout_all': (c): Built =>
    c.d.byAdmin === true ? { key: 'auditLog.ok.auth.logout_all.other', params: { target: userOrSelf(c), n: c.num('sessions') } } : { key: 'auditLog.ok.auth.logout_all', params: { n: c.num('sessions') } },
  'auth.refresh_reused': () => ({ key: 'auditLog.ok.auth.refresh_reused' }),
  'auth.password_change': (c) => ({ key: 'auditLog.ok.auth.password_change', attempt: 'auditLog.try.auth.password_change', params: { reason: reason(c.d.code) } }),
  'auth.totp_enabled': () => ({ key: 'auditLog.ok.auth.totp_enabled' }),
  'auth.totp_disabled': () => ({ key: 'auditLog.ok.auth.totp_disabled', attempt: 'auditLog.try.auth.totp_disabled' }),
  'camera.secret_rejected': () => ({ key: 'auditLog.ok.camera.secret_rejected' }),
  'live.view': (c) => ({ key: 'auditLog.ok.live.view', attempt: 'auditLog.try.live.view', params: { reason: reason(c.d.code) } }),
  'playback.start': (c) => ({ key: 'auditLog.ok.playback.start', params: { time: typeof c.d.atMs === 'number' ? formatDateTime(c.d.atMs, 'short') : '' } }),
  'export.create': () => ({ key: 'auditLog.ok.export.create' }),
  'export.download': () => ({ key: 'auditLog.ok.export.download' }),
  'export.delete': () => ({ key: 'auditLog.ok.export.delete' }),
  'share.create': (c) => ({
    key: 'auditLog.ok.share.create',
    params: { kind: c.d.kind === 'live' ? t('auditLog.part.shareLive') : t('auditLog.part.shareClip'), until: typeof c.d.expiresAt === 'string' ? formatDateTime(c.d.expiresAt, 'short') : '' },
  }),
  'share.open': (c) => ({ key: 'auditLog.ok.share.open', attempt: 'auditLog.try.share.open', params: { reason: reason(c.d.code) } }),
  'share.revoke': () => ({ key: 'auditLog.ok.share.revoke' }),
  'grant.set': (c) => ({ key: 'auditLog.ok.grant.set', params: { target: userOrSelf(c), scope: scope(c), rights: rightsText(c.d.rights) } }),
  'grant.revoke': (c) => ({ key: 'auditLog.ok.grant.revoke', params: { target: userOrSelf(c), scope: scope(c) } }),
  'group.create': (c) => ({ key: 'auditLog.ok.group.create', params: { group: c.ref('g', c.d.groupId, c.d.name) } }),
  'group.update': (c) => ({ key: 'auditLog.ok.group.update', params: { group: c.ref('g', c.d.groupId, c.d.name) } }),
  'group.delete': (c) => ({ key: 'auditLog.ok.group.delete', params: { group: c.ref('g', c.d.groupId) } }),
  'user.create': (c) => ({ key: 'auditLog.ok.user.create', params: { target: userOrSelf(c), role: roleText(c.d.role) } }),
  'user.role': (c) => ({ key: 'auditLog.ok.user.role', params: { target: userOrSelf(c), from: roleText(c.d.from), to: roleText(c.d.to) } }),
  'user.delete': (c) => ({ key: 'auditLog.ok.user.delete', params: { target: userOrSelf(c) } }),
  'camera.create': () => ({ key: 'auditLog.ok.camera.create' }),
  'camera.update': () => ({ key: 'auditLog.ok.camera.update' }),
  'camera.delete': () => ({ key: 'auditLog.ok.camera.delete' }),
  'camera.secret_rotate': () => ({ key: 'auditLog.ok.camera.secret_rotate' }),
  'hold.create': () => ({ key: 'auditLog.ok.hold.create' }),
  'hold.delete': () => ({ key: 'auditLog.ok.hold.delete' }),
  'recordings.delete': () => ({ key: 'auditLog.ok.recordings.delete' }),
  'kiosk.create': (c) => ({ key: 'auditLog.ok.kiosk.create', params: { kiosk: c.ref('k', c.d.kioskId) } }),
  'kiosk.update': (c) => ({ key: 'auditLog.ok.kiosk.update', params: { kiosk: c.ref('k', c.d.kioskId) } }),
  'kiosk.rotate': (c) => ({ key: 'auditLog.ok.kiosk.rotate', params: { kiosk: c.ref('k', c.d.kioskId) } }),
  'kiosk.revoke': (c) => ({ key: 'auditLog.ok.kiosk.revoke', params: { kiosk: c.ref('k', c.d.kioskId) } }),
  'kiosk.session': (c) => ({ key: 'auditLog.ok.kiosk.session', attempt: 'auditLog.try.kiosk.session', params: { reason: reason(c.d.code) } }),
  'api_key.create': (c) => ({ key: 'auditLog.ok.api_key.create', params: { key: c.ref('a', c.d.keyId, c.d.name) } }),
  'api_key.revoke': (c) => ({ key: 'auditLog.ok.api_key.revoke', params: { key: c.ref('a', c.d.keyId, c.d.name) } }),
  'api_key.call': (c) => ({ key: 'auditLog.ok.api_key.call', attempt: 'auditLog.try.api_key.call', params: { method: c.str('method'), path: c.str('path'), status: c.str('status'), reason: t('auditLog.part.reason', { reason: `HTTP ${c.str('status')}` }) } }),
  'webhook.create': (c) => ({ key: 'auditLog.ok.webhook.create', params: { webhook: c.ref('w', c.d.webhookId, c.d.name), host: c.str('host') } }),
  'webhook.update': (c) => ({ key: 'auditLog.ok.webhook.update', params: { webhook: c.ref('w', c.d.webhookId, c.d.name) } }),
  'webhook.delete': (c) => ({ key: 'auditLog.ok.webhook.delete', params: { webhook: c.ref('w', c.d.webhookId, c.d.name) } }),
  'webhook.secret_rotate': (c) => ({ key: 'auditLog.ok.webhook.secret_rotate', params: { webhook: c.ref('w', c.d.webhookId, c.d.name) } }),
  'announcement.create': () => ({ key: 'auditLog.ok.announcement.create' }),
  'announcement.delete': () => ({ key: 'auditLog.ok.announcement.delete' }),
  'layout.create': (c) => ({ key: c.d.scope === 'organisation' ? 'auditLog.ok.layout.create.org' : 'auditLog.ok.layout.create', params: { layout: c.ref('l', c.d.layoutId, c.d.name) } }),
  'layout.update': (c) => ({ key: 'auditLog.ok.layout.update', params: { layout: c.ref('l', c.d.layoutId, c.d.name) } }),
  'layout.delete': (c) => ({ key: 'auditLog.ok.layout.delete', params: { layout: c.ref('l', c.d.layoutId, c.d.name) } }),
  'org.create': (c) => ({ key: 'auditLog.ok.org.create', params: { org: c.ref('o', c.d.orgId, c.d.name) } }),
  'org.update': (c) => ({ key: 'auditLog.ok.org.update', params: { org: c.ref('o', c.d.orgId, c.d.name) } }),
  'org.deletion_scheduled': (c) => ({ key: 'auditLog.ok.org.deletion_scheduled', params: { org: c.ref('o', c.d.orgId), when: typeof c.d.at === 'string' ? formatDateTime(c.d.at, 'short') : '' } }),
  'org.deletion_cancelled': (c) => ({ key: 'auditLog.ok.org.deletion_cancelled', params: { org: c.ref('o', c.d.orgId) } }),
  'org.deleted': (c) => ({ key: 'auditLog.ok.org.deleted', params: { org: c.ref('o', c.d.orgId ?? c.row.actor, c.d.orgName) } }),
  'master_key.rotate': (c) => ({ key: 'auditLog.ok.master_key.rotate', params: { n: c.num('rewrapped') } }),
  'node.drain': (c) => ({ key: 'auditLog.ok.node.drain', params: { node: c.str('node') } }),
  'camera.moved': () => ({ key: 'auditLog.ok.camera.moved' }),
  'audit.export': (c): Built => (c.d.format === 'csv' || c.d.format === 'jsonl' ? { key: 'auditLog.ok.audit.export.file', params: { format: String(c.d.format).toUpperCase() } } : { key: 'auditLog.ok.audit.export' }),
  'audit.change_refused': (c) => ({ key: 'auditLog.ok.audit.change_refused', params: { method: c.str('method') } }),
  'audit.retention': (c) => ({ key: 'auditLog.ok.audit.retention', params: { days: c.num('retentionDays') } }),
  'audit.migrate': (c) => ({ key: 'auditLog.ok.audit.migrate', params: { n: c.num('rows') } }),
  'audit.recovered': () => ({ key: 'auditLog.ok.audit.recovered' }),
};

/** Actions deliberately read with the generic sentence (none today; listed for the test). */
export const GENERIC_ACTIONS: readonly string[] = [];

/** Actions whose own sentence already says they were refused: the outcome adds nothing. */
const REFUSAL_ACTIONS = new Set(['auth.login_failed', 'auth.lockout', 'auth.refresh_reused', 'camera.secret_rejected', 'audit.change_refused']);

/** The row as a sentence in the current language and time zone. */
export function auditSentence(row: AuditSentenceRow, names: AuditNames): string {
  const d = row.detail ?? {};
  const who = actorName(row.actor, names);
  const ref = (kind: RefKind, id: unknown, fallbackName?: unknown) => refName(kind, id, fallbackName, names);
  const ctx: Ctx = {
    row,
    d,
    who,
    ref,
    camera: row.cameraId ? ref('c', row.cameraId) : t('auditLog.part.unknownCamera'),
    range: typeof d.fromMs === 'number' && typeof d.toMs === 'number' ? t('auditLog.part.range', { range: timeRange(d.fromMs, d.toMs, row.at) }) : '',
    num: (key) => (typeof d[key] === 'number' ? (d[key] as number) : Array.isArray(d[key]) ? (d[key] as unknown[]).length : 0),
    str: (key) => (d[key] === undefined || d[key] === null ? '' : String(d[key])),
  };
  const builder = SENTENCES[row.action];
  let text: string;
  if (!builder) {
    text = t(row.outcome === 'ok' ? 'auditLog.unknown' : row.outcome === 'refused' ? 'auditLog.unknown.refused' : 'auditLog.unknown.failed', { who, action: row.action });
  } else {
    const built = builder(ctx);
    const params: Params = { who, camera: ctx.camera, range: ctx.range, ...built.params };
    if (row.outcome === 'ok' || REFUSAL_ACTIONS.has(row.action)) text = t(built.key, params);
    else if (built.attempt) text = t(row.outcome === 'refused' ? 'auditLog.refused' : 'auditLog.failed', { attempt: t(built.attempt, params), reason: params.reason ?? '' });
    else text = t(row.outcome === 'refused' ? 'auditLog.generic.refused' : 'auditLog.generic.failed', { who, label: actionLabel(row.action), on: row.cameraId ? t('auditLog.part.on', { camera: ctx.camera }) : '' });
  }
  // English sentences start with a capital, unless they start with a person's own name.
  if (lang() === 'en' && !(row.actor.startsWith('u:') && text.startsWith(who))) text = text.charAt(0).toUpperCase() + text.slice(1);
  return text.replace(/\s+/g, ' ').trim();
}

/** A short name of the action ("カメラの削除" / "Camera deleted"), or the action itself when new to us. */
export function actionLabel(action: string): string {
  const key = `auditLog.label.${action}`;
  return hasMessage(key) ? t(key) : action;
}

/** Who acted, as the subject of a sentence and in the person filter. */
export function actorName(actor: string, names: AuditNames): string {
  if (actor === 'system') return t('auditLog.who.system');
  if (actor === 'anonymous') return t('auditLog.who.anonymous');
  if (actor.startsWith('node:')) return t('auditLog.who.node', { node: actor.slice(5) });
  const m = /^([uaksc]):(.*)$/.exec(actor);
  if (!m) return actor;
  const kind = m[1] as RefKind;
  return named(`auditLog.who.${kind}` as MessageKey, kind, m[2]!, undefined, names);
}

function refName(kind: RefKind, id: unknown, fallbackName: unknown, names: AuditNames): string {
  if (typeof id !== 'string' || !id) return typeof fallbackName === 'string' && fallbackName ? t(`auditLog.ref.${kind}` as MessageKey, { name: fallbackName }) : t('auditLog.part.unknown');
  return named(`auditLog.ref.${kind}` as MessageKey, kind, id, fallbackName, names);
}

/** `template` filled with the name the server gave (or the row recorded, or the id), marked when deleted. */
function named(template: MessageKey, kind: RefKind, id: string, fallbackName: unknown, names: AuditNames): string {
  const entry = names[`${kind}:${id}`];
  const recorded = typeof fallbackName === 'string' && fallbackName ? fallbackName : undefined;
  const text = t(template, { name: entry?.name ?? recorded ?? id });
  return entry?.deleted ? t('auditLog.deleted', { name: text }) : text;
}

function reason(code: unknown): string {
  if (typeof code !== 'string' || !code) return '';
  const key = `auditLog.reason.${code}`;
  return t('auditLog.part.reason', { reason: hasMessage(key) ? t(key) : code });
}

/** "10:02–10:05" on the row's own day, with dates otherwise. */
function timeRange(fromMs: number, toMs: number, at: string): string {
  const day = (ms: number | string) => formatDateTime(ms, 'date');
  const sameDay = day(fromMs) === day(toMs);
  const fromText = sameDay && day(fromMs) === day(at) ? formatDateTime(fromMs, 'hm') : formatDateTime(fromMs, 'short');
  return `${fromText}–${formatDateTime(toMs, sameDay ? 'hm' : 'short')}`;
}
