// The insight UI against a fake API: rule preview (debounce, late answers,
// parse errors), the tag rule editor, the settings form (yuan ↔ 分, If-Match,
// field errors in place), the insight panel and the timeline's insight entries.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { reactive } from 'vue'
import { ApiError, configureApi, parseProblem } from '@/api/http'
import type { MeView } from '@/api/types'
import type { RulePreview } from '@/api/insight'
import { useAuthStore } from '@/stores/auth'
import { createPreviewer, ruleProblem, type PreviewState } from '@/views/insight/rulePreview'
import TagRules from '@/views/insight/TagRules.vue'
import InsightSettings from '@/views/insight/InsightSettings.vue'
import InsightTab from '@/views/customers/InsightTab.vue'
import TimelineTab from '@/views/customers/TimelineTab.vue'
import { flush, jsonResponse, plugins } from './helpers'
import { INSIGHT, SETTINGS } from './insightFixtures'

const NO_TRANSITIONS = { transition: false, 'transition-group': false }

function signIn(permissions: string[]) {
  const auth = useAuthStore()
  auth.csrf = 'csrf-1'
  configureApi({ csrf: () => auth.csrf })
  auth.me = {
    user: { id: 'u1', login: 'admin', display_name: 'admin', role: 'admin', locale: 'zh-CN', disabled: false, version: 1, created_at: '' },
    tenant: 'demo',
    permissions,
    data_scope: 'all',
    fields: {},
  } as unknown as MeView
}

type Call = { url: string; method: string; body: unknown; ifMatch: string | null }
type Handler = (url: string, method: string, body: unknown) => Response | undefined

function server(handler: Handler) {
  const calls: Call[] = []
  const fn = vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
    const url = String(u)
    const method = init?.method ?? 'GET'
    const body = init?.body ? JSON.parse(String(init.body)) : undefined
    const headers = (init?.headers ?? {}) as Record<string, string>
    calls.push({ url, method, body, ifMatch: headers['If-Match'] ?? null })
    if (url.startsWith('/api/v1/users')) return jsonResponse(200, [])
    return handler(url, method, body) ?? jsonResponse(404, { type: 'problem.not_found', title: '', status: 404, detail: '', errors: [] })
  })
  configureApi({ fetch: fn as unknown as typeof fetch })
  return calls
}

function problem422(errors: { field: string; code: string; params?: Record<string, unknown>; message: string }[]) {
  return jsonResponse(422, { type: 'problem.validation', title: 'Unprocessable', status: 422, detail: '请检查填写的内容', errors: errors.map((e) => ({ params: {}, ...e })) })
}

afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ''
  configureApi({ fetch: (...a) => globalThis.fetch(...a), csrf: () => null })
})

describe('rule preview', () => {
  const state = () => reactive<PreviewState>({ loading: false, result: null, problem: null, failed: null })
  const answer = (matches: number): RulePreview => ({ matches, total: 100, sample: [] })

  it('asks once, 300 ms after the last keystroke, and never for an empty rule', async () => {
    vi.useFakeTimers()
    const s = state()
    const asked: string[] = []
    const p = createPreviewer(s, async (rule) => (asked.push(rule), answer(rule.length)))
    p.update('o')
    await vi.advanceTimersByTimeAsync(100)
    p.update('or')
    await vi.advanceTimersByTimeAsync(299)
    expect(asked).toEqual([])
    expect(s.loading).toBe(true)
    await vi.advanceTimersByTimeAsync(1)
    expect(asked).toEqual(['or'])
    expect(s.result?.matches).toBe(2)
    expect(s.loading).toBe(false)
    p.update('   ')
    await vi.advanceTimersByTimeAsync(1000)
    expect(asked).toEqual(['or'])
    expect(s.result).toBeNull()
  })

  it('ignores a late answer to an older rule and aborts its request', async () => {
    vi.useFakeTimers()
    const s = state()
    const pending: { rule: string; signal: AbortSignal; resolve: (r: RulePreview) => void }[] = []
    const p = createPreviewer(s, (rule, signal) => new Promise((resolve) => pending.push({ rule, signal, resolve })))
    p.update('orders_90d > 1')
    await vi.advanceTimersByTimeAsync(300)
    p.update('orders_90d > 5')
    await vi.advanceTimersByTimeAsync(300)
    expect(pending.map((x) => x.rule)).toEqual(['orders_90d > 1', 'orders_90d > 5'])
    expect(pending[0]?.signal.aborted).toBe(true)
    pending[1]?.resolve(answer(5))
    pending[0]?.resolve(answer(1))
    await vi.advanceTimersByTimeAsync(0)
    expect(s.result?.matches).toBe(5)
  })

  it('turns a 422 into the parser’s message and column; other failures are kept apart', async () => {
    vi.useFakeTimers()
    const s = state()
    const err = new ApiError(
      422,
      parseProblem(422, JSON.stringify({ type: 'problem.validation', errors: [{ field: 'rule', code: 'rule.syntax', params: { column: 12, message: "expected a value after '>='" }, message: '规则语法错误' }] })),
      null,
    )
    const p = createPreviewer(s, async () => {
      throw err
    })
    p.update('orders_90d >= ')
    await vi.advanceTimersByTimeAsync(300)
    expect(s.problem).toEqual({ message: "规则语法错误 — expected a value after '>='", column: 12 })
    expect(s.result).toBeNull()
    expect(ruleProblem(new ApiError(500, null, null))).toBeNull()
    expect(ruleProblem(new ApiError(422, parseProblem(422, JSON.stringify({ errors: [{ field: 'rule', code: 'rule.syntax', params: { column: '3', message: 'bad' } }] })), null))).toEqual({
      message: 'bad',
      column: 3,
    })
  })
})

