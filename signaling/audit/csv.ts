// Audit rows as CSV for spreadsheets. Excel in Japan opens a CSV as Shift_JIS unless it starts
// with a UTF-8 byte-order mark, so exports begin with one.
import type { AuditRow } from './actions.ts';

export const CSV_BOM = '\uFEFF';

const COLUMNS = ['time', 'time_utc', 'actor', 'action', 'outcome', 'camera_id', 'org_id', 'ip', 'request_id', 'user_agent', 'detail', 'seq', 'hash'] as const;

export function csvHeader(timeZone: string): string {
  // The zone is named in the first column's header, so a reader knows what "time" means.
  return `${COLUMNS.map((c) => (c === 'time' ? `time (${timeZone})` : c)).join(',')}\r\n`;
}

export function csvRow(row: AuditRow, timeZone: string): string {
  const cells = [
    localTime(row.at, timeZone),
    row.at,
    row.actor,
    row.action,
    row.outcome,
    row.cameraId,
    row.orgId,
    row.ip,
    row.requestId,
    row.userAgent,
    row.detail === undefined ? undefined : JSON.stringify(row.detail),
    String(row.seq),
    row.hash,
  ];
  return `${cells.map(cell).join(',')}\r\n`;
}

function cell(value: string | undefined): string {
  if (value === undefined) return '';
  // A cell starting with = + - @ would run as a formula in Excel: user names and file names
  // reach this log, so such cells are prefixed with a quote mark (OWASP CSV injection).
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const formats = new Map<string, Intl.DateTimeFormat>();
/** `YYYY-MM-DD HH:mm:ss` in the zone: sortable, and read by Excel as a date in both languages. */
export function localTime(iso: string, timeZone: string): string {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const p = Object.fromEntries(f.formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}
