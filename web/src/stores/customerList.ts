// State of the customer list, kept while the user opens a customer and comes back.
import { defineStore } from 'pinia'
import { computed, reactive, ref, watch } from 'vue'
import { http } from '@/api/http'
import type { CustomerPage, CustomerView } from '@/api/types'
import { isStage, isTier } from '@/api/insight'

export const LIST_COLUMNS = [
  { key: 'code', sort: 'code', minWidth: 140 },
  { key: 'name', sort: 'name', minWidth: 180 },
  { key: 'kind', minWidth: 70 },
  { key: 'tier', minWidth: 70 },
  { key: 'stage', minWidth: 96 },
  { key: 'phones', minWidth: 130 },
  { key: 'region', minWidth: 170 },
  { key: 'industry', minWidth: 100 },
  { key: 'source', minWidth: 90 },
  { key: 'owner', minWidth: 90 },
  { key: 'created_at', sort: 'created_at', minWidth: 140 },
  { key: 'updated_at', sort: 'updated_at', minWidth: 140 },
] as const
export type ColumnKey = (typeof LIST_COLUMNS)[number]['key']
export const DEFAULT_COLUMNS: ColumnKey[] = ['code', 'name', 'kind', 'tier', 'stage', 'phones', 'region', 'owner', 'created_at']
export type SortKey = 'created_at' | 'updated_at' | 'name' | 'code'

export interface ListFilters {
  owner_id: string
  department_id: string
  kind: string
  province: string
  created: [string, string] | null
  updated: [string, string] | null
  /** value tier `A`…`D` (insight) */
  tier: string
  /** lifecycle stage code (insight) */
  stage: string
  /** a tag given by a tag rule */
  tag: string
}

/** What a saved view stores (the server keeps it as opaque JSON). */
export interface ListConfig {
  q: string
  filters: ListFilters
  sort: SortKey
  desc: boolean
  columns: ColumnKey[]
}

export const PAGE_SIZE = 50

export function emptyFilters(): ListFilters {
  return { owner_id: '', department_id: '', kind: '', province: '', created: null, updated: null, tier: '', stage: '', tag: '' }
}

/** `YYYY-MM-DD` + 1 day (the API's `*_to` bounds are exclusive). */
export function nextDay(d: string): string {
  const [y, m, day] = d.split('-').map(Number)
  const t = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (day ?? 1) + 1))
  return t.toISOString().slice(0, 10)
}

/** The query string for one page of the list. */
export function listQuery(c: Omit<ListConfig, 'columns'>, cursor?: string | null) {
  const f = c.filters
  return {
    q: c.q.trim() || undefined,
    owner_id: f.owner_id || undefined,
    department_id: f.department_id || undefined,
    kind: f.kind || undefined,
    province: f.province || undefined,
    created_from: f.created?.[0],
    created_to: f.created ? nextDay(f.created[1]) : undefined,
    updated_from: f.updated?.[0],
    updated_to: f.updated ? nextDay(f.updated[1]) : undefined,
    tier: f.tier || undefined,
    stage: f.stage || undefined,
    tag: f.tag.trim() || undefined,
    sort: (c.desc ? '-' : '') + c.sort,
    cursor: cursor ?? undefined,
    limit: PAGE_SIZE,
  }
}

const KNOWN = new Set<string>(LIST_COLUMNS.map((c) => c.key))

