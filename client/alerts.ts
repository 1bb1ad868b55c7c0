// Cameras that are online but not being recorded (the recorder's alerts for this organisation),
// shown at the top of the admin panel: a gap in recordings is found now, not when someone needs it.
import { adminApi, type RecorderAlert } from './adminApi.ts';
import { bindText, formatDateTime, onLocaleChange } from './i18n.ts';
import { h, tx } from './ui.ts';

const POLL_MS = 30_000;

export class RecorderAlerts {
  readonly el: HTMLElement;
  readonly #list: HTMLElement;
  readonly #poll: ReturnType<typeof setInterval>;
  readonly #offLocale: () => void;
  #alerts: RecorderAlert[] = [];
  #names = new Map<string, string>();

  constructor() {
    this.#list = h('ul');
    this.el = h('section', { class: 'recorder-alerts', id: 'recorder-alerts', role: 'alert', hidden: true }, tx('h3', 'alerts.title'), this.#list);
    this.#poll = setInterval(() => void this.refresh(), POLL_MS);
    this.#offLocale = onLocaleChange(() => this.#render());
    void this.refresh();
  }

  setCameraNames(cameras: { id: string; name: string }[]): void {
    this.#names = new Map(cameras.map((c) => [c.id, c.name]));
    this.#render();
  }

  async refresh(): Promise<void> {
    try {
      this.#alerts = await adminApi.recorderAlerts();
      this.#render();
    } catch (err) {
      // Kept as they were; the next poll tries again.
      console.warn('could not load the recorder alerts', err);
    }
  }

  close(): void {
    clearInterval(this.#poll);
    this.#offLocale();
  }

  #render(): void {
    this.el.hidden = this.#alerts.length === 0;
    this.#list.replaceChildren(
      ...this.#alerts.map((a) =>
        bindText(h('li', { 'data-camera-id': a.cameraId }), a.kind === 'not_recording' ? 'alerts.notRecording' : a.kind === 'disk_full' ? 'alerts.diskFull' : 'alerts.other', {
          name: this.#names.get(a.cameraId) ?? a.cameraId,
          since: formatDateTime(a.sinceMs, 'short'),
          kind: a.kind,
        }),
      ),
    );
  }
}
