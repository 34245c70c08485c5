// Live preview of a tag rule while it is typed: debounced (300 ms), the
// previous request aborted, late answers ignored; a 422 parse error becomes
// a message and a column shown under the editor.
import { onBeforeUnmount, reactive, watch, type Ref } from 'vue'
import { ApiError } from '@/api/http'
import { insightApi, type RulePreview } from '@/api/insight'

export interface RuleProblem {
  message: string
  /** 1-based column of the error in the rule text, when the server says. */
  column: number | null
}

export interface PreviewState {
  loading: boolean
  result: RulePreview | null
  problem: RuleProblem | null
  /** any other failure (network, 5xx): shown as a line, not a notification per keystroke */
  failed: unknown
}

export const PREVIEW_DELAY = 300

/** A 422 about the rule (`errors[].field = "rule"`, params {column, message}) → what to show. */
export function ruleProblem(e: unknown): RuleProblem | null {
  if (!(e instanceof ApiError) || e.status !== 422) return null
  const errs = e.problem?.errors ?? []
  const hit = errs.find((x) => x.field === 'rule') ?? errs[0]
  if (!hit) return { message: e.problem?.detail || e.message, column: null }
  const p = hit.params ?? {}
  const col = typeof p.column === 'number' ? p.column : typeof p.column === 'string' && /^\d+$/.test(p.column) ? Number(p.column) : null
  const detail = typeof p.message === 'string' ? p.message : ''
  // The catalogue message is in the UI language; the parser's own words add the detail.
  const message = [hit.message, detail && !hit.message.includes(detail) ? detail : ''].filter(Boolean).join(' — ') || hit.code
  return { message, column: col }
}

export interface Previewer {
  /** the rule text changed: preview it after the delay */
  update(rule: string): void
  /** stop any pending or running preview */
  cancel(): void
}

export function createPreviewer(
  state: PreviewState,
  fetchPreview: (rule: string, signal: AbortSignal) => Promise<RulePreview> = async (rule, signal) =>
    (await insightApi.preview(rule, signal)).data,
  delay = PREVIEW_DELAY,
): Previewer {
  let timer: ReturnType<typeof setTimeout> | null = null
  let controller: AbortController | null = null
  let seq = 0

  function cancel() {
    if (timer) clearTimeout(timer)
    timer = null
    controller?.abort()
    controller = null
    seq++
    state.loading = false
  }

  async function run(rule: string) {
    const my = ++seq
    controller?.abort()
    controller = new AbortController()
    state.loading = true
    try {
      const r = await fetchPreview(rule, controller.signal)
      if (my !== seq) return
      state.result = r
      state.problem = null
      state.failed = null
    } catch (e) {
      if (my !== seq || (e instanceof DOMException && e.name === 'AbortError')) return
      const p = ruleProblem(e)
      state.result = null
      state.problem = p
      state.failed = p ? null : e
    } finally {
      if (my === seq) state.loading = false
    }
  }

  function update(rule: string) {
    cancel()
    if (!rule.trim()) {
      state.result = null
      state.problem = null
      state.failed = null
      return
    }
    state.loading = true
    timer = setTimeout(() => {
      timer = null
      void run(rule)
    }, delay)
  }

  return { update, cancel }
}

/** The preview of `rule` for a component; stops when the component goes away. */
export function useRulePreview(rule: Ref<string>, enabled: Ref<boolean>) {
  const state = reactive<PreviewState>({ loading: false, result: null, problem: null, failed: null })
  const p = createPreviewer(state)
  watch([rule, enabled], ([r, on]) => (on ? p.update(r) : p.cancel()))
  onBeforeUnmount(p.cancel)
  return { state, previewer: p }
}
