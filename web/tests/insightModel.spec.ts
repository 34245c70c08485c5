// Pure logic of the insight pages: yuan ↔ 分 in the settings form, the tier
// history chart's geometry, run polling, cost-benefit rows, change texts.
import { describe, expect, it } from 'vitest'
import type { HistoryEntry, InsightRun } from '@/api/insight'
import { SETTINGS } from './insightFixtures'
import { fenToYuan, formErrorKey, formErrors, toBody, toForm, unshownErrors, yuanToFen } from '@/views/insight/settingsModel'
import { DEFAULT_BOX, tierChart, tierSteps } from '@/views/customers/tierChart'
import { newRun, pollRun } from '@/views/insight/runPoll'
import { costRows } from '@/views/insight/costModel'
import { changeText, localized, oneDecimal, percent } from '@/views/customers/insightText'
import { i18n, setLocale } from '@/i18n'

describe('settings: yuan in the form, 分 on the wire', () => {
  it('converts exactly, rounding to the nearest 分', () => {
    expect(fenToYuan(8000000)).toBe(80000)
    expect(fenToYuan(1999)).toBe(19.99)
    expect(fenToYuan(null)).toBe(0)
    expect(yuanToFen(80000)).toBe(8000000)
    expect(yuanToFen(19.99)).toBe(1999) // 19.99 * 100 = 1998.9999999999998
    expect(yuanToFen(0.1 + 0.2)).toBe(30)
    expect(yuanToFen(1.005)).toBe(100) // a third decimal is not a 分 (float 1.005 is just below)
    expect(yuanToFen('12,345.6')).toBe(1234560)
    expect(yuanToFen('¥ 1 000')).toBe(100000)
    expect(yuanToFen('')).toBe(0)
    expect(yuanToFen('abc')).toBe(0)
    expect(yuanToFen(undefined)).toBe(0)
  })

  it('round-trips the settings object, without the version', () => {
    const f = toForm(SETTINGS)
    expect(f.tier.a_min_yuan).toBe(80000)
    expect(f.tier.b_min_yuan).toBe(20000)
    expect(f.classes.amount_large_min_yuan).toBe(50000)
    expect(f.costs.hourly_cost_yuan).toBe(100)
    expect(f.costs.margins).toEqual([{ category: '家电', pct: 25 }])
    const { version: _v, ...body } = SETTINGS
    expect(toBody(f)).toEqual(body)
  })

  it('sends typed yuan as 分, drops blank categories and trims the cron', () => {
    const f = toForm(SETTINGS)
    f.tier.b_min_yuan = 90000.5
    f.costs.margins.push({ category: '  服装 ', pct: 40 }, { category: ' ', pct: 10 })
    f.costs.cost_per_order_yuan = 2.5
    f.schedule.cron = ' 0 0 3 * * * '
    const b = toBody(f)
    expect(b.tier.b_min_fen).toBe(9000050)
    expect(b.costs.margin_pct_by_category).toEqual({ 家电: 25, 服装: 40 })
    expect(b.costs.cost_per_order_fen).toBe(250)
    expect(b.schedule.cron).toBe('0 0 3 * * *')
    expect('version' in b).toBe(false)
  })

  it('errors the form cannot show in place are listed for a notification', () => {
    const e = { 'tier.b_min_fen': 'b', 'tier.a_pct': 'pct', tier: 'whole', 'costs.hours_per_year.A': 'h' }
    expect(unshownErrors(e, 'thresholds')).toEqual(['pct', 'whole'])
    expect(unshownErrors(e, 'pareto')).toEqual(['b', 'whole'])
  })

  it('puts server field errors where the form shows them', () => {
    expect(formErrorKey('tier.b_min_fen')).toBe('tier.b_min_fen')
    expect(formErrorKey('costs.margin_pct_by_category.家电')).toBe('costs.margin_pct_by_category')
    expect(formErrorKey('costs.margin_pct_by_category')).toBe('costs.margin_pct_by_category')
    expect(formErrorKey('costs.hours_per_year.A')).toBe('costs.hours_per_year.A')
    expect(formErrorKey('costs.hours_per_year["B"]')).toBe('costs.hours_per_year.B')
    expect(formErrors({ 'costs.margin_pct_by_category.家电': 'x', 'costs.margin_pct_by_category.服装': 'y', 'tier.b_min_fen': 'z' })).toEqual({
      'costs.margin_pct_by_category': 'x y',
      'tier.b_min_fen': 'z',
    })
  })
})

const DAY = 86_400_000
const T0 = Date.parse('2026-01-01T00:00:00Z')
const at = (d: number) => new Date(T0 + d * DAY).toISOString()

