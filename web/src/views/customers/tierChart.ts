// Geometry of the small tier history step chart (inline SVG, no chart library).
// Tiers are levels (A at the top, D at the bottom); time runs left to right
// from a short lead-in before the first change to "now".
import { isTier, type HistoryEntry, type Tier } from '@/api/insight'

const LEVEL: Record<Tier, number> = { A: 3, B: 2, C: 1, D: 0 }
const DAY = 86_400_000

export interface TierStep {
  tier: Tier
  /** ms since the epoch */
  start: number
  end: number
  /** the tier before the first recorded change (no change dot) */
  leadIn?: boolean
}

export interface ChartBox {
  width: number
  height: number
  /** room for the tier labels on the left */
  left: number
  top: number
  bottom: number
  right: number
}

export const DEFAULT_BOX: ChartBox = { width: 480, height: 120, left: 22, top: 10, bottom: 20, right: 10 }

export interface TierChart {
  /** the step line: `M x y H x V y …` */
  path: string
  /** a dot at every change (where the new tier starts) */
  points: { x: number; y: number; tier: Tier; at: number }[]
  /** the tier labels on the left */
  levels: { tier: Tier; y: number }[]
  /** first and last dates under the x axis */
  startLabel: number
  endLabel: number
}

/**
 * The tier over time from the insight `history` (newest first, any kinds):
 * every `tier_changed` starts a step that lasts until the next one (or `now`);
 * the first change's `from` tier, when known, gets a lead-in step.
 */
export function tierSteps(history: HistoryEntry[], now: number): TierStep[] {
  const changes = history
    .filter((h) => h.kind === 'tier_changed' && isTier(h.to))
    .map((h) => ({ at: Date.parse(h.at), from: h.from, to: h.to as Tier }))
    .filter((c) => Number.isFinite(c.at))
    .sort((a, b) => a.at - b.at)
  if (!changes.length) return []
  const first = changes[0]!
  const end = Math.max(now, changes[changes.length - 1]!.at)
  const steps: TierStep[] = []
  if (isTier(first.from)) {
    // a lead-in of a sixth of the span (at least a day) shows where it came from
    const lead = Math.max((end - first.at) / 6, DAY)
    steps.push({ tier: first.from, start: first.at - lead, end: first.at, leadIn: true })
  }
  changes.forEach((c, i) => {
    const next = changes[i + 1]
    steps.push({ tier: c.to, start: c.at, end: next ? next.at : end })
  })
  return steps
}

/** Pixel geometry of the steps inside `box`. */
export function tierChart(steps: TierStep[], box: ChartBox = DEFAULT_BOX): TierChart | null {
  if (!steps.length) return null
  const t0 = steps[0]!.start
  const t1 = steps[steps.length - 1]!.end
  const span = t1 - t0 || 1
  const plotW = box.width - box.left - box.right
  const plotH = box.height - box.top - box.bottom
  const round = (n: number) => Math.round(n * 10) / 10
  const x = (t: number) => round(box.left + ((t - t0) / span) * plotW)
  const y = (tier: Tier) => round(box.top + ((3 - LEVEL[tier]) / 3) * plotH)
  let path = ''
  const points: TierChart['points'] = []
  steps.forEach((s, i) => {
    path += i === 0 ? `M${x(s.start)} ${y(s.tier)}` : ` V${y(s.tier)}`
    path += ` H${x(s.end)}`
    if (!s.leadIn) points.push({ x: x(s.start), y: y(s.tier), tier: s.tier, at: s.start })
  })
  return {
    path,
    points,
    levels: (['A', 'B', 'C', 'D'] as Tier[]).map((tier) => ({ tier, y: y(tier) })),
    startLabel: t0,
    endLabel: t1,
  }
}
