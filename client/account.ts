// The signed-in user's own account: the sign-in form (with the authenticator code when the server
// asks for it), and a small account section — sign out everywhere, two-step sign-in (TOTP) set-up
// and removal, password change.
import { api, ApiError, auth, type User } from './api.ts';
import { bindText, formatDateTime, t, type MessageKey } from './i18n.ts';
import { errorMessage, h, Notice, tx } from './ui.ts';

/** Codes of the account routes, each with its own sentence in i18n (account.error.*). */
const ACCOUNT_ERRORS = new Set([
  'account_locked',
  'too_many_attempts',
  'totp_required',
  'totp_invalid',
  'weak_password',
  'wrong_password',
  'session_revoked',
  'session_expired',
  'refresh_reused',
  'totp_already_enabled',
]);

/** A server refusal in the chosen language, with the server's detail where it helps (when, why). */
export function accountErrorMessage(err: unknown): string {
  if (err instanceof ApiError && ACCOUNT_ERRORS.has(err.code)) return t(`account.error.${err.code}` as MessageKey, { detail: err.message });
  return errorMessage(err);
}

/** The sign-in form; the code field appears when the account has a second factor. */
export function signInForm(onSignedIn: (user: User) => void, notice?: MessageKey): HTMLElement {
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const totp = h('input', { id: 'totp', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 });
  const totpRow = h('div', { class: 'stack', hidden: true }, h('label', { for: 'totp' }, tx('span', 'account.totp.code')), totp);
  const submit = tx('button', 'login.submit', { type: 'submit', class: 'primary' });
  const message = new Notice('alert');
  if (notice) message.show({ key: notice });
  const form = h(
    'form',
    { class: 'card login', id: 'login-form' },
    tx('h1', 'login.title'),
    h('label', { for: 'username' }, tx('span', 'login.username')),
    username,
    h('label', { for: 'password' }, tx('span', 'login.password')),
    password,
    totpRow,
    message.el,
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    bindText(submit, 'login.busy');
    message.clear();
    try {
      const code = totpRow.hidden ? undefined : totp.value.trim();
      const { token, user, expiresAt } = await api.login(username.value.trim(), password.value, code || undefined);
      auth.save(token, user, expiresAt);
      onSignedIn(user);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'totp_required' || err.code === 'totp_invalid')) {
        totpRow.hidden = false;
        message.show(accountErrorMessage(err), err.code === 'totp_required' ? 'info' : 'error');
        totp.value = '';
        totp.focus();
      } else {
        message.show(accountErrorMessage(err), 'error');
        password.select();
      }
    } finally {
      submit.disabled = false;
      bindText(submit, 'login.submit');
    }
  });
  queueMicrotask(() => username.focus());
  return form;
}

/** The account section under a signed-in page. `onSignedOut`: every session ended, back to the form. */
export class AccountPanel {
  readonly el: HTMLDetailsElement;
  readonly #body = h('div', { class: 'stack' });
  readonly #notice = new Notice('status');
  readonly #onSignedOut: () => void;
  #loaded = false;

