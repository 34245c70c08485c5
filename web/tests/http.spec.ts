import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, buildQuery, configureApi, etagVersion, http, ifMatchHeader, parseProblem, request, type SessionMe } from '@/api/http'

interface Captured {
  url: string
  init: RequestInit
}

function mockFetch(status: number, body: unknown, headers: Record<string, string> = {}) {
  const calls: Captured[] = []
  const fn = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} })
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
    return new Response(status === 204 ? null : text, { status, headers })
  })
  configureApi({ fetch: fn as unknown as typeof fetch })
  return calls
}

function header(c: Captured | undefined, name: string): string | undefined {
  const h = (c?.init.headers ?? {}) as Record<string, string>
  const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase())
  return key ? h[key] : undefined
}

const problem422 = {
  type: 'problem.validation',
  title: 'Unprocessable Entity',
  status: 422,
  detail: '有 2 处填写有误',
  errors: [
    { field: 'phones[1]', code: 'phone.invalid', params: {}, message: '电话号码无效' },
    { field: 'name', code: 'text.required', params: {}, message: '请填写名称' },
  ],
}

describe('API client', () => {
  afterEach(() =>
    configureApi({
      locale: () => 'zh-CN',
      csrf: () => null,
      onUnauthorized: () => {},
      identity: () => null,
      onCsrfToken: () => {},
      onSessionChanged: () => {},
    }),
  )

  it('sends Accept-Language from the UI language on every request', async () => {
    const calls = mockFetch(200, { ok: true })
    configureApi({ locale: () => 'en' })
    await http.get('/customers')
    expect(header(calls[0], 'Accept-Language')).toBe('en')
    configureApi({ locale: () => 'zh-CN' })
    await http.get('/customers')
    expect(header(calls[1], 'Accept-Language')).toBe('zh-CN')
  })

  it('sends X-CSRF-Token on unsafe methods only', async () => {
    const calls = mockFetch(200, {})
    configureApi({ csrf: () => 'tok-123' })
    await http.get('/customers')
    await http.post('/customers', { name: 'x' })
    await http.patch('/customers/1', { name: 'y' }, 3)
    await http.put('/customers/1/team/2', { access: 'read' })
    await http.del('/customers/1', 4)
    expect(header(calls[0], 'X-CSRF-Token')).toBeUndefined()
    for (const c of calls.slice(1)) expect(header(c, 'X-CSRF-Token')).toBe('tok-123')
    expect(calls.map((c) => c.init.method)).toEqual(['GET', 'POST', 'PATCH', 'PUT', 'DELETE'])
  })

  it('sends If-Match as a quoted ETag and reads the version back', async () => {
    const calls = mockFetch(200, { id: '1', version: 4 }, { ETag: '"4"' })
    const r = await http.patch('/customers/1', { name: 'y' }, 3)
    expect(header(calls[0], 'If-Match')).toBe('"3"')
    expect(header(calls[0], 'Content-Type')).toBe('application/json')
    expect(calls[0]?.init.body).toBe('{"name":"y"}')
    expect(r.etag).toBe('"4"')
    expect(r.version).toBe(4)
  })

  it('builds query strings without empty values', async () => {
    const calls = mockFetch(200, { items: [] })
    await http.get('/customers', { q: '张三', owner_id: '', kind: undefined, limit: 50, cursor: null })
    expect(calls[0]?.url).toBe('/api/v1/customers?q=%E5%BC%A0%E4%B8%89&limit=50')
    expect(buildQuery({})).toBe('')
  })

  it('turns problem+json into an ApiError with field errors', async () => {
    mockFetch(422, problem422, { 'Content-Type': 'application/problem+json' })
    const e = await http.post('/customers', {}).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    const err = e as ApiError
    expect(err.status).toBe(422)
    expect(err.code).toBe('problem.validation')
    expect(err.message).toBe('有 2 处填写有误')
    expect(err.hasFieldErrors).toBe(true)
    expect(err.fieldErrors).toEqual({ 'phones[1]': ['电话号码无效'], name: ['请填写名称'] })
  })

  it('reports 412 so the caller can offer reload or compare', async () => {
    mockFetch(412, { type: 'problem.version_mismatch', title: 'Precondition Failed', status: 412, detail: '已被他人修改', errors: [] })
    const e = (await http.patch('/customers/1', { name: 'y' }, 1).catch((x: unknown) => x)) as ApiError
    expect(e.status).toBe(412)
    expect(e.code).toBe('problem.version_mismatch')
    expect(e.hasFieldErrors).toBe(false)
  })

  it('reads Retry-After on 429', async () => {
    mockFetch(429, { type: 'problem.throttled', title: 'Too Many Requests', status: 429, detail: 'x', errors: [] }, { 'Retry-After': '37' })
    const e = (await http.post('/auth/login', {}).catch((x: unknown) => x)) as ApiError
    expect(e.status).toBe(429)
    expect(e.retryAfter).toBe(37)
  })

  it('calls onUnauthorized on 401, except for the auth endpoints', async () => {
    const spy = vi.fn()
    configureApi({ onUnauthorized: spy })
    mockFetch(401, { type: 'problem.unauthorized', title: 'Unauthorized', status: 401, detail: '', errors: [] })
    await http.get('/customers').catch(() => {})
    expect(spy).toHaveBeenCalledTimes(1)
    await http.post('/auth/login', {}).catch(() => {})
    await http.get('/auth/me').catch(() => {})
    expect(spy).toHaveBeenCalledTimes(1)
  })

  it('maps a network failure to status 0', async () => {
    configureApi({
      fetch: (async () => {
        throw new TypeError('Failed to fetch')
      }) as unknown as typeof fetch,
    })
    const e = (await request('/customers').catch((x: unknown) => x)) as ApiError
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(0)
    expect(e.code).toBe('network')
  })

  it('handles 204 and non-JSON error bodies', async () => {
    mockFetch(204, undefined)
    const r = await http.del('/customers/1', 2)
    expect(r.status).toBe(204)
    expect(r.data).toBeUndefined()
    mockFetch(502, 'bad gateway')
    const e = (await http.get('/customers').catch((x: unknown) => x)) as ApiError
    expect(e.status).toBe(502)
    expect(e.problem).toBeNull()
  })

  it('parses ETags and If-Match values', () => {
    expect(etagVersion('"12"')).toBe(12)
    expect(etagVersion('W/"7"')).toBe(7)
    expect(etagVersion('abc')).toBeNull()
    expect(etagVersion(null)).toBeNull()
    expect(ifMatchHeader(5)).toBe('"5"')
    expect(ifMatchHeader('"5"')).toBe('"5"')
    expect(ifMatchHeader('5')).toBe('"5"')
  })

  it('tolerates malformed problem documents', () => {
    expect(parseProblem(500, 'not json')).toBeNull()
    const p = parseProblem(422, JSON.stringify({ errors: [{ field: 'name' }, null, 3] }))
    expect(p?.status).toBe(422)
    expect(p?.errors).toEqual([{ field: 'name', code: '', params: {}, message: '' }])
  })
})

