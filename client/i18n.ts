// The one translation layer of the browser pages: Japanese and English dictionaries, the chosen
// language and time zone (remembered in localStorage), and date/time formatting through Intl.
// Every user-facing string goes through t(); elements bound with bindText()/bindAttr() are
// re-translated in place when the language changes, so nothing has to be rebuilt.
import { storage } from './storage.ts';

const en = {
  'app.name': 'Mimamori',
  'nav.live': 'Live view',
  'nav.camera': 'Publish a camera',
  'locale.language': 'Language',
  'locale.timeZone': 'Time zone',
  'common.copy': 'Copy',
  'common.copied': 'Copied',
  'common.close': 'Close',
  'common.loading': 'Loading…',

  'login.title': 'Sign in',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.busy': 'Signing in…',
  'login.sessionEnded': 'Your session ended. Please sign in again.',
  'login.signedInAs': '{name} ({role})',
  'login.logout': 'Sign out',
  'role.admin': 'administrator',
  'role.viewer': 'viewer',

  'error.invalid_credentials': 'Wrong username or password.',
  'error.unauthorized': 'Please sign in again.',
  'error.token_expired': 'Your session expired. Please sign in again.',
  'error.forbidden': 'You are not allowed to do this.',
  'error.network': 'Cannot reach the server. Check the network connection and try again.',
  'error.timeout': 'The server did not answer in time. Try again.',
  'error.rate_limited': 'Too many requests. Wait a moment and try again.',
  'error.username_taken': 'This username is already taken. Choose another.',
  'error.invalid_request': 'Some input is not valid: {detail}',
  'error.camera_not_found': 'This camera does not exist or you may not view it.',
  'error.user_not_found': 'This user does not exist.',
  'error.invalid_camera_secret': 'The camera ID or secret is wrong. Copy the camera link again from the admin page.',
  'error.internal': 'The server could not handle the request. Try again later.',
  'error.generic': 'Error: {message}',

  'state.connecting': 'Connecting',
  'state.live': 'Live',
  'state.reconnecting': 'Reconnecting',
  'state.offline': 'Offline',
  'state.denied': 'No access',
  'state.error': 'Error',

  'grid.layout': 'Layout',
  'grid.cameras': 'Cameras',
  'grid.noCameras': 'No cameras to show yet.',
  'grid.noCamerasAdmin': 'No cameras yet. Add one in the administration panel below.',
  'grid.page': 'Page {page} of {pages}',
  'grid.prev': 'Previous',
  'grid.next': 'Next',
  'grid.back': 'Back to the grid',
  'grid.soundOn': 'Sound on',
  'grid.soundOff': 'Mute',
  'grid.open': 'Open {name} in single view',
  'grid.unsupported': 'This browser cannot play WebRTC video. Use a current Chrome, Edge, Firefox or Safari.',

  'admin.title': 'Administration',
  'admin.cameras': 'Cameras',
  'admin.cameraName': 'Camera name',
  'admin.cameraId': 'ID',
  'admin.addCamera': 'Add camera',
  'admin.secretOnce': 'Secret of “{name}” — shown only this once, keep it safe:',
  'admin.cameraLink': 'Open this link on the device that films (phone or PC) to start publishing:',
  'admin.copyLink': 'Copy link',
  'admin.rotate': 'Renew secret',
  'admin.confirmRotate': 'Renew the secret of “{name}”? The camera has to use the new link afterwards.',
  'admin.delete': 'Delete',
  'admin.confirmDelete': 'Delete the camera “{name}” and every recording of it? Nobody will be able to watch it any more, and this cannot be undone.',
  'admin.recording': 'Recording',
  'admin.recordingOn': 'Record continuously',
  'admin.retention': 'Keep recordings for',
  'admin.retentionDays': '{days} days',
  'admin.recordingSaved': 'Recording settings of “{name}” saved.',
  'admin.users': 'Users and viewing permissions',
  'admin.username': 'Username',
  'admin.password': 'Password (10 characters or more)',
  'admin.role': 'Role',
  'admin.addUser': 'Add user',
  'admin.userAdded': 'User “{name}” was added.',
  'admin.allCameras': 'All cameras',
  'admin.grant': '{user} may view {camera}',
  'admin.noCameras': 'No cameras yet.',
  'admin.publishHere': 'Publish from this device',

  'camera.title': 'Camera',
  'camera.pick': 'Choose the camera to publish as:',
  'camera.start': 'Start publishing',
  'camera.needLink': 'Open the camera link from the administration page on this device, or sign in as an administrator.',
  'camera.name': 'Camera: {name}',
  'camera.state.idle': 'Ready',
  'camera.state.starting': 'Starting the camera',
  'camera.state.connecting': 'Connecting',
  'camera.state.live': 'Publishing',
  'camera.state.reconnecting': 'Reconnecting',
  'camera.state.stopped': 'Stopped',
  'camera.stopped.replaced': 'This camera is now publishing from another device, so this one stopped.',
  'camera.stopped.deleted': 'An administrator deleted this camera.',
  'camera.stopped.other': 'The server stopped this camera: {reason}',
  'camera.state.error': 'Stopped',
  'camera.resume': 'Publish from this device again',
  'camera.bitrate': '{kbps} kbit/s',
  'camera.stats': '{codec} · {width}×{height} · {kbps} kbit/s',
  'camera.since': 'Publishing since {time}',
  'camera.error.permission': 'Camera or microphone access was denied. Allow it in the browser settings, then reload this page.',
  'camera.error.noDevice': 'No camera or microphone was found on this device.',
  'camera.error.insecure': 'Camera access needs a secure page. Open this page with https://.',
  'camera.error.unsupported': 'This browser cannot publish video over WebRTC. Use a current Chrome, Edge, Firefox or Safari.',
  'camera.error.media': 'The camera could not be started: {message}',
} as const;