  constructor(onSignedOut: () => void) {
    this.#onSignedOut = onSignedOut;
    this.el = h('details', { class: 'card account', id: 'account' }, tx('summary', 'account.title'), this.#notice.el, this.#body);
    this.el.addEventListener('toggle', () => {
      if (this.el.open && !this.#loaded) void this.#load();
    });
  }

  async #load(): Promise<void> {
    this.#loaded = true;
    try {
      const info = await api.account();
      this.#render(info.totpEnabled, info.sessions.length);
    } catch (err) {
      this.#loaded = false;
      this.#notice.show(accountErrorMessage(err), 'error');
    }
  }

  #render(totpEnabled: boolean, sessions: number): void {
    const everywhere = tx('button', 'account.logoutAll', { type: 'button', id: 'logout-all' });
    everywhere.addEventListener('click', async () => {
      if (!confirm(t('account.logoutAllConfirm'))) return;
      try {
        await api.logoutAll();
        this.#onSignedOut();
      } catch (err) {
        this.#notice.show(accountErrorMessage(err), 'error');
      }
    });
    this.#body.replaceChildren(
      h('p', {}, t('account.sessions', { count: sessions })),
      everywhere,
      totpEnabled ? this.#totpOff() : this.#totpOn(),
      this.#passwordForm(),
    );
  }

  /** Set-up: the secret and its otpauth link (an authenticator app on this phone opens it), then the first code. */
  #totpOn(): HTMLElement {
    const start = tx('button', 'account.totp.start', { type: 'button', id: 'totp-start' });
    const box = h('section', { class: 'stack' }, tx('h3', 'account.totp.title'), tx('p', 'account.totp.off'), start);
    start.addEventListener('click', async () => {
      try {
        const { secret, uri } = await api.totpSetup();
        const code = h('input', { id: 'totp-confirm-code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, required: true });
        const form = h(
          'form',
          { class: 'stack', id: 'totp-confirm' },
          tx('p', 'account.totp.scan'),
          h('code', { class: 'secret', id: 'totp-secret' }, secret.replace(/(.{4})/g, '$1 ').trim()),
          h('a', { href: uri, id: 'totp-uri' }, t('account.totp.openApp')),
          h('label', { for: 'totp-confirm-code' }, tx('span', 'account.totp.code')),
          code,
          tx('button', 'account.totp.confirm', { type: 'submit', class: 'primary' }),
        );
        form.addEventListener('submit', async (ev) => {
          ev.preventDefault();
          try {
            await api.totpConfirm(code.value.trim());
            this.#notice.show({ key: 'account.totp.enabled' }, 'ok');
            this.#loaded = false;
            await this.#load();
          } catch (err) {
            this.#notice.show(accountErrorMessage(err), 'error');
          }
        });
        box.replaceChildren(tx('h3', 'account.totp.title'), form);
      } catch (err) {
        this.#notice.show(accountErrorMessage(err), 'error');
      }
    });
    return box;
  }

  #totpOff(): HTMLElement {
    const password = h('input', { type: 'password', autocomplete: 'current-password', required: true, id: 'totp-off-password' });
    const code = h('input', { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, required: true, id: 'totp-off-code' });
    const form = h(
      'form',
      { class: 'stack', id: 'totp-off' },
      tx('h3', 'account.totp.title'),
      tx('p', 'account.totp.on'),
      h('label', { for: 'totp-off-password' }, tx('span', 'login.password')),
      password,
      h('label', { for: 'totp-off-code' }, tx('span', 'account.totp.code')),
      code,
      tx('button', 'account.totp.disable', { type: 'submit' }),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api.totpDisable(password.value, code.value.trim());
        this.#notice.show({ key: 'account.totp.disabled' }, 'ok');
        this.#loaded = false;
        await this.#load();
      } catch (err) {
        this.#notice.show(accountErrorMessage(err), 'error');
      }
    });
    return form;
  }

  #passwordForm(): HTMLElement {
    const current = h('input', { type: 'password', autocomplete: 'current-password', required: true, id: 'password-current' });
    const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 12, id: 'password-next' });
    const form = h(
      'form',
      { class: 'stack', id: 'password-change' },
      tx('h3', 'account.password.title'),
      tx('p', 'account.password.rule'),
      h('label', { for: 'password-current' }, tx('span', 'account.password.current')),
      current,
      h('label', { for: 'password-next' }, tx('span', 'account.password.next')),
      next,
      tx('button', 'account.password.submit', { type: 'submit' }),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api.changePassword(current.value, next.value);
        form.reset();
        this.#notice.show({ key: 'account.password.changed', params: { at: formatDateTime(Date.now(), 'time') } }, 'ok');
      } catch (err) {
        this.#notice.show(accountErrorMessage(err), 'error');
      }
    });
    return form;
  }
}
