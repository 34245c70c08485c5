// The customer list keeps its search text, filters, sort and saved view in the
// URL: a reload or a shared link shows the same list, and changes go back into it.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { configureApi } from '@/api/http'
import type { MeView } from '@/api/types'
import { useAuthStore } from '@/stores/auth'
import { useCustomerListStore } from '@/stores/customerList'
import CustomerList from '@/views/customers/CustomerList.vue'
import { flush, jsonResponse, plugins } from './helpers'

function server() {
  const lists: URLSearchParams[] = []
  const fetch = vi.fn(async (url: RequestInfo | URL) => {
    const u = new URL(String(url), 'http://x')
    if (u.pathname === '/api/v1/customers') {
      lists.push(u.searchParams)
      return jsonResponse(200, { items: [], next_cursor: null })
    }
    return jsonResponse(200, [])
  })
  configureApi({ fetch: fetch as unknown as typeof globalThis.fetch })
  return lists
}

async function mountAt(path: string) {
  const lists = server()
  const { global, router } = plugins()
  useAuthStore().me = { user: { id: 'u' }, tenant: 'demo', permissions: ['customer.read'], data_scope: 'all', fields: {} } as unknown as MeView
  await router.push(path)
  const w = mount(CustomerList, { global, attachTo: document.body })
  await flush(10)
  return { w, router, lists, list: useCustomerListStore() }
}

const settle = async () => {
  await new Promise((r) => setTimeout(r, 350))
  await flush(10)
}

afterEach(() => {
  document.body.innerHTML = ''
  configureApi({ fetch: (...a) => globalThis.fetch(...a) })
})

describe('customer list URL', () => {
  it('a link with a search and filters shows that list from the first request', async () => {
    const { w, lists, list } = await mountAt('/customers?q=%E5%BC%A0&kind=company&created=2026-01-01..2026-01-31&sort=name&view=v7')
    expect(lists).toHaveLength(1)
    const p = lists[0]
    expect(p?.get('q')).toBe('张')
    expect(p?.get('kind')).toBe('company')
    expect(p?.get('created_from')).toBe('2026-01-01')
    expect(p?.get('created_to')).toBe('2026-02-01')
    expect(p?.get('sort')).toBe('name')
    expect((w.find('input[data-testid=customer-search]').element as HTMLInputElement).value).toBe('张')
    expect(list.activeViewId).toBe('v7')
  })

  it('changes to the search, filters and sort go into the URL', async () => {
    const { router, list } = await mountAt('/customers')
    expect(router.currentRoute.value.query).toEqual({})
    const push = vi.spyOn(router, 'push')
    list.q = '李'
    list.filters.province = '广东省'
    list.sort = 'updated_at'
    await settle()
    expect(router.currentRoute.value.query).toEqual({ q: '李', province: '广东省', sort: '-updated_at' })
    list.resetFilters()
    list.q = ''
    await settle()
    expect(router.currentRoute.value.query).toEqual({ sort: '-updated_at' })
    // replaced, not pushed: Back leaves the list instead of stepping through keystrokes
    expect(push).not.toHaveBeenCalled()
  })

  it('coming back to a bare /customers keeps the list and writes it into the URL', async () => {
    const lists = server()
    const { global, router } = plugins()
    useAuthStore().me = { user: { id: 'u' }, tenant: 'demo', permissions: ['customer.read'], data_scope: 'all', fields: {} } as unknown as MeView
    const list = useCustomerListStore()
    list.q = '王'
    list.loaded = true
    await router.push('/customers')
    mount(CustomerList, { global, attachTo: document.body })
    await flush(10)
    expect(router.currentRoute.value.query).toEqual({ q: '王' })
    expect(lists).toHaveLength(0)
  })

  it('navigating to another list URL (back/forward, a link) shows that list', async () => {
    const { router, lists, list } = await mountAt('/customers?kind=company')
    await router.push('/customers?kind=person&q=%E8%B5%B5')
    await settle()
    expect(list.filters.kind).toBe('person')
    expect(list.q).toBe('赵')
    expect(lists.at(-1)?.get('kind')).toBe('person')
    expect(lists.at(-1)?.get('q')).toBe('赵')
    // junk is cleaned out of the URL
    await router.push('/customers?kind=robot&sort=DROP')
    await settle()
    expect(list.filters.kind).toBe('')
    expect(router.currentRoute.value.query).toEqual({})
  })

  it('tier, stage and tag filters come from a link and go back into the URL', async () => {
    const { lists, list, router } = await mountAt('/customers?tier=A&stage=at_risk&tag=%E5%8D%8E%E4%B8%9C')
    expect(lists).toHaveLength(1)
    expect(lists[0]?.get('tier')).toBe('A')
    expect(lists[0]?.get('stage')).toBe('at_risk')
    expect(lists[0]?.get('tag')).toBe('华东')
    expect(list.filterCount).toBe(3)
    list.filters.tier = 'B'
    list.filters.tag = ''
    await settle()
    expect(router.currentRoute.value.query).toEqual({ tier: 'B', stage: 'at_risk' })
    expect(lists.at(-1)?.get('tier')).toBe('B')
    expect(lists.at(-1)?.has('tag')).toBe(false)
  })
})