describe('tag rules page', () => {
  const rule = { id: 'r1', name: '华东高价值', tag: '华东高价值', rule: 'spend_365d >= 10000', description: null, enabled: true, version: 2, matches: 42, created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z' }

  it('an admin types a rule: the preview count and samples show; a parse error shows under the editor with its column', async () => {
    const { global } = plugins()
    signIn(['customer.read', 'settings.admin'])
    const calls = server((url, method, body) => {
      if (url === '/api/v1/insight/rules' && method === 'GET') return jsonResponse(200, [rule])
      if (url === '/api/v1/insight/rules/preview') {
        const r = (body as { rule: string }).rule
        if (r.endsWith('>=')) return problem422([{ field: 'rule', code: 'rule.syntax', params: { column: 12, message: 'expected a value' }, message: '规则无法解析' }])
        return jsonResponse(200, { matches: 7, total: 120, sample: [{ customer_id: 'c9', code: 'KH9', name: '钱七' }] })
      }
      if (url === '/api/v1/insight/rules' && method === 'POST') return jsonResponse(201, { ...rule, id: 'r2' })
      return undefined
    })
    const w = mount(TagRules, { global: { ...global, stubs: NO_TRANSITIONS }, attachTo: document.body })
    await flush(10)
    expect(w.text()).toContain('spend_365d >= 10000')
    ;(document.body.querySelector('[data-testid=rule-add]') as HTMLElement).click()
    await flush()
    const textarea = document.body.querySelector('textarea[data-testid=rule-text]') as HTMLTextAreaElement
    textarea.value = 'orders_90d >= 3'
    textarea.dispatchEvent(new Event('input'))
    await new Promise((r) => setTimeout(r, 350))
    await flush(10)
    expect(document.body.querySelector('[data-testid=rule-preview-count]')?.textContent).toContain('匹配 7 个客户，共 120 个')
    expect(document.body.querySelector('[data-testid=rule-preview] a')?.textContent).toBe('钱七')
    expect(calls.filter((c) => c.url.endsWith('/preview'))).toHaveLength(1)

    textarea.value = 'orders_90d >='
    textarea.dispatchEvent(new Event('input'))
    await new Promise((r) => setTimeout(r, 350))
    await flush(10)
    const error = document.body.querySelector('[data-testid=rule-error]')?.textContent ?? ''
    expect(error).toContain('规则无法解析')
    expect(error).toContain('第 12 列')
    expect(document.body.querySelector('[data-testid=rule-preview-count]')).toBeNull()
    w.unmount()
  })

  it('an edit refused as stale (412) shows their rule beside mine; overwrite sends their version', async () => {
    const { global } = plugins()
    signIn(['customer.read', 'settings.admin'])
    const theirs = { ...rule, rule: 'spend_365d >= 20000', version: 3 }
    let listed = 0
    const calls = server((url, method) => {
      if (url === '/api/v1/insight/rules' && method === 'GET') return jsonResponse(200, { items: [listed++ === 0 ? rule : theirs] })
      if (url === '/api/v1/insight/rules/preview') return jsonResponse(200, { matches: 1, total: 2, sample: [] })
      if (url === '/api/v1/insight/rules/r1' && method === 'PATCH') {
        const stale = calls.filter((c) => c.method === 'PATCH').length === 1
        return stale
          ? jsonResponse(412, { type: 'problem.stale', title: 'Precondition Failed', status: 412, detail: 'x', errors: [] })
          : jsonResponse(200, { ...theirs, rule: 'orders_90d >= 4', version: 4 })
      }
      return undefined
    })
    const w = mount(TagRules, { global: { ...global, stubs: NO_TRANSITIONS }, attachTo: document.body })
    await flush(10)
    await w.findAll('button').find((b) => b.text() === '编辑')!.trigger('click')
    await flush()
    const textarea = document.body.querySelector('textarea[data-testid=rule-text]') as HTMLTextAreaElement
    expect(textarea.value).toBe('spend_365d >= 10000')
    textarea.value = 'orders_90d >= 4'
    textarea.dispatchEvent(new Event('input'))
    ;(document.body.querySelector('[data-testid=rule-save]') as HTMLElement).click()
    await flush(10)
    const dialog = document.body.querySelector('[data-testid=conflict-dialog]')
    expect(dialog?.textContent).toContain('规则已被他人修改')
    expect(dialog?.textContent).toContain('spend_365d >= 20000')
    expect(dialog?.textContent).toContain('orders_90d >= 4')
    ;(document.body.querySelector('[data-testid=conflict-overwrite]') as HTMLElement).click()
    await flush(10)
    const patches = calls.filter((c) => c.method === 'PATCH')
    expect(patches.map((c) => c.ifMatch)).toEqual(['"2"', '"3"'])
    expect((patches[1]?.body as { rule: string }).rule).toBe('orders_90d >= 4')
    w.unmount()
  })

  it('a reader sees the rules and the language help, but no edit controls', async () => {
    const { global } = plugins('en')
    signIn(['customer.read'])
    server((url) => (url === '/api/v1/insight/rules' ? jsonResponse(200, [rule]) : undefined))
    const w = mount(TagRules, { global: { ...global, stubs: NO_TRANSITIONS }, attachTo: document.body })
    await flush(10)
    expect(w.find('[data-testid=rule-add]').exists()).toBe(false)
    expect(w.text()).toContain('Only system administrators can change tag rules.')
    expect(w.text()).not.toContain('Edit')
    expect(w.text()).toContain('days_since_last_purchase')
    w.unmount()
  })
})

describe('insight settings page', () => {
  async function open(respond: Handler) {
    const { global } = plugins()
    signIn(['customer.read', 'settings.admin'])
    const calls = server((url, method, body) => {
      if (url === '/api/v1/insight/settings' && method === 'GET') return jsonResponse(200, SETTINGS, { ETag: '"3"' })
      return respond(url, method, body)
    })
    const w = mount(InsightSettings, { global: { ...global, stubs: NO_TRANSITIONS }, attachTo: document.body })
    await flush(10)
    return { w, calls }
  }

  const inputOf = (testid: string) => document.body.querySelector(`[data-testid=${testid}] input`) as HTMLInputElement

  it('shows money in yuan and saves 分 with If-Match', async () => {
    const { w, calls } = await open((url, method, body) =>
      url === '/api/v1/insight/settings' && method === 'PUT' ? jsonResponse(200, { ...SETTINGS, ...(body as object), version: 4 }, { ETag: '"4"' }) : undefined,
    )
    expect(inputOf('tier-a-min').value).toBe('80000.00')
    const b = inputOf('tier-b-min')
    b.value = '30000.5'
    b.dispatchEvent(new Event('input'))
    b.dispatchEvent(new Event('change'))
    await flush()
    await w.find('form').trigger('submit')
    await flush(10)
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.ifMatch).toBe('"3"')
    const sent = put.body as typeof SETTINGS
    expect(sent.tier.b_min_fen).toBe(3000050)
    expect(sent.tier.a_min_fen).toBe(8000000)
    expect(sent.costs.margin_pct_by_category).toEqual({ 家电: 25 })
    expect('version' in (put.body as object)).toBe(false)
    w.unmount()
  })

  it('a 422 for B above A shows next to the B threshold', async () => {
    const { w } = await open((url, method) =>
      url === '/api/v1/insight/settings' && method === 'PUT'
        ? problem422([{ field: 'tier.b_min_fen', code: 'insight.tier_order', message: 'B级门槛不能高于A级门槛' }])
        : undefined,
    )
    await w.find('form').trigger('submit')
    await flush(10)
    await new Promise((r) => setTimeout(r, 150)) // the form item shows its error debounced
    const item = inputOf('tier-b-min').closest('.el-form-item') as HTMLElement
    expect(item.classList.contains('is-error')).toBe(true)
    expect(item.textContent).toContain('B级门槛不能高于A级门槛')
    const a = inputOf('tier-a-min').closest('.el-form-item') as HTMLElement
    expect(a.classList.contains('is-error')).toBe(false)
    w.unmount()
  })

  it('the Pareto method shows the share fields instead of the thresholds', async () => {
    const { w } = await open(() => undefined)
    expect(w.find('[data-testid=tier-a-min]').exists()).toBe(true)
    const radios = w.findAll('[data-testid=tier-method] input[type=radio]')
    await radios[1]!.setValue(true)
    await flush()
    expect(w.find('[data-testid=tier-a-min]').exists()).toBe(false)
    expect(w.text()).toContain('A级累计占比')
    w.unmount()
  })
})

