// The audit page's sentences (client/auditSentences.ts), tabled: every audited action in
// Japanese and English, with the names the server resolves, refused and failed outcomes, deleted
// things, and actions this page does not know yet. Pure: no service, no browser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AUDIT_ACTIONS, AUDIT_CATEGORIES } from '../signaling/audit/actions.ts';

// client/i18n.ts reads the browser's language and re-translates the page on a change: give it
// the little of a browser it touches, before it is loaded.
const g = globalThis as Record<string, unknown>;
g.navigator ??= { language: 'ja', languages: ['ja'] };
g.document ??= { documentElement: {}, body: undefined, title: '', querySelectorAll: () => [] };
// Loaded by a path the server's typecheck does not follow: it checks without the DOM library, and
// these modules are the browser's (`npm run typecheck` checks them with it, against the shapes below).
type Row = { at: string; actor: string; action: string; outcome: 'ok' | 'refused' | 'error'; cameraId?: string; detail?: Record<string, unknown> };
type Names = Record<string, { name?: string; deleted?: boolean }>;
interface I18n {
  setLang(lang: 'ja' | 'en'): void;
  setTimeZone(tz: string): void;
  hasMessage(key: string): boolean;
}
interface Sentences {
  auditSentence(row: Row, names: Names): string;
  actionLabel(action: string): string;
  GENERIC_ACTIONS: readonly string[];
  SENTENCES: Record<string, unknown>;
}
const load = (path: string): Promise<unknown> => import(path);
const i18n = (await load('../client/i18n.ts')) as I18n;
const { auditSentence, actionLabel, GENERIC_ACTIONS, SENTENCES } = (await load('../client/auditSentences.ts')) as Sentences;
i18n.setTimeZone('Asia/Tokyo');

const AT = '2026-12-05T01:10:00.000Z'; // 10:10 in Tokyo
const FROM = Date.parse('2026-12-05T01:02:00Z'); // 10:02 in Tokyo
const TO = Date.parse('2026-12-05T01:05:00Z'); // 10:05
const names: Names = {
  'u:u_sato': { name: 'sato' },
  'u:u_suzuki': { name: 'suzuki' },
  'u:u_gone': { name: 'tanaka', deleted: true },
  'c:cam_gate': { name: '正門' },
  'c:cam_gone': { deleted: true },
  'g:grp_hq': { name: '本社' },
  'k:kio_lobby': { name: 'ロビー' },
  'a:key_erp': { name: '基幹連携' },
  's:shr_1': { name: '正門' },
  'w:wh_1': { name: 'Slack通知' },
  'o:org_1': { name: '見守建設' },
};
const row = (action: string, extra: Partial<Row> = {}): Row => ({ at: AT, actor: 'u:u_sato', action, outcome: 'ok', ...extra });

