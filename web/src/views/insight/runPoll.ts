// After "run now": ask for the run history every 2 s until a run that was not
// there before has finished (done or failed), for at most 2 minutes.
import type { InsightRun } from '@/api/insight'

export const POLL_INTERVAL = 2_000
export const POLL_TIMEOUT = 120_000

export type PollOutcome = { kind: 'finished'; run: InsightRun } | { kind: 'timeout' } | { kind: 'cancelled' }

export interface PollOptions {
  /** the ids of the runs listed before the run was queued */
  known: Set<string>
  list: () => Promise<InsightRun[]>
  /** every answer, so the page shows progress */
  onRuns?: (runs: InsightRun[]) => void
  interval?: number
  timeout?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
  cancelled?: () => boolean
}

/** The newest run (by start time) that is new since `known`. */
export function newRun(runs: InsightRun[], known: Set<string>): InsightRun | null {
  const fresh = runs.filter((r) => !known.has(r.id))
  fresh.sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at))
  return fresh[0] ?? null
}

export async function pollRun(o: PollOptions): Promise<PollOutcome> {
  const interval = o.interval ?? POLL_INTERVAL
  const timeout = o.timeout ?? POLL_TIMEOUT
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const now = o.now ?? (() => Date.now())
  const until = now() + timeout
  while (now() < until) {
    await sleep(interval)
    if (o.cancelled?.()) return { kind: 'cancelled' }
    let runs: InsightRun[]
    try {
      runs = await o.list()
    } catch {
      continue // a failed poll is retried at the next tick
    }
    if (o.cancelled?.()) return { kind: 'cancelled' }
    o.onRuns?.(runs)
    const r = newRun(runs, o.known)
    if (r && (r.status === 'done' || r.status === 'failed')) return { kind: 'finished', run: r }
  }
  return { kind: 'timeout' }
}