export type MessageKey = keyof typeof en;
type Dictionary = Record<MessageKey, string>;

const ja: Dictionary = {
  'app.name': 'みまもり',
  'nav.live': 'ライブ映像',
  'nav.camera': 'カメラ配信',
  'locale.language': '言語',
  'locale.timeZone': 'タイムゾーン',
  'common.copy': 'コピー',
  'common.copied': 'コピーしました',
  'common.close': '閉じる',
  'common.loading': '読み込み中…',

  'login.title': 'ログイン',
  'login.username': 'ユーザー名',
  'login.password': 'パスワード',
  'login.submit': 'ログイン',
  'login.busy': 'ログイン中…',
  'login.sessionEnded': 'セッションが終了しました。もう一度ログインしてください。',
  'login.signedInAs': '{name}（{role}）',
  'login.logout': 'ログアウト',
  'role.admin': '管理者',
  'role.viewer': '閲覧者',

  'error.invalid_credentials': 'ユーザー名またはパスワードが違います。',
  'error.unauthorized': 'もう一度ログインしてください。',
  'error.token_expired': 'セッションの有効期限が切れました。もう一度ログインしてください。',
  'error.forbidden': 'この操作を行う権限がありません。',
  'error.network': 'サーバーに接続できません。ネットワーク接続を確認して、もう一度お試しください。',
  'error.timeout': 'サーバーから応答がありません。もう一度お試しください。',
  'error.rate_limited': 'リクエストが多すぎます。しばらく待ってからお試しください。',
  'error.username_taken': 'このユーザー名は既に使われています。別の名前を指定してください。',
  'error.invalid_request': '入力内容に誤りがあります: {detail}',
  'error.camera_not_found': 'このカメラは存在しないか、閲覧する権限がありません。',
  'error.user_not_found': 'このユーザーは存在しません。',
  'error.invalid_camera_secret': 'カメラIDまたはシークレットが違います。管理画面からカメラ用リンクをもう一度コピーしてください。',
  'error.internal': 'サーバーで処理できませんでした。しばらくしてからお試しください。',
  'error.generic': 'エラー: {message}',

  'state.connecting': '接続中',
  'state.live': 'ライブ',
  'state.reconnecting': '再接続中',
  'state.offline': 'オフライン',
  'state.denied': '閲覧不可',
  'state.error': 'エラー',

  'grid.layout': 'レイアウト',
  'grid.cameras': 'カメラ一覧',
  'grid.noCameras': '表示できるカメラはまだありません。',
  'grid.noCamerasAdmin': 'カメラはまだありません。下の管理パネルから追加してください。',
  'grid.page': '{page} / {pages} ページ',
  'grid.prev': '前へ',
  'grid.next': '次へ',
  'grid.back': '一覧に戻る',
  'grid.soundOn': '音声オン',
  'grid.soundOff': '消音',
  'grid.open': '{name} を1画面で表示',
  'grid.unsupported': 'このブラウザーではWebRTC映像を再生できません。最新のChrome、Edge、Firefox、Safariをお使いください。',

  'admin.title': '管理',
  'admin.cameras': 'カメラ',
  'admin.cameraName': 'カメラ名',
  'admin.cameraId': 'ID',
  'admin.addCamera': 'カメラを追加',
  'admin.secretOnce': '「{name}」のシークレット（この一度だけ表示されます。安全に保管してください）:',
  'admin.cameraLink': '撮影する端末（スマートフォンやPC）でこのリンクを開くと配信が始まります:',
  'admin.copyLink': 'リンクをコピー',
  'admin.rotate': 'シークレット再発行',
  'admin.confirmRotate': '「{name}」のシークレットを再発行しますか？ 以後、カメラは新しいリンクを使う必要があります。',
  'admin.delete': '削除',
  'admin.confirmDelete': 'カメラ「{name}」とその録画をすべて削除しますか？ 誰も閲覧できなくなり、元に戻せません。',
  'admin.recording': '録画',
  'admin.recordingOn': '常時録画',
  'admin.retention': '録画の保存期間',
  'admin.retentionDays': '{days}日間',
  'admin.recordingSaved': '「{name}」の録画設定を保存しました。',
  'admin.users': 'ユーザーと閲覧権限',
  'admin.username': 'ユーザー名',
  'admin.password': 'パスワード（10文字以上）',
  'admin.role': '権限',
  'admin.addUser': 'ユーザーを追加',
  'admin.userAdded': 'ユーザー「{name}」を追加しました。',
  'admin.allCameras': '全カメラ',
  'admin.grant': '{user} に {camera} の閲覧を許可',
  'admin.noCameras': 'カメラはまだありません。',
  'admin.publishHere': 'この端末から配信',

  'camera.title': 'カメラ配信',
  'camera.pick': '配信するカメラを選んでください:',
  'camera.start': '配信開始',
  'camera.needLink': '管理画面のカメラ用リンクをこの端末で開くか、管理者としてログインしてください。',
  'camera.name': 'カメラ: {name}',
  'camera.state.idle': '待機中',
  'camera.state.starting': 'カメラを起動中',
  'camera.state.connecting': '接続中',
  'camera.state.live': '配信中',
  'camera.state.reconnecting': '再接続中',
  'camera.state.stopped': '停止',
  'camera.stopped.replaced': 'このカメラは別の端末から配信を始めたため、この端末での配信を停止しました。',
  'camera.stopped.deleted': 'このカメラは管理者によって削除されました。',
  'camera.stopped.other': 'サーバーがこのカメラの配信を停止しました: {reason}',
  'camera.state.error': '停止',
  'camera.resume': 'この端末で配信を再開',
  'camera.bitrate': '{kbps} kbit/s',
  'camera.stats': '{codec} · {width}×{height} · {kbps} kbit/s',
  'camera.since': '{time} から配信中',
  'camera.error.permission': 'カメラまたはマイクへのアクセスが拒否されました。ブラウザーの設定で許可してから、このページを再読み込みしてください。',
  'camera.error.noDevice': 'この端末にカメラまたはマイクが見つかりません。',
  'camera.error.insecure': 'カメラを使うには安全な接続が必要です。https:// でこのページを開いてください。',
  'camera.error.unsupported': 'このブラウザーはWebRTCでの映像配信に対応していません。最新のChrome、Edge、Firefox、Safariをお使いください。',
  'camera.error.media': 'カメラを起動できませんでした: {message}',
};