const csrfProblem = { type: 'problem.csrf', title: 'Forbidden', status: 403, detail: '会话校验失败', errors: [] }

function meBody(userId: string, tenant: string, csrf: string | null) {
  return {
    user: { id: userId, login: userId, display_name: userId, role: 'sales', locale: 'zh-CN', disabled: false, version: 1, created_at: '' },
    tenant,
    permissions: ['customer.read'],
    data_scope: 'own',
    fields: {},
    ...(csrf ? { csrf_token: csrf } : {}),
  }
}

/**
 * A server whose session cookie now carries `serverCsrf`: unsafe requests with
 * another token get 403 problem.csrf; GET /auth/me answers `me` (or `meStatus`).
 */
function sessionServer(opts: { serverCsrf: string; me?: unknown; meStatus?: number; alwaysCsrf?: boolean }) {
  const calls: Captured[] = []
  const fn = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const c = { url: String(url), init: init ?? {} }
    calls.push(c)
    await new Promise((r) => setTimeout(r, 0))
    if (c.url === '/api/v1/auth/me' && (init?.method ?? 'GET') === 'GET') {
      const status = opts.meStatus ?? 200
      const body = status === 200 ? opts.me : { type: 'problem.unauthorized', title: 'Unauthorized', status, detail: '', errors: [] }
      return new Response(JSON.stringify(body), { status })
    }
    if (init?.method !== 'GET' && (opts.alwaysCsrf || header(c, 'X-CSRF-Token') !== opts.serverCsrf)) {
      return new Response(JSON.stringify(csrfProblem), { status: 403, headers: { 'Content-Type': 'application/problem+json' } })
    }
    return new Response(JSON.stringify({ ok: true, url: c.url }), { status: 200, headers: { ETag: '"2"' } })
  })
  configureApi({ fetch: fn as unknown as typeof fetch })
  return calls
}