describe('insight panel', () => {
  it('shows tier and stage with their explanations, money in yuan, and the history', async () => {
    const { global } = plugins()
    const w = mount(InsightTab, { global, props: { insight: INSIGHT, loading: false, failed: false } })
    await flush()
    expect(w.find('[data-testid=tier-badge]').text()).toBe('B级（重要）')
    expect(w.find('[data-testid=tier-explanation]').text()).toContain('不低于B级门槛')
    expect(w.find('[data-testid=stage-badge]').text()).toBe('活跃')
    expect(w.find('[data-testid=clv]').text()).toBe('¥29,100.00')
    expect(w.find('[data-testid=insight-prediction]').text()).toContain('93%')
    expect(w.find('[data-testid=insight-rfm]').text()).toContain('忠诚客户')
    expect(w.find('[data-testid=insight-signals]').text()).toContain('已 75 天未购买')
    expect(w.find('[data-testid=insight-upgrade]').text()).toContain('¥83,000.00')
    expect(w.find('[data-testid=insight-tags]').text()).toContain('华东高价值')
    const history = w.find('[data-testid=insight-history]').text()
    expect(history).toContain('等级：C → B')
    expect(history).toContain('阶段：新客户 → 活跃')
    expect(w.find('[data-testid=tier-chart] path').attributes('d')).toMatch(/^M/)
  })

  it('a customer never classified shows a clear empty state', async () => {
    const { global } = plugins('en')
    const w = mount(InsightTab, { global, props: { insight: { ...INSIGHT, computed_at: null }, loading: false, failed: false } })
    await flush()
    expect(w.find('[data-testid=insight-empty]').text()).toContain('Not classified yet')
    expect(w.find('[data-testid=tier-badge]').exists()).toBe(false)
  })
})