/** [row, Japanese, English]: one for every action, and the variants worth a sentence of their own. */
const TABLE: [Row, string, string][] = [
  [row('auth.login', { detail: { sessionId: 'ses_1', totp: false } }), 'satoさんがログインしました', 'sato signed in'],
  [row('auth.login_failed', { actor: 'anonymous', outcome: 'refused', detail: { username: 'satou', code: 'invalid_credentials' } }), '未ログインの利用者が「satou」としてログインしようとしましたが、拒否されました（ユーザー名またはパスワードの誤り）', 'Someone not signed in tried to sign in as “satou”, but was refused (wrong user name or password)'],
  [row('auth.login_failed', { outcome: 'refused', detail: { username: 'sato', code: 'account_locked' } }), 'satoさんが「sato」としてログインしようとしましたが、拒否されました（アカウントがロック中）', 'sato tried to sign in as “sato”, but was refused (account locked)'],
  [row('auth.lockout', { outcome: 'refused', detail: { username: 'sato', until: '2026-12-05T01:25:00.000Z' } }), 'ログイン失敗が続いたため、アカウント「sato」をロックしました', 'The account “sato” was locked after repeated failed sign-ins'],
  [row('auth.unlock', { actor: 'u:u_suzuki', detail: { userId: 'u_sato', wasLocked: true } }), 'suzukiさんがsatoさんのアカウントロックを解除しました', 'suzuki unlocked the account of sato'],
  [row('auth.logout', { detail: { sessionId: 'ses_1' } }), 'satoさんがログアウトしました', 'sato signed out'],
  [row('auth.logout_all', { detail: { sessions: 3 } }), 'satoさんがすべての端末からログアウトしました（3 セッション）', 'sato signed out on every device (3 sessions)'],
  [row('auth.logout_all', { actor: 'u:u_suzuki', detail: { userId: 'u_sato', sessions: 2, byAdmin: true } }), 'suzukiさんがsatoさんをすべての端末からログアウトさせました（2 セッション）', 'suzuki signed sato out on every device (2 sessions)'],
  [row('auth.refresh_reused', { outcome: 'refused', detail: { sessionId: 'ses_1', security: true } }), 'satoさんのログイントークンが再利用されたため、安全のためセッションを終了しました', 'A sign-in token of sato was used twice; the session was ended as a precaution'],
  [row('auth.password_change', { detail: { otherSessionsRevoked: 1 } }), 'satoさんがパスワードを変更しました', 'sato changed their password'],
  [row('auth.password_change', { outcome: 'refused', detail: { code: 'wrong_password' } }), 'satoさんがパスワードを変更しようとしましたが、拒否されました（パスワードの誤り）', 'sato tried to change their password, but was refused (wrong password)'],
  [row('auth.totp_enabled'), 'satoさんが2段階認証を有効にしました', 'sato turned on two-step verification'],
  [row('auth.totp_disabled'), 'satoさんが2段階認証を無効にしました', 'sato turned off two-step verification'],
  [row('auth.totp_disabled', { outcome: 'refused' }), 'satoさんが2段階認証を無効にしようとしましたが、拒否されました', 'sato tried to turn off two-step verification, but was refused'],
  [row('camera.secret_rejected', { actor: 'anonymous', outcome: 'refused', cameraId: 'cam_gate' }), 'カメラ「正門」が誤ったシークレットで接続しようとしたため、拒否しました', 'Camera 正門 tried to connect with a wrong secret and was refused'],
  [row('live.view', { cameraId: 'cam_gate', detail: { via: 'whep' } }), 'satoさんが「正門」のライブ映像を視聴しました', 'sato watched 正門 live'],
  [row('live.view', { actor: 'k:kio_lobby', cameraId: 'cam_gate' }), 'キオスク表示「ロビー」が「正門」のライブ映像を視聴しました', 'Kiosk display “ロビー” watched 正門 live'],
  [row('live.view', { outcome: 'refused', cameraId: 'cam_gate', detail: { code: 'right_missing' } }), 'satoさんが「正門」のライブ映像を視聴しようとしましたが、拒否されました（権限なし）', 'sato tried to watch 正門 live, but was refused (no permission)'],
  [row('playback.start', { cameraId: 'cam_gate', detail: { atMs: FROM, startMs: FROM } }), 'satoさんが「正門」の録画を2026/12/05 10:02から再生しました', 'sato played back 正門 from 12/5/26, 10:02 AM'],
  [row('export.create', { cameraId: 'cam_gate', detail: { exportId: 'exp_1', fromMs: FROM, toMs: TO } }), 'satoさんが「正門」の録画（10:02–10:05）を書き出しました', 'sato exported 正門, 10:02–10:05'],
  [row('export.create', { actor: 'a:key_erp', cameraId: 'cam_gate', detail: { exportId: 'exp_1', fromMs: FROM - 86_400_000, toMs: TO - 86_400_000, apiKey: '基幹連携' } }), 'APIキー「基幹連携」が「正門」の録画（2026/12/04 10:02–10:05）を書き出しました', 'API key “基幹連携” exported 正門, 12/4/26, 10:02 AM–10:05'],
  [row('export.download', { cameraId: 'cam_gate', detail: { exportId: 'exp_1', bytes: 1000 } }), 'satoさんが「正門」の録画をダウンロードしました', 'sato downloaded a clip of 正門'],
  [row('export.download', { cameraId: 'cam_gate', detail: { fromMs: FROM, toMs: TO, bytes: 1000 } }), 'satoさんが「正門」の録画（10:02–10:05）をダウンロードしました', 'sato downloaded a clip of 正門, 10:02–10:05'],
  [row('export.delete', { cameraId: 'cam_gate', detail: { exportId: 'exp_1', objects: 2 } }), 'satoさんが「正門」の書き出しファイルを削除しました', 'sato deleted an exported clip of 正門'],
  [row('share.create', { cameraId: 'cam_gate', detail: { shareId: 'shr_1', kind: 'clip', expiresAt: '2026-12-12T01:10:00.000Z', password: true } }), 'satoさんが「正門」の共有リンク（録画クリップ、2026/12/12 10:10 まで有効）を作成しました', 'sato created a share link to 正門 (recorded clip, valid until 12/12/26, 10:10 AM)'],
  [row('share.open', { actor: 's:shr_1', cameraId: 'cam_gate', detail: { kind: 'clip' } }), '正門 の共有リンクが開かれました', 'A share link to 正門 was opened'],
  [row('share.open', { actor: 's:shr_1', outcome: 'refused', cameraId: 'cam_gate', detail: { code: 'wrong_password' } }), '正門 の共有リンクを開こうとしましたが、拒否されました（パスワードの誤り）', 'Someone tried to open a share link to 正門, but was refused (wrong password)'],
  [row('share.revoke', { cameraId: 'cam_gate', detail: { shareId: 'shr_1' } }), 'satoさんが「正門」の共有リンクを無効にしました', 'sato revoked a share link to 正門'],
  [row('grant.set', { actor: 'u:u_suzuki', cameraId: 'cam_gate', detail: { userId: 'u_sato', rights: ['live', 'playback'] } }), 'suzukiさんがsatoさんの「正門」に対する権限を「ライブ・再生」に設定しました', 'suzuki set the rights of sato on 正門 to Live, Playback'],
  [row('grant.set', { actor: 'u:u_suzuki', detail: { userId: 'u_sato', groupId: 'grp_hq', rights: ['live'] } }), 'suzukiさんがsatoさんのグループ「本社」のカメラに対する権限を「ライブ」に設定しました', 'suzuki set the rights of sato on the cameras of group “本社” to Live'],
  [row('grant.revoke', { actor: 'u:u_suzuki', cameraId: 'cam_gate', detail: { userId: 'u_sato' } }), 'suzukiさんがsatoさんの「正門」に対する権限を削除しました', 'suzuki removed the rights of sato on 正門'],
  [row('group.create', { detail: { groupId: 'grp_hq', name: '本社', cameras: 3 } }), 'satoさんがカメラグループ「本社」を作成しました', 'sato created the camera group “本社”'],
  [row('group.update', { detail: { groupId: 'grp_hq', name: '本社' } }), 'satoさんがカメラグループ「本社」を変更しました', 'sato changed the camera group “本社”'],
  [row('group.delete', { detail: { groupId: 'grp_old' } }), 'satoさんがカメラグループ「grp_old」を削除しました', 'sato deleted the camera group “grp_old”'],
  [row('user.create', { actor: 'u:u_suzuki', detail: { userId: 'u_sato', username: 'sato', role: 'viewer' } }), 'suzukiさんがユーザーsatoさんを閲覧者として追加しました', 'suzuki added the user sato as viewer'],
  [row('user.role', { actor: 'u:u_suzuki', detail: { userId: 'u_sato', from: 'viewer', to: 'operator' } }), 'suzukiさんがsatoさんの役割を閲覧者からオペレーターに変更しました', 'suzuki changed the role of sato from viewer to operator'],
  [row('user.delete', { actor: 'u:u_suzuki', detail: { userId: 'u_gone', username: 'tanaka' } }), 'suzukiさんがユーザーtanakaさん（削除済み）を削除しました', 'suzuki deleted the user tanaka (deleted)'],
  [row('camera.create', { cameraId: 'cam_gate', detail: { name: '正門' } }), 'satoさんがカメラ「正門」を追加しました', 'sato added the camera 正門'],
  [row('camera.update', { cameraId: 'cam_gate', detail: { name: '正門' } }), 'satoさんが「正門」の設定を変更しました', 'sato changed the settings of 正門'],
  [row('camera.delete', { cameraId: 'cam_gone', detail: { objects: 10 } }), 'satoさんがカメラ「cam_gone」（削除済み）を削除しました', 'sato deleted the camera cam_gone (deleted)'],
  [row('camera.secret_rotate', { cameraId: 'cam_gate', detail: { graceHours: 24 } }), 'satoさんが「正門」のシークレットを再発行しました', 'sato issued a new secret for 正門'],
  [row('hold.create', { cameraId: 'cam_gate', detail: { holdId: 'hold_1', fromMs: FROM, toMs: TO, reason: '事故調査' } }), 'satoさんが「正門」の録画（10:02–10:05）を保全（削除禁止）にしました', 'sato put a legal hold on the recordings of 正門, 10:02–10:05'],
  [row('hold.delete', { cameraId: 'cam_gate', detail: { holdId: 'hold_1' } }), 'satoさんが「正門」の録画の保全を解除しました', 'sato lifted a legal hold on the recordings of 正門'],
  [row('recordings.delete', { cameraId: 'cam_gate', detail: { objects: 12 } }), 'satoさんが「正門」の録画を削除しました', 'sato deleted recordings of 正門'],
  [row('kiosk.create', { detail: { kioskId: 'kio_lobby', cameras: 4 } }), 'satoさんがキオスク表示「ロビー」を作成しました', 'sato created the kiosk display “ロビー”'],
  [row('kiosk.update', { detail: { kioskId: 'kio_lobby' } }), 'satoさんがキオスク表示「ロビー」を変更しました', 'sato changed the kiosk display “ロビー”'],
  [row('kiosk.rotate', { detail: { kioskId: 'kio_lobby' } }), 'satoさんがキオスク表示「ロビー」のリンクを再発行しました', 'sato issued a new link for the kiosk display “ロビー”'],
  [row('kiosk.revoke', { detail: { kioskId: 'kio_lobby' } }), 'satoさんがキオスク表示「ロビー」を無効にしました', 'sato revoked the kiosk display “ロビー”'],
  [row('kiosk.session', { actor: 'anonymous', outcome: 'refused', detail: { code: 'kiosk_revoked' } }), 'キオスク表示を開始しようとしましたが、拒否されました（キオスク表示は無効化済み）', 'Someone tried to start a kiosk display, but was refused (display revoked)'],
  [row('api_key.create', { detail: { keyId: 'key_erp', name: '基幹連携', scope: 'read' } }), 'satoさんがAPIキー「基幹連携」を作成しました', 'sato created the API key “基幹連携”'],
  [row('api_key.revoke', { detail: { keyId: 'key_erp', name: '基幹連携', alreadyRevoked: false } }), 'satoさんがAPIキー「基幹連携」を無効にしました', 'sato revoked the API key “基幹連携”'],
  [row('api_key.call', { actor: 'a:key_erp', detail: { method: 'GET', path: '/api/cameras', status: 200, apiKey: '基幹連携' } }), 'APIキー「基幹連携」が GET /api/cameras を呼び出しました（HTTP 200）', 'API key “基幹連携” called GET /api/cameras (HTTP 200)'],
  [row('api_key.call', { actor: 'a:key_erp', outcome: 'refused', detail: { method: 'DELETE', path: '/api/orgs', status: 403, apiKey: '基幹連携' } }), 'APIキー「基幹連携」が DELETE /api/orgs を呼び出そうとしましたが、拒否されました（HTTP 403）', 'API key “基幹連携” tried to call DELETE /api/orgs, but was refused (HTTP 403)'],
  [row('webhook.create', { detail: { webhookId: 'wh_1', name: 'Slack通知', host: 'hooks.example.com', events: ['camera.offline'] } }), 'satoさんが hooks.example.com 宛てのWebhook「Slack通知」を作成しました', 'sato created the webhook “Slack通知” to hooks.example.com'],
  [row('webhook.update', { detail: { webhookId: 'wh_1', enabled: false } }), 'satoさんがWebhook「Slack通知」を変更しました', 'sato changed the webhook “Slack通知”'],
  [row('webhook.delete', { detail: { webhookId: 'wh_1', name: 'Slack通知', host: 'hooks.example.com' } }), 'satoさんがWebhook「Slack通知」を削除しました', 'sato deleted the webhook “Slack通知”'],
  [row('webhook.secret_rotate', { detail: { webhookId: 'wh_1', name: 'Slack通知' } }), 'satoさんがWebhook「Slack通知」の署名シークレットを再発行しました', 'sato issued a new signing secret for the webhook “Slack通知”'],
  [row('announcement.create', { detail: { id: 'ann_1', kind: 'maintenance', everyone: false } }), 'satoさんがお知らせを掲載しました', 'sato posted a notice'],
  [row('announcement.delete', { detail: { id: 'ann_1' } }), 'satoさんがお知らせを削除しました', 'sato removed a notice'],
  [row('layout.create', { detail: { layoutId: 'lay_1', name: '夜間巡回', scope: 'user', size: 3 } }), 'satoさんが自分用の画面レイアウト「夜間巡回」を保存しました', 'sato saved the grid layout “夜間巡回” for themselves'],
  [row('layout.create', { detail: { layoutId: 'lay_2', name: '全拠点', scope: 'organisation', size: 4 } }), 'satoさんが組織共有の画面レイアウト「全拠点」を保存しました', 'sato saved the grid layout “全拠点” for the whole organisation'],
  [row('layout.update', { detail: { layoutId: 'lay_1', name: '夜間巡回', scope: 'user', changed: ['cameraIds'] } }), 'satoさんが画面レイアウト「夜間巡回」を変更しました', 'sato changed the grid layout “夜間巡回”'],
  [row('layout.delete', { detail: { layoutId: 'lay_1', name: '夜間巡回', scope: 'user' } }), 'satoさんが画面レイアウト「夜間巡回」を削除しました', 'sato deleted the grid layout “夜間巡回”'],
  [row('org.create', { detail: { orgId: 'org_1', name: '見守建設', adminId: 'u_suzuki' } }), 'satoさんが組織「見守建設」を作成しました', 'sato created the organisation “見守建設”'],
  [row('org.update', { detail: { orgId: 'org_1', name: '見守建設' } }), 'satoさんが組織名を「見守建設」に変更しました', 'sato renamed the organisation to “見守建設”'],
  [row('org.deletion_scheduled', { detail: { orgId: 'org_1', at: '2027-01-31T15:00:00.000Z' } }), 'satoさんが組織「見守建設」の契約終了を予約しました（2027/02/01 0:00 に全データを削除）', 'sato scheduled the end of contract of “見守建設” (all its data deleted on 2/1/27, 12:00 AM)'],
  [row('org.deletion_cancelled', { detail: { orgId: 'org_1' } }), 'satoさんが組織「見守建設」の契約終了の予約を取り消しました', 'sato cancelled the end of contract of “見守建設”'],
  [row('org.deleted', { actor: 'system', detail: { orgId: 'org_1', orgName: '見守建設', users: 5, cameras: 40 } }), '契約終了に伴い、システムが組織「見守建設」とそのすべてのデータを削除しました', 'The system deleted the organisation “見守建設” and all its data at the end of its contract'],
  [row('master_key.rotate', { detail: { masterKeyId: 'mk_2', rewrapped: 40 } }), 'satoさんがマスターキーを更新しました（カメラ鍵 40 件を再暗号化）', 'sato replaced the master key (40 camera keys re-wrapped)'],
  [row('node.drain', { detail: { node: 'node-b', reason: 'maintenance' } }), 'satoさんがサーバーノード node-b の切り離し（ドレイン）を行いました', 'sato drained the server node node-b'],
  [row('camera.moved', { actor: 'node:node-b', cameraId: 'cam_gate', detail: { to: 'node-a' } }), 'サーバーノード node-bが「正門」を別のサーバーノードに引き継ぎました', 'Server node node-b handed 正門 over to another server node'],
  [row('audit.export', { detail: { format: 'json', filters: {}, rows: 100 } }), 'satoさんが監査ログを閲覧しました', 'sato viewed the audit log'],
  [row('audit.export', { detail: { format: 'csv', filters: {} } }), 'satoさんが監査ログを CSV 形式でダウンロードしました', 'sato downloaded the audit log as CSV'],
  [row('audit.change_refused', { outcome: 'refused', detail: { method: 'DELETE', path: '/api/audit' } }), 'satoさんが監査ログの変更（DELETE）を試みましたが、拒否されました。監査ログは変更できません', 'sato tried to change the audit log (DELETE), but was refused: it cannot be changed'],
  [row('audit.retention', { actor: 'system', detail: { removedDays: ['2025-12-01'], retentionDays: 365 } }), '保存期間（365 日）を過ぎた監査ログを削除しました', 'Audit entries older than the retention period (365 days) were removed'],
  [row('audit.migrate', { actor: 'system', detail: { from: 'db.json', rows: 1200 } }), '以前の保存形式から監査ログ 1200 件を移行しました', '1200 audit entries were carried over from the previous storage'],
  [row('audit.recovered', { actor: 'system', detail: { file: '2026-12-05.jsonl', droppedBytes: 120 } }), '書き込みの中断後、監査ログを修復しました', 'The audit log was repaired after an interrupted write'],
  [row('camera.delete', { outcome: 'error', cameraId: 'cam_gate' }), 'satoさんの操作「カメラの削除」（「正門」）は失敗しました', 'sato tried: Camera deleted on 正門 — failed'],
  [row('user.delete', { outcome: 'refused', actor: 'u:u_gone', detail: { userId: 'u_sato' } }), 'tanakaさん（削除済み）の操作「ユーザーの削除」は拒否されました', 'tanaka (deleted) tried: User deleted — refused'],
  [row('future.thing', { detail: { x: 1 } }), 'satoさんの操作: future.thing', 'sato: future.thing'],
  [row('future.thing', { outcome: 'refused' }), 'satoさんの操作: future.thing（拒否）', 'sato: future.thing — refused'],
];

