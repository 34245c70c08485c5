// The one place that talks HTTP to the Kehu API. Every request carries
// Accept-Language (the UI language), every unsafe one X-CSRF-Token, PATCH and
// DELETE If-Match; failures become ApiError with the parsed problem document.
// An unsafe request refused with `problem.csrf` (the session cookie was
// replaced: another tab signed in again, maybe as someone else) asks
// /auth/me who the cookie belongs to now and either retries once with the
// new token (same user) or hands over to the app (another user, or signed out).

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

/** Who a session belongs to: enough to tell whether the account changed. */
export interface SessionIdentity {
  userId: string
  tenant: string
}

/** The part of GET /auth/me the CSRF recovery needs (MeView fits). */
export interface SessionMe {
  user: { id: string }
  tenant: string
  csrf_token?: string | null
}

export interface ApiContext {
  /** `zh-CN` or `en`. */
  locale: () => string
  csrf: () => string | null
  /** Called on 401 from anything but the auth endpoints themselves. */
  onUnauthorized: () => void
  /** Who this tab believes is signed in; null when nobody is. */
  identity: () => SessionIdentity | null
  /** After a CSRF refusal: the same user's session has this token now. */
  onCsrfToken: (token: string) => void
  /** After a CSRF refusal: the session cookie now belongs to another account. */
  onSessionChanged: (me: SessionMe) => void
  baseUrl: string
  fetch: typeof fetch
}

const ctx: ApiContext = {
  locale: () => 'zh-CN',
  csrf: () => null,
  onUnauthorized: () => {},
  identity: () => null,
  onCsrfToken: () => {},
  onSessionChanged: () => {},
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
  /**
   * The client has already dealt with it (the account changed, or the session
   * ended and the app went to the sign-in page): callers should not report it.
   */
  handled = false

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

async function send<T>(path: string, opts: RequestOptions): Promise<ApiResponse<T>> {
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

type Recovery =
  /** Same account: the new token is stored, the request may be sent again. */
  | { kind: 'same'; me: SessionMe }
  /** Another account (or tenant) owns the cookie now; the app was told. */
  | { kind: 'changed' }
  /** No session any more; the app was sent to the sign-in page. */
  | { kind: 'signed-out' }
  /** Nothing to recover with (no token in the answer, or /auth/me failed). */
  | { kind: 'failed' }

function sameIdentity(a: SessionIdentity | null, me: SessionMe): boolean {
  return !!a && a.userId === me.user.id && a.tenant === me.tenant
}

/** One /auth/me at a time, however many requests were refused together. */
let recovering: Promise<Recovery> | null = null

function recoverSession(): Promise<Recovery> {
  recovering ??= (async (): Promise<Recovery> => {
    const before = ctx.identity()
    let me: SessionMe
    try {
      me = (await send<SessionMe>('/auth/me', {})).data
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        ctx.onUnauthorized()
        return { kind: 'signed-out' }
      }
      return { kind: 'failed' }
    }
    const token = me?.csrf_token
    if (!me?.user || !token) return { kind: 'failed' }
    if (!sameIdentity(before, me)) {
      ctx.onSessionChanged(me)
      return { kind: 'changed' }
    }
    ctx.onCsrfToken(token)
    return { kind: 'same', me }
  })().finally(() => {
    recovering = null
  })
  return recovering
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const method = opts.method ?? 'GET'
  // Who sent it: a write is only ever repeated for the same account.
  const sender = UNSAFE.has(method) ? ctx.identity() : null
  try {
    return await send<T>(path, opts)
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403 || e.code !== 'problem.csrf' || !UNSAFE.has(method)) throw e
    const r = await recoverSession()
    if (r.kind === 'same' && sameIdentity(sender, r.me)) return send<T>(path, opts)
    // 'same' with another sender: the account changed after this was sent,
    // and the app has already moved on.
    if (r.kind !== 'failed') e.handled = true
    throw e
  }
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