describe('tier history chart', () => {
  const history: HistoryEntry[] = [
    // newest first, as the API sends it; other kinds are ignored
    { at: at(60), kind: 'tier_changed', from: 'C', to: 'B', explanation: '' },
    { at: at(50), kind: 'stage_changed', from: 'new', to: 'active', explanation: '' },
    { at: at(30), kind: 'tier_changed', from: 'D', to: 'C', explanation: '' },
  ]

  it('turns tier changes into steps with a lead-in from the first change’s old tier', () => {
    const steps = tierSteps(history, T0 + 90 * DAY)
    expect(steps.map((s) => s.tier)).toEqual(['D', 'C', 'B'])
    expect(steps[0]).toMatchObject({ leadIn: true, end: T0 + 30 * DAY, start: T0 + 20 * DAY }) // a sixth of 60 days
    expect(steps[1]).toMatchObject({ start: T0 + 30 * DAY, end: T0 + 60 * DAY })
    expect(steps[2]).toMatchObject({ start: T0 + 60 * DAY, end: T0 + 90 * DAY })
  })

  it('maps time to x and tiers to y (A at the top, D at the bottom)', () => {
    const c = tierChart(tierSteps(history, T0 + 90 * DAY))!
    const { left, right, top, bottom, width, height } = DEFAULT_BOX
    const plotW = width - left - right
    const yD = height - bottom
    const yA = top // 8
    expect(c.levels.find((l) => l.tier === 'A')?.y).toBe(yA)
    expect(c.levels.find((l) => l.tier === 'D')?.y).toBe(yD)
    // span: day 20 → day 90 = 70 days; the change to C is at day 30 → 10/70 of the width
    const x30 = Math.round((left + (10 / 70) * plotW) * 10) / 10
    const x60 = Math.round((left + (40 / 70) * plotW) * 10) / 10
    const yC = Math.round((top + (2 / 3) * (yD - top)) * 10) / 10
    const yB = Math.round((top + (1 / 3) * (yD - top)) * 10) / 10
    expect(c.path).toBe(`M${left} ${yD} H${x30} V${yC} H${x60} V${yB} H${width - right}`)
    // a dot at each change, none for the lead-in
    expect(c.points.map((p) => [p.x, p.y, p.tier])).toEqual([
      [x30, yC, 'C'],
      [x60, yB, 'B'],
    ])
    expect(c.startLabel).toBe(T0 + 20 * DAY)
    expect(c.endLabel).toBe(T0 + 90 * DAY)
  })

  it('handles a first classification (no old tier), a change right now, and no changes', () => {
    const first: HistoryEntry[] = [{ at: at(0), kind: 'tier_changed', from: null, to: 'A', explanation: '' }]
    const c = tierChart(tierSteps(first, T0))!
    // zero span: no division by zero, one flat step with its dot
    expect(c.path).toBe(`M${DEFAULT_BOX.left} ${DEFAULT_BOX.top} H${DEFAULT_BOX.left}`)
    expect(c.points).toHaveLength(1)
    expect(tierSteps([{ at: at(1), kind: 'tag_added', to: 'x', explanation: '' }], T0)).toEqual([])
    expect(tierChart([])).toBeNull()
    // junk is skipped
    expect(tierSteps([{ at: 'nope', kind: 'tier_changed', to: 'B', explanation: '' }, { at: at(1), kind: 'tier_changed', to: 'Z', explanation: '' }], T0)).toEqual([])
  })
})

describe('run now: polling', () => {
  const run = (id: string, status: string, started: number): InsightRun => ({
    id,
    cause: 'manual',
    status,
    as_of: '2026-01-01',
    started_at: at(started),
    finished_at: null,
    customers: 10,
    tier_changes: 1,
    stage_changes: 2,
    tag_changes: 3,
    error: null,
  })

  it('finds the newest run that was not there before', () => {
    expect(newRun([run('old', 'done', 5), run('n1', 'running', 6)], new Set(['old']))?.id).toBe('n1')
    expect(newRun([run('old', 'done', 5)], new Set(['old']))).toBeNull()
  })

  it('asks every 2 s until the new run is done, ignoring a failed poll', async () => {
    const answers: (InsightRun[] | Error)[] = [
      [run('old', 'done', 1)], // not started yet
      new Error('network'),
      [run('new', 'running', 2), run('old', 'done', 1)],
      [run('new', 'done', 2), run('old', 'done', 1)],
    ]
    const sleeps: number[] = []
    let clock = 0
    const seen: number[] = []
    const out = await pollRun({
      known: new Set(['old']),
      list: async () => {
        const a = answers.shift()!
        if (a instanceof Error) throw a
        return a
      },
      onRuns: (r) => seen.push(r.length),
      sleep: async (ms) => {
        sleeps.push(ms)
        clock += ms
      },
      now: () => clock,
    })
    expect(out).toMatchObject({ kind: 'finished', run: { id: 'new', status: 'done' } })
    expect(sleeps).toEqual([2000, 2000, 2000, 2000])
    expect(seen).toEqual([1, 2, 2])
  })

  it('stops at a failed run, after 2 minutes, or when the page goes away', async () => {
    let clock = 0
    const sleep = async (ms: number) => void (clock += ms)
    const now = () => clock
    expect(await pollRun({ known: new Set(), list: async () => [run('n', 'failed', 1)], sleep, now })).toMatchObject({ kind: 'finished', run: { status: 'failed' } })
    clock = 0
    let polls = 0
    const out = await pollRun({ known: new Set(), list: async () => (polls++, [run('n', 'running', 1)]), sleep, now })
    expect(out).toEqual({ kind: 'timeout' })
    expect(polls).toBe(60)
    expect(await pollRun({ known: new Set(), list: async () => [], sleep, now: () => 0, cancelled: () => true })).toEqual({ kind: 'cancelled' })
  })
})