const inBoth = (r: Row): [string, string] => {
  i18n.setLang('ja');
  const ja = auditSentence(r, names);
  i18n.setLang('en');
  return [ja, auditSentence(r, names)];
};

test('every row of the table reads as written, in Japanese and in English', () => {
  const wrong: string[] = [];
  for (const [r, ja, en] of TABLE) {
    const [gotJa, gotEn] = inBoth(r);
    if (gotJa !== ja) wrong.push(`${r.action} (${r.outcome}) ja:\n  want ${ja}\n  got  ${gotJa}`);
    if (gotEn !== en) wrong.push(`${r.action} (${r.outcome}) en:\n  want ${en}\n  got  ${gotEn}`);
  }
  assert.is(wrong.length, 0, wrong.join('\n'));
});

test('no audited action goes without its own sentence, label and category', () => {
  const tabled = new Set(TABLE.map(([r]) => r.action));
  const categorised = Object.values(AUDIT_CATEGORIES).flat() as string[];
  const missing: string[] = [];
  for (const action of AUDIT_ACTIONS) {
    if (GENERIC_ACTIONS.includes(action)) continue;
    if (!SENTENCES[action]) missing.push(`${action}: no sentence in SENTENCES`);
    if (!tabled.has(action)) missing.push(`${action}: no row in this table`);
    if (!i18n.hasMessage(`auditLog.label.${action}`)) missing.push(`${action}: no label auditLog.label.${action}`);
    if (categorised.filter((a) => a === action).length !== 1) missing.push(`${action}: in ${categorised.filter((a) => a === action).length} categories, not exactly 1`);
  }
  for (const action of Object.keys(SENTENCES)) if (!(AUDIT_ACTIONS as readonly string[]).includes(action)) missing.push(`${action}: a sentence for an action that is not audited`);
  assert.is(missing.length, 0, missing.join('\n'));
  // Nobody is left deliberately generic today; a new entry there must be a decision, not drift.
  assert.equal([...GENERIC_ACTIONS], []);
});

