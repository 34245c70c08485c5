// The one place that talks HTTP to the Kehu API. Every request carries
// Accept-Language (the UI language), every unsafe one X-CSRF-Token, PATCH and
// DELETE If-Match; failures become ApiError with the parsed problem document.

export interface ProblemField {
  field: string
  code: string
  params: Record<string, unknown>
  message: string
}

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  errors: ProblemField[]
}

export type QueryValue = string | number | boolean | null | undefined
export type Query = Record<string, QueryValue>

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  query?: Query
  body?: unknown
  /** The resource version (number) or a full ETag string. */
  ifMatch?: number | string
  signal?: AbortSignal
}

export interface ApiResponse<T> {
  data: T
  status: number
  etag: string | null
  /** The version from the ETag header (`"3"` → 3), when there is one. */
  version: number | null
}

export interface ApiContext {
  /** `zh-CN` or `en`. */
  locale: () => string
  csrf: () => string | null
  /** Called on 401 from anything but the auth endpoints themselves. */
  onUnauthorized: () => void
  baseUrl: string
  fetch: typeof fetch
}

const ctx: ApiContext = {
  locale: () => 'zh-CN',
  csrf: () => null,
  onUnauthorized: () => {},
  baseUrl: '/api/v1',
  fetch: (...args) => globalThis.fetch(...args),
}

export function configureApi(c: Partial<ApiContext>): void {
  Object.assign(ctx, c)
}

export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem | null
  /** Seconds from Retry-After (429). */
  readonly retryAfter: number | null

  constructor(status: number, problem: Problem | null, retryAfter: number | null, message?: string) {
    super(message ?? problem?.detail ?? problem?.title ?? `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.problem = problem
    this.retryAfter = retryAfter
  }

  /** Problem type code, e.g. `problem.validation`; `network` when no response came. */
  get code(): string {
    if (this.status === 0) return 'network'
    return this.problem?.type ?? `http.${this.status}`
  }

  /** Field name → messages (already in the request's language). */
  get fieldErrors(): Record<string, string[]> {
    const out: Record<string, string[]> = {}
    for (const e of this.problem?.errors ?? []) {
      if (!e.field) continue
      ;(out[e.field] ??= []).push(e.message || e.code)
    }
    return out
  }

  get hasFieldErrors(): boolean {
    return (this.problem?.errors ?? []).some((e) => !!e.field)
  }
}

/** `"3"`, `W/"3"` or `3` → 3. */
export function etagVersion(etag: string | null | undefined): number | null {
  if (!etag) return null
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(etag.trim())
  return m ? Number(m[1]) : null
}

export function ifMatchHeader(v: number | string): string {
  if (typeof v === 'number') return `"${v}"`
  return v.startsWith('"') || v.startsWith('W/') ? v : `"${v}"`
}

export function buildQuery(q: Query | undefined): string {
  if (!q) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue
    p.append(k, String(v))
  }
  const s = p.toString()
  return s ? `?${s}` : ''
}

/** Parses a problem+json (or any JSON error) body; tolerates garbage. */
export function parseProblem(status: number, text: string): Problem | null {
  if (!text) return null
  try {
    const raw: unknown = JSON.parse(text)
    if (!raw || typeof raw !== 'object') return null
    const o = raw as Record<string, unknown>
    const errors = Array.isArray(o.errors)
      ? o.errors
          .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
          .map((e) => ({
            field: typeof e.field === 'string' ? e.field : '',
            code: typeof e.code === 'string' ? e.code : '',
            params:
              e.params && typeof e.params === 'object' ? (e.params as Record<string, unknown>) : {},
            message: typeof e.message === 'string' ? e.message : '',
          }))
      : []
    return {
      type: typeof o.type === 'string' ? o.type : '',
      title: typeof o.title === 'string' ? o.title : '',
      status: typeof o.status === 'number' ? o.status : status,
      detail: typeof o.detail === 'string' ? o.detail : '',
      errors,
    }
  } catch {
    return null
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const method = opts.method ?? 'GET'
  const headers: Record<string, string> = {
    Accept: 'application/json, application/problem+json',
    'Accept-Language': ctx.locale(),
  }
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  if (UNSAFE.has(method)) {
    const token = ctx.csrf()
    if (token) headers['X-CSRF-Token'] = token
  }
  if (opts.ifMatch !== undefined) headers['If-Match'] = ifMatchHeader(opts.ifMatch)

  let res: Response
  try {
    res = await ctx.fetch(ctx.baseUrl + path + buildQuery(opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(0, null, null, e instanceof Error ? e.message : String(e))
  }

  const etag = res.headers.get('ETag')
  const text = res.status === 204 ? '' : await res.text()
  if (!res.ok) {
    const ra = res.headers.get('Retry-After')
    const retryAfter = ra !== null && /^\d+$/.test(ra.trim()) ? Number(ra) : null
    const err = new ApiError(res.status, parseProblem(res.status, text), retryAfter)
    if (res.status === 401 && !path.startsWith('/auth/')) ctx.onUnauthorized()
    throw err
  }
  let data: unknown = undefined
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = text
    }
  }
  return { data: data as T, status: res.status, etag, version: etagVersion(etag) }
}

export const http = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) =>
    request<T>(path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>(path, { method: 'POST', body: body ?? {} }),
  put: <T>(path: string, body?: unknown) => request<T>(path, { method: 'PUT', body: body ?? {} }),
  patch: <T>(path: string, body: unknown, ifMatch?: number | string) =>
    request<T>(path, { method: 'PATCH', body, ifMatch }),
  del: (path: string, ifMatch?: number | string) =>
    request<void>(path, { method: 'DELETE', ifMatch }),
}
