// Saved views: naming a new view and renaming one (PATCH with If-Match; the
// server's 409/422 message under the name field; 412 reloads with a notice).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { configureApi } from '@/api/http'
import type { SavedView } from '@/api/types'
import { useCustomerListStore } from '@/stores/customerList'
import ViewNameDialog from '@/views/customers/ViewNameDialog.vue'
import SavedViews from '@/views/customers/SavedViews.vue'
import { flush, jsonResponse, plugins } from './helpers'

const view: SavedView = {
  id: 'v1',
  name: '本月新客户',
  kind: 'customers',
  config: { q: '' },
  version: 3,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
}

interface Call {
  url: string
  method: string
  body: unknown
  ifMatch: string | undefined
}

/** Answers each request with the next response; records what was sent. */
function server(...responses: Response[]) {
  const calls: Call[] = []
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const h = (init?.headers ?? {}) as Record<string, string>
    calls.push({ url: String(url), method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined, ifMatch: h['If-Match'] })
    const r = responses.shift()
    if (!r) throw new Error(`unexpected request ${String(url)}`)
    return r
  })
  configureApi({ fetch: fetch as unknown as typeof globalThis.fetch })
  return calls
}

const problem = (status: number, type: string, errors: unknown[] = [], detail = '') => jsonResponse(status, { type, title: 'x', status, detail, errors })

function nameInput(): HTMLInputElement {
  return document.body.querySelector('[data-testid=view-name] input, input[data-testid=view-name]') as HTMLInputElement
}

async function typeName(value: string) {
  const input = nameInput()
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flush()
}

async function submit() {
  ;(document.body.querySelector('[data-testid=view-name-form]') as HTMLFormElement).dispatchEvent(new Event('submit'))
  await flush()
}

/** The message under the name field (Element Plus shows it after a 100 ms debounce). */
async function fieldError(): Promise<string> {
  await new Promise((r) => setTimeout(r, 150))
  await flush()
  const item = nameInput().closest('.el-form-item')
  return item?.querySelector('.el-form-item__error')?.textContent?.trim() ?? ''
}

// the field's error message sits in a transition group: render it for real
const NO_TRANSITIONS = { transition: false, 'transition-group': false }

afterEach(() => {
  document.body.innerHTML = ''
  configureApi({ fetch: (...a) => globalThis.fetch(...a) })
})

describe('ViewNameDialog: rename', () => {
  async function open() {
    const { global } = plugins()
    const w = mount(ViewNameDialog, { global: { ...global, stubs: NO_TRANSITIONS }, attachTo: document.body, props: { modelValue: false, view } })
    await w.setProps({ modelValue: true })
    await flush()
    return w
  }

  it('starts from the current name and sends only the new name, with If-Match', async () => {
    const calls = server(jsonResponse(200, { ...view, name: '重点客户', version: 4 }, { ETag: '"4"' }))
    const w = await open()
    expect(nameInput().value).toBe('本月新客户')
    await typeName('  重点客户 ')
    await submit()
    expect(calls).toEqual([{ url: '/api/v1/views/v1', method: 'PATCH', body: { name: '重点客户' }, ifMatch: '"3"' }])
    expect(w.emitted('saved')?.[0]?.[0]).toMatchObject({ id: 'v1', name: '重点客户', version: 4 })
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([false])
  })

  it('shows the server’s message for a taken name next to the field and stays open', async () => {
    server(
      problem(409, 'problem.conflict', [{ field: 'name', code: 'unique.view_name', params: {}, message: '已有同名视图，请换一个名称' }], '与现有数据冲突'),
    )
    const w = await open()
    await typeName('欧阳客户')
    await submit()
    expect(await fieldError()).toBe('已有同名视图，请换一个名称')
    expect(w.emitted('saved')).toBeUndefined()
    expect(w.emitted('update:modelValue')).toBeUndefined()
    // no notification on top of it
    expect(document.body.querySelector('.el-notification')).toBeNull()
  })

  it('412: closes and asks the caller to reload', async () => {
    server(problem(412, 'problem.version_mismatch'))
    const w = await open()
    await typeName('新名字')
    await submit()
    expect(w.emitted('stale')).toHaveLength(1)
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([false])
    expect(w.emitted('saved')).toBeUndefined()
  })

  it('checks the length before asking the server; an unchanged name sends nothing', async () => {
    const calls = server()
    const w = await open()
    await typeName('   ')
    await submit()
    expect(await fieldError()).toBe('请输入 1–50 个字符')
    await typeName('本月新客户')
    await submit()
    expect(calls).toEqual([])
    expect(w.emitted('update:modelValue')?.at(-1)).toEqual([false])
  })
})

describe('ViewNameDialog: save as', () => {
  it('posts the name with the list’s settings', async () => {
    const config = { q: '张', filters: { owner_id: '', department_id: '', kind: 'person', province: '', created: null, updated: null, tier: 'A', stage: '', tag: '' }, sort: 'name' as const, desc: false, columns: ['name' as const] }
    const calls = server(jsonResponse(201, { ...view, id: 'v2', name: '张姓个人', version: 1 }))
    const { global } = plugins()
    const w = mount(ViewNameDialog, { global: { ...global, stubs: NO_TRANSITIONS }, attachTo: document.body, props: { modelValue: false, view: null, config } })
    await w.setProps({ modelValue: true })
    await flush()
    expect(nameInput().value).toBe('')
    await typeName('张姓个人')
    await submit()
    expect(calls).toEqual([{ url: '/api/v1/views', method: 'POST', body: { name: '张姓个人', kind: 'customers', config }, ifMatch: undefined }])
    expect(w.emitted('saved')?.[0]?.[0]).toMatchObject({ id: 'v2' })
  })
})

describe('SavedViews', () => {
  it('a stale rename reloads the list of views and says so', async () => {
    const calls = server(jsonResponse(200, [view]), jsonResponse(200, [{ ...view, name: '别处改的名', version: 4 }]))
    const { global } = plugins()
    const list = useCustomerListStore()
    list.activeViewId = 'v1'
    const w = mount(SavedViews, { global, attachTo: document.body })
    await flush()
    expect(w.text()).toContain('本月新客户')
    w.findComponent(ViewNameDialog).vm.$emit('stale')
    await flush()
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET /api/v1/views?kind=customers', 'GET /api/v1/views?kind=customers'])
    expect(document.body.querySelector('.el-message')?.textContent).toContain('视图已在别处修改，已重新加载。')
    expect(w.text()).toContain('别处改的名')
  })

  it('a rename updates the name shown', async () => {
    server(jsonResponse(200, [view]))
    const { global } = plugins('en')
    useCustomerListStore().activeViewId = 'v1'
    const w = mount(SavedViews, { global, attachTo: document.body })
    await flush()
    w.findComponent(ViewNameDialog).vm.$emit('saved', { ...view, name: 'Key accounts', version: 4 })
    await flush()
    expect(w.text()).toContain('Key accounts')
    expect(document.body.querySelector('.el-message')?.textContent).toContain('View renamed to "Key accounts"')
  })
})