test('sentences name people and cameras, never their ids, and leave no placeholder', () => {
  for (const [r] of TABLE) {
    for (const text of inBoth(r)) {
      assert.not.match(text, /[{}]/, `${r.action}: a placeholder left in "${text}"`);
      assert.not.match(text, /\bu_(sato|suzuki)\b|\bcam_gate\b|\bkey_erp\b|\bkio_lobby\b|\bshr_1\b|\bgrp_hq\b|\bwh_1\b|\borg_1\b/, `${r.action}: an id where a name belongs in "${text}"`);
    }
    const [ja, en] = inBoth(r);
    assert.is.not(ja, en, `${r.action}: the same text in both languages`);
    if (r.cameraId === 'cam_gate') assert.ok(ja.includes('正門') && en.includes('正門'), `${r.action}: the camera is not named`);
  }
});

test('refused and failed rows read as attempts, not as done', () => {
  // A lock-out and a reused token are the service's own defence, said as such: no attempt to refuse.
  const defences = ['auth.lockout', 'auth.refresh_reused'];
  for (const [r] of TABLE) {
    if (r.outcome === 'ok' || defences.includes(r.action)) continue;
    const [ja, en] = inBoth(r);
    assert.match(ja, r.outcome === 'refused' ? /拒否/ : /失敗/, `${r.action}: ${ja}`);
    assert.match(en, r.outcome === 'refused' ? /refused/ : /failed/, `${r.action}: ${en}`);
  }
  const [okJa] = inBoth(row('live.view', { cameraId: 'cam_gate' }));
  const [refusedJa] = inBoth(row('live.view', { cameraId: 'cam_gate', outcome: 'refused' }));
  const [failedJa, failedEn] = inBoth(row('live.view', { cameraId: 'cam_gate', outcome: 'error' }));
  assert.is.not(okJa, refusedJa);
  assert.is(failedJa, 'satoさんが「正門」のライブ映像を視聴しようとしましたが、失敗しました');
  assert.is(failedEn, 'sato tried to watch 正門 live, but it failed');
});

