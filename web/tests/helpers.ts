// Mounting helpers: the app's i18n, a fresh Pinia and a memory router.
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n, setLocale } from '@/i18n'

export function plugins(locale: 'zh-CN' | 'en' = 'zh-CN') {
  setLocale(locale)
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'home', component: { template: '<div />' } },
      { path: '/login', name: 'login', component: { template: '<div />' } },
      { path: '/customers', name: 'customers', component: { template: '<div />' } },
      { path: '/customers/new', name: 'customer-new', component: { template: '<div />' } },
      { path: '/customers/:id', name: 'customer', component: { template: '<div />' } },
      { path: '/customers/:id/edit', name: 'customer-edit', component: { template: '<div />' } },
    ],
  })
  return { pinia, router, global: { plugins: [pinia, router, i18n] } }
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

export async function flush(n = 5) {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0))
}