describe('cost-benefit rows', () => {
  it('orders A→D, computes net per customer and marks where to spend more and less', () => {
    const rows = costRows({
      tiers: [
        { tier: 'D', customers: 100, contribution_fen: 100000, cost_fen: 1000000, net_fen: -900000, contribution_per_customer_fen: 1000, cost_per_customer_fen: 10000 },
        { tier: 'A', customers: 10, contribution_fen: 8000000, cost_fen: 240000, net_fen: 7760000, contribution_per_customer_fen: 800000, cost_per_customer_fen: 24000 },
        { tier: 'B', customers: 0, contribution_fen: 0, cost_fen: 0, net_fen: 0, contribution_per_customer_fen: 0, cost_per_customer_fen: 0 },
      ],
      total: { customers: 110, contribution_fen: 8100000, cost_fen: 1240000, net_fen: 6860000 },
      unclassified: 3,
    })
    expect(rows.map((r) => r.tier)).toEqual(['A', 'B', 'D'])
    expect(rows[0]).toMatchObject({ net_per_customer_fen: 776000, advice: 'more', contributionBar: 100 })
    expect(rows[0]?.ratio).toBeCloseTo(33.33, 2)
    expect(rows[1]).toMatchObject({ advice: null, ratio: null }) // empty tier: no advice
    expect(rows[2]).toMatchObject({ net_per_customer_fen: -9000, advice: 'less' })
    expect(rows[2]?.costBar).toBeCloseTo(1.25, 5)
  })
})

describe('change texts', () => {
  const t = i18n.global.t as unknown as (k: string, n?: Record<string, unknown>) => string

  it('names tier, stage and tag changes in the UI language', () => {
    setLocale('zh-CN')
    expect(changeText(t, 'tier_changed', { from: 'C', to: 'B' })).toBe('等级：C → B')
    expect(changeText(t, 'stage_changed', { from: 'active', to: 'at_risk' })).toBe('阶段：活跃 → 流失风险')
    expect(changeText(t, 'tier_changed', { from: null, to: 'A' })).toBe('首次分级：A')
    expect(changeText(t, 'stage_changed', { to: 'new' })).toBe('首次判定阶段：新客户')
    expect(changeText(t, 'tag_added', { from: null, to: '华东高价值' })).toBe('添加标签“华东高价值”')
    expect(changeText(t, 'tag_added', { tag: '华东高价值' })).toBe('添加标签“华东高价值”') // the timeline's detail names it `tag`
    expect(changeText(t, 'something', {})).toBe('')
    setLocale('en')
    expect(changeText(t, 'stage_changed', { from: 'new', to: 'won_back' })).toBe('Stage: New → Won back')
    expect(changeText(t, 'tag_removed', { tag: 'vip' })).toBe('Tag "vip" removed')
    expect(changeText(t, 'tag_removed', { from: 'vip', to: null })).toBe('Tag "vip" removed')
    setLocale('zh-CN')
  })

  it('picks the explanation in the UI language, falling back to the other', () => {
    const e = { 'zh-CN': '中文说明', en: 'English text' }
    expect(localized(e, 'zh-CN')).toBe('中文说明')
    expect(localized(e, 'en')).toBe('English text')
    expect(localized({ 'zh-CN': '只有中文' }, 'en')).toBe('只有中文')
    expect(localized('already one string', 'en')).toBe('already one string')
    expect(localized(null, 'en')).toBe('')
  })

  it('formats probabilities and expected counts', () => {
    expect(percent(0.934)).toBe('93%')
    expect(percent(null)).toBe('—')
    expect(oneDecimal(2.71)).toBe('2.7')
    expect(oneDecimal(3)).toBe('3')
  })
})
