// Which backup generations to keep. Pure: generations in, a verdict per generation out. backUp
// deletes exactly those without a reason to stay, and `mimamori backups` shows the same verdicts.
//
// Kept: the newest `daily` generations (one a day on the default schedule), and the first
// generation of each calendar month (UTC) for the newest `monthly` months that have one. The first,
// not the last: a month's keeper is fixed by its first backup and never moves, so nothing is kept
// and then dropped as the month goes on. Months without a backup (the service was down) are not
// counted, as restic's and borg's keep-monthly do: a gap makes the kept span longer, never shorter.
//
// Adding a newer generation only ever takes reasons away from older ones, and a listing that
// misses some generations (an S3-compatible store that lists late) only keeps more: a generation
// without a reason now will be deleted by the next backup, and nothing else will.

export interface Retention {
  /** The newest generations kept. At least 1: the backup just made always stays. */
  daily: number;
  /** Months (UTC) whose first generation is kept, the newest months that have one; 0 = none. */
  monthly: number;
}

/** The seed specification's "daily system backup, 7 generations", and five years of backup data (60 months). */
export const DEFAULT_RETENTION: Readonly<Retention> = Object.freeze({ daily: 7, monthly: 60 });

export type KeptAs = 'daily' | 'monthly' | 'daily+monthly';

export interface RetentionVerdict<G> {
  generation: G;
  /** the generation's calendar month in UTC, e.g. 2026-11 */
  month: string;
  /** why it stays; undefined: delete it */
  keptAs: KeptAs | undefined;
  /** the same in words, for logs, the command line and tests */
  reason: string;
}

/** Programmer errors: the configuration is validated with its own messages (config/index.ts). */
export function checkRetention(r: Retention): void {
  if (!Number.isInteger(r.daily) || r.daily < 1) throw new TypeError(`retention.daily must be a whole number ≥ 1 (the backup just made stays), not ${r.daily}`);
  if (!Number.isInteger(r.monthly) || r.monthly < 0) throw new TypeError(`retention.monthly must be a whole number ≥ 0, not ${r.monthly}`);
}

export function monthOf(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 7);
}

/** A verdict for every generation, oldest first (whatever order they come in). */
export function decideRetention<G extends { name: string; atMs: number }>(generations: readonly G[], retention: Retention): RetentionVerdict<G>[] {
  checkRetention(retention);
  const { daily, monthly } = retention;
  if (generations.some((g) => !Number.isFinite(g.atMs))) throw new TypeError('decideRetention: every generation needs a finite atMs');
  const sorted = [...generations].sort((a, b) => a.atMs - b.atMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const firstOfMonth = new Map<string, G>(); // in time order, so the first set is the oldest
  for (const g of sorted) if (!firstOfMonth.has(monthOf(g.atMs))) firstOfMonth.set(monthOf(g.atMs), g);
  const months = [...firstOfMonth.keys()];
  const keptMonths = new Set(months.slice(months.length - Math.min(monthly, months.length)));
  const firstDaily = sorted.length - Math.min(daily, sorted.length);
  const newest = daily === 1 ? 'the newest' : `one of the newest ${daily}`;

  return sorted.map((generation, i) => {
    const month = monthOf(generation.atMs);
    const first = firstOfMonth.get(month)!;
    const isDaily = i >= firstDaily;
    const isMonthly = first === generation && keptMonths.has(month);
    const monthlyWhy = `the first of ${month} (UTC), one of the newest ${monthly} months with a backup`;
    let keptAs: KeptAs | undefined;
    let reason: string;
    if (isDaily && isMonthly) [keptAs, reason] = ['daily+monthly', `${newest}, and ${monthlyWhy}`];
    else if (isDaily) [keptAs, reason] = ['daily', newest];
    else if (isMonthly) [keptAs, reason] = ['monthly', monthlyWhy];
    else if (monthly === 0) reason = `older than the newest ${daily}; monthly keeping is off`;
    else if (first !== generation) reason = `older than the newest ${daily}, and not the first of ${month} (UTC): ${first.name} is`;
    else reason = `older than the newest ${daily}, and ${month} is older than the newest ${monthly} months with a backup`;
    return { generation, month, keptAs, reason };
  });
}
