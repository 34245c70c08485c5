// Words for insight changes, shared by the insight panel's history and the
// timeline (kinds tier_changed, stage_changed, tag_added, tag_removed).
import { isStage } from '@/api/insight'

type T = (key: string, named?: Record<string, unknown>) => string

/** A stage code → its name in the UI language; anything else as it is; nothing → "—". */
export function stageName(t: T, v: unknown): string {
  if (v === null || v === undefined || v === '') return '—'
  return isStage(v) ? t('insight.stages.' + v) : String(v)
}

export function tierName(v: unknown): string {
  return v === null || v === undefined || v === '' ? '—' : String(v)
}

const empty = (v: unknown) => v === null || v === undefined || v === ''

/** One line for a change: "等级：C → B", "添加标签“华东高价值”". Unknown kinds give ''. */
export function changeText(t: T, kind: string, d: { from?: unknown; to?: unknown; tag?: unknown }): string {
  switch (kind) {
    case 'tier_changed':
      return empty(d.from) ? t('insight.change.tierFirst', { to: tierName(d.to) }) : t('insight.change.tier', { from: tierName(d.from), to: tierName(d.to) })
    case 'stage_changed':
      return empty(d.from)
        ? t('insight.change.stageFirst', { to: stageName(t, d.to) })
        : t('insight.change.stage', { from: stageName(t, d.from), to: stageName(t, d.to) })
    case 'tag_added':
      return t('insight.change.tagAdded', { tag: String(d.tag ?? d.to ?? '') })
    case 'tag_removed':
      return t('insight.change.tagRemoved', { tag: String(d.tag ?? d.from ?? '') })
    default:
      return ''
  }
}

/**
 * An explanation stored in both languages (`{"zh-CN": "…", "en": "…"}`, as
 * timeline entries keep it) or already one string (the insight view): the
 * text in `locale`, else the other one.
 */
export function localized(v: unknown, locale: string): string {
  if (typeof v === 'string') return v
  if (!v || typeof v !== 'object') return ''
  const o = v as Record<string, unknown>
  const want = locale === 'en' ? ['en', 'zh-CN', 'zh'] : ['zh-CN', 'zh', 'en']
  for (const k of want) if (typeof o[k] === 'string' && o[k]) return o[k] as string
  const any = Object.values(o).find((x) => typeof x === 'string' && x)
  return typeof any === 'string' ? any : ''
}

export const INSIGHT_KINDS = ['tier_changed', 'stage_changed', 'tag_added', 'tag_removed'] as const

export function isInsightKind(k: string): boolean {
  return (INSIGHT_KINDS as readonly string[]).includes(k)
}

/** 0.934 → "93%"; null → "—". */
export function percent(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—'
  return `${Math.round(p * 100)}%`
}

/** 2.71 → "2.7". */
export function oneDecimal(n: number | null | undefined, locale = 'zh-CN'): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—'
  return new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'zh-CN', { maximumFractionDigits: 1, minimumFractionDigits: 0 }).format(n)
}