describe('timeline', () => {
  it('renders tier, stage and tag changes with the explanation in the UI language', async () => {
    server((url) =>
      url.startsWith('/api/v1/customers/c1/timeline')
        ? jsonResponse(200, {
            items: [
              { id: 'e1', at: '2026-11-23T02:30:00Z', kind: 'tier_changed', actor_id: null, detail: { from: 'C', to: 'B', run_id: 'r1', explanation: { 'zh-CN': '贡献超过门槛', en: 'Contribution above the threshold' } } },
              { id: 'e2', at: '2026-11-23T02:30:00Z', kind: 'stage_changed', actor_id: null, detail: { from: 'active', to: 'at_risk', run_id: 'r1', explanation: { 'zh-CN': '超过间隔两倍', en: 'Twice the interval' } } },
              { id: 'e3', at: '2026-11-23T02:30:00Z', kind: 'tag_added', actor_id: null, detail: { tag: '华东高价值', rule_id: 'r9', explanation: { 'zh-CN': '符合规则', en: 'Matches the rule' } } },
            ],
            next_cursor: null,
          })
        : undefined,
    )
    const { global } = plugins('en')
    const w = mount(TimelineTab, { global, props: { customerId: 'c1' } })
    await flush(10)
    const text = w.text()
    expect(text).toContain('Tier changed')
    expect(text).toContain('Tier: C → B')
    expect(text).toContain('Contribution above the threshold')
    expect(text).toContain('Stage: Active → At risk')
    expect(text).toContain('Tag "华东高价值" added')
    expect(text).not.toContain('贡献超过门槛')
  })
})