test('something gone shows its id, or the name a row recorded, marked deleted', () => {
  const [ja, en] = inBoth(row('live.view', { actor: 'u:u_unknown', cameraId: 'cam_gone' }));
  assert.is(ja, 'u_unknownさんが「cam_gone」（削除済み）のライブ映像を視聴しました');
  assert.is(en, 'u_unknown watched cam_gone (deleted) live');
  const [jaKey] = inBoth(row('api_key.revoke', { detail: { keyId: 'key_old', name: '旧連携' } }));
  assert.is(jaKey, 'satoさんがAPIキー「旧連携」を無効にしました');
});

test('times follow the viewer\'s zone', () => {
  const r = row('export.create', { cameraId: 'cam_gate', detail: { fromMs: FROM, toMs: TO } });
  i18n.setTimeZone('UTC');
  try {
    i18n.setLang('en');
    assert.is(auditSentence(r, names), 'sato exported 正門, 01:02–01:05');
  } finally {
    i18n.setTimeZone('Asia/Tokyo');
  }
  i18n.setLang('ja');
  assert.is(auditSentence(r, names), 'satoさんが「正門」の録画（10:02–10:05）を書き出しました');
});

test('action labels: known ones named, unknown ones as they are', () => {
  i18n.setLang('ja');
  assert.is(actionLabel('export.create'), '書き出し');
  assert.is(actionLabel('future.thing'), 'future.thing');
  i18n.setLang('en');
  assert.is(actionLabel('export.create'), 'Export');
});

test.run();