/** Accepts a saved view's config defensively (it may come from an older version). */
export function sanitizeConfig(raw: unknown): ListConfig {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
  const f = (o.filters && typeof o.filters === 'object' ? o.filters : {}) as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  const range = (v: unknown): [string, string] | null =>
    Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(x))
      ? [v[0] as string, v[1] as string]
      : null
  const sorts: SortKey[] = ['created_at', 'updated_at', 'name', 'code']
  const cols = Array.isArray(o.columns)
    ? (o.columns.filter((c) => typeof c === 'string' && KNOWN.has(c)) as ColumnKey[])
    : []
  return {
    q: str(o.q),
    filters: {
      owner_id: str(f.owner_id),
      department_id: str(f.department_id),
      kind: str(f.kind),
      province: str(f.province),
      created: range(f.created),
      updated: range(f.updated),
      tier: isTier(f.tier) ? f.tier : '',
      stage: isStage(f.stage) ? f.stage : '',
      tag: str(f.tag),
    },
    sort: sorts.includes(o.sort as SortKey) ? (o.sort as SortKey) : 'created_at',
    desc: typeof o.desc === 'boolean' ? o.desc : true,
    columns: cols.length ? cols : [...DEFAULT_COLUMNS],
  }
}

/** What the address bar holds of the list: search, filters, sort (not columns, not pages). */
export type ListState = Omit<ListConfig, 'columns'>

/** The query keys the list owns in its URL (`/customers?q=…&kind=…`). */
export const LIST_QUERY_KEYS = ['q', 'owner_id', 'department_id', 'kind', 'province', 'created', 'updated', 'tier', 'stage', 'tag', 'sort', 'view'] as const

const DEFAULT_SORT = '-created_at'

/** The list's state as its URL query; defaults are left out (`{}` for the plain list). */
export function listToQuery(c: ListState, viewId: string | null): Record<string, string> {
  const f = c.filters
  const out: Record<string, string> = {}
  // the text as typed (trimming would fight the search box while typing)
  if (c.q) out.q = c.q
  if (f.owner_id) out.owner_id = f.owner_id
  if (f.department_id) out.department_id = f.department_id
  if (f.kind) out.kind = f.kind
  if (f.province) out.province = f.province
  if (f.created) out.created = `${f.created[0]}..${f.created[1]}`
  if (f.updated) out.updated = `${f.updated[0]}..${f.updated[1]}`
  if (f.tier) out.tier = f.tier
  if (f.stage) out.stage = f.stage
  if (f.tag) out.tag = f.tag
  const sort = (c.desc ? '-' : '') + c.sort
  if (sort !== DEFAULT_SORT) out.sort = sort
  if (viewId) out.view = viewId
  return out
}

/**
 * The list's state from a URL query (a reload, a shared link), checked like a
 * saved view; null when the query says nothing about the list.
 */
export function queryToList(query: Record<string, unknown>): { state: ListState; viewId: string | null } | null {
  if (!LIST_QUERY_KEYS.some((k) => query[k] !== undefined)) return null
  const one = (k: string): string => {
    const v = query[k]
    const s = Array.isArray(v) ? v[0] : v
    return typeof s === 'string' ? s : ''
  }
  const range = (k: string): [string, string] | null => {
    const m = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(one(k))
    return m ? [m[1] as string, m[2] as string] : null
  }
  const sort = /^(-?)(created_at|updated_at|name|code)$/.exec(one('sort'))
  const kind = one('kind')
  return {
    state: {
      q: one('q'),
      filters: {
        owner_id: one('owner_id'),
        department_id: one('department_id'),
        kind: kind === 'person' || kind === 'company' ? kind : '',
        province: one('province'),
        created: range('created'),
        updated: range('updated'),
        tier: isTier(one('tier')) ? one('tier') : '',
        stage: isStage(one('stage')) ? one('stage') : '',
        tag: one('tag'),
      },
      sort: sort ? (sort[2] as SortKey) : 'created_at',
      desc: sort ? sort[1] === '-' : true,
    },
    viewId: one('view') || null,
  }
}

const COLUMNS_KEY = 'kehu.customerColumns'

function savedColumns(): ColumnKey[] {
  try {
    const raw = localStorage.getItem(COLUMNS_KEY)
    return raw ? sanitizeConfig({ columns: JSON.parse(raw) }).columns : [...DEFAULT_COLUMNS]
  } catch {
    return [...DEFAULT_COLUMNS]
  }
}

