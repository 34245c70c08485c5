// The app's side of the CSRF recovery (src/session.ts): a changed account
// resets every store and goes home with a notice; the same account keeps
// working with the new token; no session at all goes to the sign-in page.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { configureApi, http, type ApiError } from '@/api/http'
import type { MeView, UserView } from '@/api/types'
import { i18n, setLocale } from '@/i18n'
import { connectApi } from '@/session'
import { useAuthStore } from '@/stores/auth'
import { useCustomerListStore } from '@/stores/customerList'
import { useRefDataStore } from '@/stores/refdata'
import { resetStores, trackStores } from '@/stores/reset'
import { flush } from './helpers'

function user(id: string, locale = 'zh-CN'): UserView {
  return { id, login: id, display_name: `用户${id}`, role: 'sales', locale, disabled: false, version: 1, created_at: '' } as UserView
}

function me(id: string, tenant: string, csrf?: string, locale = 'zh-CN'): MeView {
  return { user: user(id, locale), tenant, permissions: ['customer.read'], data_scope: 'own', fields: {}, ...(csrf ? { csrf_token: csrf } : {}) } as MeView
}

async function setup() {
  setLocale('zh-CN')
  const pinia = createPinia()
  pinia.use(trackStores)
  const app = createApp({})
  app.use(pinia)
  app.use(i18n)
  setActivePinia(pinia)
  const blank = { template: '<div />' }
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'home', component: blank },
      { path: '/login', name: 'login', component: blank, meta: { public: true } },
      { path: '/customers', name: 'customers', component: blank },
    ],
  })
  await router.push('/customers?from=test')
  connectApi(pinia, router)
  // signed in as u1 of demo, with a list and reference data on screen
  const auth = useAuthStore()
  auth.me = me('u1', 'demo')
  auth.setCsrf('old-tok')
  const list = useCustomerListStore()
  list.q = '张三'
  list.filters.kind = 'company'
  list.items = [{ id: 'c1' } as never]
  list.activeViewId = 'v1'
  const refdata = useRefDataStore()
  refdata.users = [user('u1')]
  return { pinia, router, auth, list, refdata }
}

/** Unsafe requests with a token other than `token` get 403 problem.csrf; /auth/me answers `meAnswer`. */
function server(token: string, meAnswer: MeView | null) {
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    if (String(url).endsWith('/auth/me')) {
      return meAnswer
        ? new Response(JSON.stringify(meAnswer), { status: 200 })
        : new Response(JSON.stringify({ type: 'problem.unauthorized', title: 'Unauthorized', status: 401, detail: '', errors: [] }), { status: 401 })
    }
    const sent = (init?.headers as Record<string, string>)['X-CSRF-Token']
    if (sent !== token) {
      return new Response(JSON.stringify({ type: 'problem.csrf', title: 'Forbidden', status: 403, detail: 'csrf', errors: [] }), { status: 403 })
    }
    return new Response(JSON.stringify({ id: 'v9', name: '新视图' }), { status: 201 })
  })
  configureApi({ fetch: fetch as unknown as typeof globalThis.fetch })
  return fetch
}

afterEach(() => {
  document.body.innerHTML = ''
  configureApi({ fetch: (...a) => globalThis.fetch(...a), csrf: () => null, identity: () => null })
  setLocale('zh-CN')
})

describe('session changes under the tab', () => {
  it('another account: every store is reset, the new account is taken over, home with a notice', async () => {
    const { router, auth, list, refdata } = await setup()
    server('their-tok', me('u2', 'demo', 'their-tok', 'en'))
    const e = (await http.post('/views', { name: 'x' }).catch((x: unknown) => x)) as ApiError
    await flush()
    expect(e.handled).toBe(true)
    // nothing of u1 is left
    expect(list.q).toBe('')
    expect(list.filters.kind).toBe('')
    expect(list.items).toEqual([])
    expect(list.activeViewId).toBeNull()
    expect(refdata.users).toEqual([])
    // u2's session as it is now, in u2's language
    expect(auth.user?.id).toBe('u2')
    expect(auth.csrf).toBe('their-tok')
    expect(sessionStorage.getItem('kehu.csrf')).toBe('their-tok')
    expect(i18n.global.locale.value).toBe('en')
    expect(router.currentRoute.value.name).toBe('home')
    const notice = document.body.querySelector('.session-changed')
    expect(notice?.textContent).toContain('Signed-in account changed')
    expect(notice?.textContent).toContain('用户u2 (demo)')
  })

  it('the same account signed in again: the write goes through with the new token, nothing is reset', async () => {
    const { router, auth, list } = await setup()
    const fetch = server('new-tok', me('u1', 'demo', 'new-tok'))
    const r = await http.post<{ id: string }>('/views', { name: 'x' })
    expect(r.data.id).toBe('v9')
    expect(fetch).toHaveBeenCalledTimes(3)
    expect(auth.csrf).toBe('new-tok')
    expect(sessionStorage.getItem('kehu.csrf')).toBe('new-tok')
    expect(list.q).toBe('张三')
    expect(router.currentRoute.value.fullPath).toBe('/customers?from=test')
    expect(document.body.querySelector('.session-changed')).toBeNull()
  })

  it('no session any more: signed out here too, to the sign-in page with the way back', async () => {
    const { router, auth } = await setup()
    server('whatever', null)
    const e = (await http.post('/views', { name: 'x' }).catch((x: unknown) => x)) as ApiError
    await flush()
    expect(e.handled).toBe(true)
    expect(auth.me).toBeNull()
    expect(auth.csrf).toBeNull()
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query).toEqual({ redirect: '/customers?from=test', expired: '1' })
  })

  it('resetStores reaches every store created, and only those', async () => {
    const { pinia } = await setup()
    expect(resetStores(pinia).sort()).toEqual(['auth', 'customerList', 'refdata'])
  })
})