export type Lang = 'ja' | 'en';
export const LANGS: readonly Lang[] = ['ja', 'en'];
const LANG_NAMES: Record<Lang, string> = { ja: '日本語', en: 'English' };
const dictionaries: Record<Lang, Dictionary> = { ja, en };

export type Params = Record<string, string | number>;

const LANG_KEY = 'mimamori.lang';
const TZ_KEY = 'mimamori.timeZone';
export const DEFAULT_TIME_ZONE = 'Asia/Tokyo';

/** Japanese if any preferred language of the browser is Japanese, English otherwise. */
export function detectLang(languages: readonly string[]): Lang {
  return languages.some((l) => l.toLowerCase().startsWith('ja')) ? 'ja' : 'en';
}

function isLang(v: string | null): v is Lang {
  return v === 'ja' || v === 'en';
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

let currentLang: Lang = (() => {
  const saved = storage.get(LANG_KEY);
  return isLang(saved) ? saved : detectLang(navigator.languages?.length ? navigator.languages : [navigator.language]);
})();
let currentTimeZone: string = (() => {
  const saved = storage.get(TZ_KEY);
  return saved && isValidTimeZone(saved) ? saved : DEFAULT_TIME_ZONE;
})();
const listeners = new Set<() => void>();

export function lang(): Lang {
  return currentLang;
}
export function timeZone(): string {
  return currentTimeZone;
}

/** The BCP 47 locale for Intl: ja-JP, or the browser's own English variant (en-US by default). */
export function locale(): string {
  if (currentLang === 'ja') return 'ja-JP';
  return navigator.languages?.find((l) => l.toLowerCase().startsWith('en')) ?? 'en-US';
}

export function t(key: MessageKey, params?: Params): string {
  const template = dictionaries[currentLang][key] ?? en[key];
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** Called after the language or the time zone changed (for text that is not bound). */
export function onLocaleChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed(): void {
  document.documentElement.lang = currentLang;
  document.title = t('app.name') + (document.body?.dataset.titleKey ? ` — ${t(document.body.dataset.titleKey as MessageKey)}` : '');
  applyTranslations(document);
  for (const l of [...listeners]) {
    try {
      l();
    } catch (err) {
      console.error('locale listener failed', err);
    }
  }
}

export function setLang(next: Lang): void {
  if (next === currentLang) return;
  currentLang = next;
  storage.set(LANG_KEY, next);
  changed();
}

export function setTimeZone(tz: string): void {
  if (!isValidTimeZone(tz) || tz === currentTimeZone) return;
  currentTimeZone = tz;
  storage.set(TZ_KEY, tz);
  changed();
}

export type DateStyle = 'datetime' | 'date' | 'time';
const STYLES: Record<DateStyle, Intl.DateTimeFormatOptions> = {
  datetime: { dateStyle: 'medium', timeStyle: 'medium' },
  date: { dateStyle: 'medium' },
  time: { timeStyle: 'medium' },
};

/** A date/time in the viewer's time zone and the language's own date format. */
export function formatDateTime(value: Date | number | string, style: DateStyle = 'datetime'): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(locale(), { ...STYLES[style], timeZone: currentTimeZone }).format(date);
}

// --- Bound elements -----------------------------------------------------------------------------

interface Binding {
  key: MessageKey;
  params?: Params;
}
const bindings = new WeakMap<Element, { text?: Binding; attrs: Map<string, Binding> }>();

function bindingOf(el: Element) {
  let b = bindings.get(el);
  if (!b) bindings.set(el, (b = { attrs: new Map() }));
  el.setAttribute('data-i18n', '');
  return b;
}

/** Sets the element's text now and again whenever the language changes. */
export function bindText<E extends Element>(el: E, key: MessageKey, params?: Params): E {
  bindingOf(el).text = { key, params };
  el.textContent = t(key, params);
  return el;
}

/** Same for an attribute (placeholder, title, aria-label). */
export function bindAttr<E extends Element>(el: E, attr: string, key: MessageKey, params?: Params): E {
  bindingOf(el).attrs.set(attr, { key, params });
  el.setAttribute(attr, t(key, params));
  return el;
}

export function applyTranslations(root: ParentNode): void {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const b = bindings.get(el);
    if (!b) continue;
    if (b.text) el.textContent = t(b.text.key, b.text.params);
    for (const [attr, { key, params }] of b.attrs) el.setAttribute(attr, t(key, params));
  }
}