export const useCustomerListStore = defineStore('customerList', () => {
  const q = ref('')
  const filters = reactive<ListFilters>(emptyFilters())
  const sort = ref<SortKey>('created_at')
  const desc = ref(true)
  const columns = ref<ColumnKey[]>(savedColumns())
  // the column choice is remembered on this device
  watch(columns, (c) => {
    try {
      localStorage.setItem(COLUMNS_KEY, JSON.stringify(c))
    } catch {
      // storage unavailable: the choice lasts for this page only
    }
  })
  const items = ref<CustomerView[]>([])
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)
  const activeViewId = ref<string | null>(null)
  let seq = 0
  let controller: AbortController | null = null

  const config = computed<ListConfig>(() => ({
    q: q.value,
    filters: { ...filters },
    sort: sort.value,
    desc: desc.value,
    columns: [...columns.value],
  }))

  const filterCount = computed(
    () =>
      [filters.owner_id, filters.department_id, filters.kind, filters.province, filters.tier, filters.stage, filters.tag].filter(Boolean).length +
      (filters.created ? 1 : 0) +
      (filters.updated ? 1 : 0),
  )

  async function load(): Promise<void> {
    const my = ++seq
    controller?.abort()
    controller = new AbortController()
    loading.value = true
    error.value = null
    try {
      const r = await http.get<CustomerPage>('/customers', listQuery(config.value), controller.signal)
      if (my !== seq) return
      items.value = r.data.items
      nextCursor.value = r.data.next_cursor ?? null
      loaded.value = true
    } catch (e) {
      if (my !== seq || (e instanceof DOMException && e.name === 'AbortError')) return
      error.value = e
      items.value = []
      nextCursor.value = null
    } finally {
      if (my === seq) loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    if (!nextCursor.value || loadingMore.value) return
    const my = seq
    loadingMore.value = true
    try {
      const r = await http.get<CustomerPage>('/customers', listQuery(config.value, nextCursor.value))
      if (my !== seq) return
      const seen = new Set(items.value.map((c) => c.id))
      items.value = [...items.value, ...r.data.items.filter((c) => !seen.has(c.id))]
      nextCursor.value = r.data.next_cursor ?? null
    } finally {
      loadingMore.value = false
    }
  }

  function apply(c: ListConfig): void {
    q.value = c.q
    Object.assign(filters, c.filters)
    sort.value = c.sort
    desc.value = c.desc
    columns.value = [...c.columns]
  }

  /** Show another list (from the address bar): its settings, none of the old results. */
  function show(c: ListState, viewId: string | null): void {
    seq++
    controller?.abort()
    q.value = c.q
    Object.assign(filters, c.filters)
    sort.value = c.sort
    desc.value = c.desc
    activeViewId.value = viewId
    items.value = []
    nextCursor.value = null
    loading.value = false
    loadingMore.value = false
    loaded.value = false
    error.value = null
  }

  function resetFilters(): void {
    Object.assign(filters, emptyFilters())
  }

  /** Forget everything (sign-out, or another user signs in). */
  function reset(): void {
    seq++
    controller?.abort()
    q.value = ''
    Object.assign(filters, emptyFilters())
    sort.value = 'created_at'
    desc.value = true
    items.value = []
    nextCursor.value = null
    loading.value = false
    loadingMore.value = false
    loaded.value = false
    error.value = null
    activeViewId.value = null
  }

  function replaceItem(c: CustomerView): void {
    const i = items.value.findIndex((x) => x.id === c.id)
    if (i < 0) return
    // tier and stage come with list responses only: keep the list's
    const old = items.value[i]
    items.value.splice(i, 1, { ...c, tier: c.tier ?? old?.tier ?? null, stage: c.stage ?? old?.stage ?? null })
  }

  return {
    q,
    filters,
    sort,
    desc,
    columns,
    items,
    nextCursor,
    loading,
    loadingMore,
    loaded,
    error,
    activeViewId,
    config,
    filterCount,
    load,
    loadMore,
    apply,
    show,
    resetFilters,
    replaceItem,
    reset,
  }
})
