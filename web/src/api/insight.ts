// The insight API (docs/INSIGHT.md): tiers, lifecycle stages, RFM, predictions,
// at-risk signals, tag rules, runs and settings.
//
// Money is always in 分 (fen).
import { http, request } from './http'
import type * as T from './types'

export const TIERS = ['A', 'B', 'C', 'D'] as const
export type Tier = (typeof TIERS)[number]

export const STAGES = ['prospect', 'new', 'active', 'loyal', 'at_risk', 'churned', 'won_back'] as const
export type Stage = (typeof STAGES)[number]

export function isTier(v: unknown): v is Tier {
  return typeof v === 'string' && (TIERS as readonly string[]).includes(v)
}

export function isStage(v: unknown): v is Stage {
  return typeof v === 'string' && (STAGES as readonly string[]).includes(v)
}

// The API's types, generated from its OpenAPI document (src/api/types.ts),
// under the names the pages use.
export type ClassValue = T.AssignedView
export type RfmView = T.RfmView
export type InsightFacts = T.FactsView
export type PredictionView = T.PredictionView
export type UpgradeView = T.UpgradeView
export type SignalView = T.SignalView
export type CustomerTagView = T.TagView
/** `kind`: tier_changed, stage_changed, tag_added or tag_removed (a tag change names the tag in `to` / `from`). */
export type HistoryEntry = T.HistoryView
export type CustomerInsight = T.InsightView
export type AtRiskItem = T.AtRiskItem
export type UpgradeItem = T.UpgradeItem
export type CostBenefitTier = T.CostBenefitRow
export type CostBenefit = T.CostBenefitView
/** The PUT body: the settings without `version`. */
export type InsightSettingsBody = T.InsightSettingsBody
/** The GET answer; `version` is 0 while the defaults apply. */
export type InsightSettings = T.InsightSettingsView
export type TagRule = T.RuleView
export type TagRuleCreate = T.RuleBody
export type TagRulePatch = T.RulePatch
export type RulePreview = T.PreviewView
export type RulePreviewSample = T.PreviewCustomer
/** `cause`: schedule, manual, cli or seed; `status`: running, done or failed. */
export type InsightRun = T.RunView
export type RunQueued = T.QueuedJob

export type RunStatus = 'running' | 'done' | 'failed'

export interface Page<T> {
  items: T[]
  next_cursor?: string | null
}

const enc = encodeURIComponent

/** The calls the insight pages make; one place to adapt when the API settles. */
export const insightApi = {
  customer: (id: string, signal?: AbortSignal) => http.get<CustomerInsight>(`/customers/${enc(id)}/insight`, undefined, signal),
  atRisk: (q: { limit?: number; cursor?: string | null; owner_id?: string | null }) =>
    http.get<Page<AtRiskItem>>('/insight/at-risk', { limit: q.limit, cursor: q.cursor, owner_id: q.owner_id }),
  upgrades: (q: { limit?: number; cursor?: string | null; owner_id?: string | null }) =>
    http.get<Page<UpgradeItem>>('/insight/upgrades', { limit: q.limit, cursor: q.cursor, owner_id: q.owner_id }),
  costBenefit: () => http.get<CostBenefit>('/insight/cost-benefit'),
  settings: () => http.get<InsightSettings>('/insight/settings'),
  saveSettings: (body: InsightSettingsBody, version: number | string) =>
    request<InsightSettings>('/insight/settings', { method: 'PUT', body, ifMatch: version }),
  /** The tag rules in evaluation order. */
  rules: async () => {
    const r = await http.get<T.RuleList>('/insight/rules')
    return { ...r, data: r.data.items }
  },
  createRule: (body: TagRuleCreate) => http.post<TagRule>('/insight/rules', body),
  updateRule: (id: string, body: TagRulePatch, version: number) => http.patch<TagRule>(`/insight/rules/${enc(id)}`, body, version),
  deleteRule: (id: string, version: number) => http.del(`/insight/rules/${enc(id)}`, version),
  preview: (rule: string, signal?: AbortSignal) =>
    request<RulePreview>('/insight/rules/preview', { method: 'POST', body: { rule }, signal }),
  /** The last 50 runs, newest first. */
  runs: async (): Promise<InsightRun[]> => (await http.get<T.RunList>('/insight/runs')).data.items,
  runNow: () => http.post<RunQueued>('/insight/runs'),
}
