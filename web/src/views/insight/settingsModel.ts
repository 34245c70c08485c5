// The insight settings form: the API speaks 分 (fen), people type 元 (yuan).
// Converting here (and only here) keeps the page free of arithmetic and lets
// the tests pin down rounding.
import { TIERS, type InsightSettings, type InsightSettingsBody } from '@/api/insight'

/** 8000000 分 → 80000 元 (exact: at most two decimals). */
export function fenToYuan(fen: number | null | undefined): number {
  if (fen === null || fen === undefined || !Number.isFinite(fen)) return 0
  return Math.round(fen) / 100
}

/**
 * 80000.5 元 → 8000050 分. Rounds to the nearest 分 (0.1 + 0.2 style float
 * noise must not turn 19.99 into 1998); NaN and empty become 0.
 */
export function yuanToFen(yuan: number | string | null | undefined): number {
  const n = typeof yuan === 'string' ? Number(yuan.replace(/[,，\s¥]/g, '')) : yuan
  if (n === null || n === undefined || !Number.isFinite(n)) return 0
  return Math.round(n * 100)
}

export interface MarginRow {
  category: string
  pct: number
}

/** What the form edits: money in yuan, the margin map as rows. */
export interface SettingsForm {
  tier: {
    method: string
    a_min_yuan: number
    b_min_yuan: number
    c_min_yuan: number
    a_pct: number
    b_pct: number
    c_pct: number
    min_stay_days: number
    upgrade_immediately: boolean
  }
  classes: {
    frequency_high_min: number
    frequency_mid_min: number
    amount_large_min_yuan: number
    amount_mid_min_yuan: number
    diversified_min_categories: number
  }
  lifecycle: InsightSettingsBody['lifecycle']
  model: InsightSettingsBody['model']
  costs: {
    default_margin_pct: number
    margins: MarginRow[]
    cost_per_order_yuan: number
    hourly_cost_yuan: number
    hours_per_year: Record<string, number>
  }
  schedule: { cron: string }
}

export function toForm(s: InsightSettings | InsightSettingsBody): SettingsForm {
  const hours: Record<string, number> = {}
  for (const t of TIERS) hours[t] = s.costs.hours_per_year?.[t] ?? 0 // HoursPerTier: A–D
  return {
    tier: {
      method: s.tier.method,
      a_min_yuan: fenToYuan(s.tier.a_min_fen),
      b_min_yuan: fenToYuan(s.tier.b_min_fen),
      c_min_yuan: fenToYuan(s.tier.c_min_fen),
      a_pct: s.tier.a_pct,
      b_pct: s.tier.b_pct,
      c_pct: s.tier.c_pct,
      min_stay_days: s.tier.min_stay_days,
      upgrade_immediately: s.tier.upgrade_immediately,
    },
    classes: {
      frequency_high_min: s.classes.frequency_high_min,
      frequency_mid_min: s.classes.frequency_mid_min,
      amount_large_min_yuan: fenToYuan(s.classes.amount_large_min_fen),
      amount_mid_min_yuan: fenToYuan(s.classes.amount_mid_min_fen),
      diversified_min_categories: s.classes.diversified_min_categories,
    },
    lifecycle: { ...s.lifecycle },
    model: { ...s.model },
    costs: {
      default_margin_pct: s.costs.default_margin_pct,
      margins: Object.entries(s.costs.margin_pct_by_category ?? {}).map(([category, pct]) => ({ category, pct })),
      cost_per_order_yuan: fenToYuan(s.costs.cost_per_order_fen),
      hourly_cost_yuan: fenToYuan(s.costs.hourly_cost_fen),
      hours_per_year: hours,
    },
    schedule: { cron: s.schedule.cron },
  }
}