// --- Controls -----------------------------------------------------------------------------------

const COMMON_ZONES = [
  'Asia/Tokyo',
  'UTC',
  'Asia/Seoul',
  'Asia/Shanghai',
  'Asia/Taipei',
  'Asia/Singapore',
  'Asia/Bangkok',
  'Asia/Kolkata',
  'Australia/Sydney',
  'Europe/London',
  'Europe/Berlin',
  'America/New_York',
  'America/Los_Angeles',
  'Pacific/Honolulu',
];

function labelled(key: MessageKey, control: HTMLSelectElement): HTMLLabelElement {
  const label = document.createElement('label');
  label.className = 'locale-control';
  const span = bindText(document.createElement('span'), key);
  span.className = 'visually-hidden-sm';
  label.append(span, control);
  return label;
}

/** The language and time-zone selectors every page shows in its header. */
export function localeControls(): HTMLElement {
  const box = document.createElement('div');
  box.className = 'locale-controls';

  const langSelect = document.createElement('select');
  langSelect.id = 'lang-select';
  for (const l of LANGS) langSelect.add(new Option(LANG_NAMES[l], l, false, l === currentLang));
  langSelect.addEventListener('change', () => {
    if (isLang(langSelect.value)) setLang(langSelect.value);
  });

  const tzSelect = document.createElement('select');
  tzSelect.id = 'tz-select';
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zones = [...new Set([currentTimeZone, ...COMMON_ZONES, ...(own ? [own] : [])])].filter(isValidTimeZone);
  for (const z of zones) tzSelect.add(new Option(z.replace(/_/g, ' '), z, false, z === currentTimeZone));
  tzSelect.addEventListener('change', () => setTimeZone(tzSelect.value));

  box.append(labelled('locale.language', langSelect), labelled('locale.timeZone', tzSelect));
  return box;
}

/** Applies the language to <html lang> and the title once at start-up. */
export function initI18n(titleKey?: MessageKey): void {
  if (titleKey) document.body.dataset.titleKey = titleKey;
  document.documentElement.lang = currentLang;
  document.title = t('app.name') + (titleKey ? ` — ${t(titleKey)}` : '');
}