/** A tab signed in as `userId`@`tenant` holding CSRF token `token`. */
function tab(userId: string, tenant: string, token: string) {
  const state = { token, changed: [] as SessionMe[], unauthorized: 0, tokens: [] as string[] }
  configureApi({
    csrf: () => state.token,
    identity: () => ({ userId, tenant }),
    onCsrfToken: (t) => {
      state.tokens.push(t)
      state.token = t
    },
    onSessionChanged: (me) => state.changed.push(me),
    onUnauthorized: () => (state.unauthorized += 1),
  })
  return state
}

const summary = (calls: Captured[]) => calls.map((c) => `${c.init.method} ${c.url.replace('/api/v1', '')} ${header(c, 'X-CSRF-Token') ?? '-'}`)

describe('API client: CSRF refusal (the session cookie was replaced)', () => {
  afterEach(() =>
    configureApi({ csrf: () => null, onUnauthorized: () => {}, identity: () => null, onCsrfToken: () => {}, onSessionChanged: () => {} }),
  )

  it('same user: takes the new token from /auth/me and retries the request once, transparently', async () => {
    const calls = sessionServer({ serverCsrf: 'new-tok', me: meBody('u1', 'demo', 'new-tok') })
    const t = tab('u1', 'demo', 'old-tok')
    const r = await http.patch<{ ok: boolean }>('/customers/7', { name: 'y' }, 3)
    expect(r.status).toBe(200)
    expect(r.data.ok).toBe(true)
    expect(r.version).toBe(2)
    expect(summary(calls)).toEqual(['PATCH /customers/7 old-tok', 'GET /auth/me -', 'PATCH /customers/7 new-tok'])
    // the retry is the same request: body and If-Match included
    expect(calls[2]?.init.body).toBe('{"name":"y"}')
    expect(header(calls[2], 'If-Match')).toBe('"3"')
    expect(t.tokens).toEqual(['new-tok'])
    expect(t.token).toBe('new-tok')
    expect(t.changed).toEqual([])
    expect(t.unauthorized).toBe(0)
  })

  it('retries only once: a second refusal is the caller’s error', async () => {
    const calls = sessionServer({ serverCsrf: 'new-tok', me: meBody('u1', 'demo', 'new-tok'), alwaysCsrf: true })
    tab('u1', 'demo', 'old-tok')
    const e = (await http.post('/customers', { name: 'x' }).catch((x: unknown) => x)) as ApiError
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(403)
    expect(e.code).toBe('problem.csrf')
    expect(e.handled).toBe(false)
    expect(summary(calls)).toEqual(['POST /customers old-tok', 'GET /auth/me -', 'POST /customers new-tok'])
  })

  it('another user: no retry, the app is told to reset and go home, the error is marked handled', async () => {
    const calls = sessionServer({ serverCsrf: 'their-tok', me: meBody('u2', 'demo', 'their-tok') })
    const t = tab('u1', 'demo', 'old-tok')
    const e = (await http.post('/customers', { name: 'x' }).catch((x: unknown) => x)) as ApiError
    expect(e).toBeInstanceOf(ApiError)
    expect(e.code).toBe('problem.csrf')
    expect(e.handled).toBe(true)
    expect(summary(calls)).toEqual(['POST /customers old-tok', 'GET /auth/me -'])
    expect(t.changed).toHaveLength(1)
    expect(t.changed[0]?.user.id).toBe('u2')
    expect(t.changed[0]?.csrf_token).toBe('their-tok')
    // the tab's token is not silently swapped for the other account's
    expect(t.tokens).toEqual([])
  })

  it('the same user id in another tenant is another account', async () => {
    const calls = sessionServer({ serverCsrf: 'tok-b', me: meBody('u1', 'other-co', 'tok-b') })
    const t = tab('u1', 'demo', 'old-tok')
    const e = (await http.del('/views/v1', 1).catch((x: unknown) => x)) as ApiError
    expect(e.handled).toBe(true)
    expect(t.changed.map((m) => m.tenant)).toEqual(['other-co'])
    expect(calls).toHaveLength(2)
  })

  it('no session any more (/auth/me answers 401): to the login page, no retry', async () => {
    const calls = sessionServer({ serverCsrf: 'x', meStatus: 401 })
    const t = tab('u1', 'demo', 'old-tok')
    const e = (await http.put('/customers/1/team/2', { access: 'read' }).catch((x: unknown) => x)) as ApiError
    expect(e.status).toBe(403)
    expect(e.handled).toBe(true)
    expect(t.unauthorized).toBe(1)
    expect(t.changed).toEqual([])
    expect(summary(calls)).toEqual(['PUT /customers/1/team/2 old-tok', 'GET /auth/me -'])
  })

  it('an answer without a token (bearer session, older server) or a failing /auth/me leaves the error as it was', async () => {
    sessionServer({ serverCsrf: 'x', me: meBody('u1', 'demo', null) })
    const t = tab('u1', 'demo', 'old-tok')
    const e = (await http.post('/customers', {}).catch((x: unknown) => x)) as ApiError
    expect(e.code).toBe('problem.csrf')
    expect(e.handled).toBe(false)
    sessionServer({ serverCsrf: 'x', meStatus: 500 })
    const e2 = (await http.post('/customers', {}).catch((x: unknown) => x)) as ApiError
    expect(e2.code).toBe('problem.csrf')
    expect(e2.handled).toBe(false)
    expect(t.unauthorized).toBe(0)
    expect(t.tokens).toEqual([])
  })

  it('requests refused together share one /auth/me, then each is retried', async () => {
    const calls = sessionServer({ serverCsrf: 'new-tok', me: meBody('u1', 'demo', 'new-tok') })
    const t = tab('u1', 'demo', 'old-tok')
    const [a, b] = await Promise.all([http.post('/customers', { n: 1 }), http.patch('/customers/2', { n: 2 }, 1)])
    expect(a.status).toBe(200)
    expect(b.status).toBe(200)
    expect(calls.filter((c) => c.url.endsWith('/auth/me'))).toHaveLength(1)
    expect(calls.filter((c) => header(c, 'X-CSRF-Token') === 'new-tok').map((c) => c.init.method).sort()).toEqual(['PATCH', 'POST'])
    expect(t.tokens).toEqual(['new-tok'])
  })

  it('leaves other 403s and safe methods alone', async () => {
    const calls = mockFetch(403, { type: 'problem.forbidden', title: 'Forbidden', status: 403, detail: 'no', errors: [] })
    tab('u1', 'demo', 'tok')
    const e = (await http.post('/customers', {}).catch((x: unknown) => x)) as ApiError
    expect(e.code).toBe('problem.forbidden')
    expect(calls).toHaveLength(1)
    const calls2 = mockFetch(403, csrfProblem)
    const e2 = (await http.get('/customers').catch((x: unknown) => x)) as ApiError
    expect(e2.code).toBe('problem.csrf')
    expect(calls2).toHaveLength(1)
  })
})