/** The PUT body (no `version`): yuan back to 分, rows back to a map (blank categories left out). */
export function toBody(f: SettingsForm): InsightSettingsBody {
  const margins: Record<string, number> = {}
  for (const r of f.costs.margins) {
    const c = r.category.trim()
    if (c) margins[c] = r.pct
  }
  return {
    tier: {
      method: f.tier.method,
      a_min_fen: yuanToFen(f.tier.a_min_yuan),
      b_min_fen: yuanToFen(f.tier.b_min_yuan),
      c_min_fen: yuanToFen(f.tier.c_min_yuan),
      a_pct: f.tier.a_pct,
      b_pct: f.tier.b_pct,
      c_pct: f.tier.c_pct,
      min_stay_days: f.tier.min_stay_days,
      upgrade_immediately: f.tier.upgrade_immediately,
    },
    classes: {
      frequency_high_min: f.classes.frequency_high_min,
      frequency_mid_min: f.classes.frequency_mid_min,
      amount_large_min_fen: yuanToFen(f.classes.amount_large_min_yuan),
      amount_mid_min_fen: yuanToFen(f.classes.amount_mid_min_yuan),
      diversified_min_categories: f.classes.diversified_min_categories,
    },
    lifecycle: { ...f.lifecycle },
    model: { ...f.model },
    costs: {
      default_margin_pct: f.costs.default_margin_pct,
      margin_pct_by_category: margins,
      cost_per_order_fen: yuanToFen(f.costs.cost_per_order_yuan),
      hourly_cost_fen: yuanToFen(f.costs.hourly_cost_yuan),
      hours_per_year: { A: f.costs.hours_per_year.A ?? 0, B: f.costs.hours_per_year.B ?? 0, C: f.costs.hours_per_year.C ?? 0, D: f.costs.hours_per_year.D ?? 0 },
    },
    schedule: { cron: f.schedule.cron.trim() },
  }
}

/**
 * A server field error (`tier.b_min_fen`, `costs.margin_pct_by_category.家电`,
 * `costs.hours_per_year.A`) → the key the form shows it under: the wire name
 * (the yuan inputs are shown under their 分 field's name), except that the
 * margin table collects every per-category error in one place.
 */
export function formErrorKey(field: string): string {
  if (/^costs\.margin_pct_by_category\b/.test(field)) return 'costs.margin_pct_by_category'
  const hours = /^costs\.hours_per_year(?:\.|\[)/.exec(field)
  if (hours) return field.replace(/\[["']?([A-D])["']?\]$/, '.$1')
  return field
}

export function formErrors(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(fields)) {
    const key = formErrorKey(k)
    out[key] = out[key] ? `${out[key]} ${v}` : v
  }
  return out
}

const ALWAYS_SHOWN = [
  'tier.method',
  'tier.min_stay_days',
  'tier.upgrade_immediately',
  'classes.frequency_high_min',
  'classes.frequency_mid_min',
  'classes.amount_large_min_fen',
  'classes.amount_mid_min_fen',
  'classes.diversified_min_categories',
  'lifecycle.new_days',
  'lifecycle.default_interval_days',
  'lifecycle.min_interval_days',
  'lifecycle.at_risk_factor',
  'lifecycle.churn_factor',
  'lifecycle.churn_max_days',
  'lifecycle.loyal_min_purchase_days',
  'lifecycle.loyal_min_tenure_days',
  'lifecycle.won_back_days',
  'model.clv_months',
  'model.monthly_discount_pct',
  'costs.default_margin_pct',
  'costs.margin_pct_by_category',
  'costs.cost_per_order_fen',
  'costs.hourly_cost_fen',
  'costs.hours_per_year',
  ...TIERS.map((t) => `costs.hours_per_year.${t}`),
  'schedule.cron',
]
const THRESHOLDS = ['tier.a_min_fen', 'tier.b_min_fen', 'tier.c_min_fen']
const PARETO = ['tier.a_pct', 'tier.b_pct', 'tier.c_pct']

/**
 * Field errors the form cannot show next to an input right now (a field of
 * the other tier method, or one the form does not know): they go to a
 * notification instead of vanishing.
 */
export function unshownErrors(errors: Record<string, string>, method: string): string[] {
  const shown = new Set([...ALWAYS_SHOWN, ...(method === 'pareto' ? PARETO : THRESHOLDS)])
  return Object.entries(errors)
    .filter(([k]) => !shown.has(k))
    .map(([, v]) => v)
}
