import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, buildQuery, configureApi, etagVersion, http, ifMatchHeader, parseProblem, request } from '@/api/http'

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
  afterEach(() => configureApi({ locale: () => 'zh-CN', csrf: () => null, onUnauthorized: () => {} }))

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
