import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { configureApi } from '@/api/http'
import { useAuthStore } from '@/stores/auth'
import type { CustomerView, MeView } from '@/api/types'
import CustomerForm from '@/views/customers/CustomerForm.vue'
import BulkDialog from '@/views/customers/BulkDialog.vue'
import { flush, jsonResponse, plugins } from './helpers'

const base: CustomerView = {
  id: 'c1',
  code: 'KH1',
  kind: 'person',
  name: '张三',
  notes: '旧备注',
  masked: [],
  version: 3,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
}

function signIn() {
  const auth = useAuthStore()
  auth.csrf = 'csrf-1'
  configureApi({ csrf: () => auth.csrf }) // as main.ts wires it
  auth.me = {
    user: { id: 'u1', login: 'admin', display_name: 'admin', role: 'admin', locale: 'zh-CN', disabled: false, version: 1, created_at: '' },
    tenant: 'demo',
    permissions: ['customer.read', 'customer.update', 'customer.create', 'customer.assign'],
    data_scope: 'all',
    fields: {},
  } as unknown as MeView
}

type Handler = (url: string, init: RequestInit) => Response | undefined

function route(handler: Handler) {
  const calls: { url: string; init: RequestInit }[] = []
  const fn = vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
    const url = String(u)
    calls.push({ url, init: init ?? {} })
    if (url.startsWith('/api/v1/users')) return jsonResponse(200, [])
    if (url.startsWith('/api/v1/custom-fields')) return jsonResponse(200, [])
    return handler(url, init ?? {}) ?? jsonResponse(404, { type: 'problem.not_found', title: '', status: 404, detail: '', errors: [] })
  })
  configureApi({ fetch: fn as unknown as typeof fetch })
  return calls
}

afterEach(() => {
  document.body.innerHTML = ''
  configureApi({ fetch: (...a) => globalThis.fetch(...a), csrf: () => null })
})

describe('CustomerForm', () => {
  it('on 412 shows their values beside mine and does not overwrite until asked', async () => {
    let gets = 0
    const calls = route((url, init) => {
      if (url === '/api/v1/customers/c1' && (init.method ?? 'GET') === 'GET') {
        gets += 1
        // the second read (after the 412) sees someone else's save
        const c = gets === 1 ? base : { ...base, notes: '他人的备注', version: 4 }
        return jsonResponse(200, c, { ETag: `"${c.version}"` })
      }
      if (url === '/api/v1/customers/c1' && init.method === 'PATCH') {
        const h = init.headers as Record<string, string>
        if (h['If-Match'] === '"3"') {
          return jsonResponse(412, { type: 'problem.version_mismatch', title: 'Precondition Failed', status: 412, detail: '', errors: [] })
        }
        return jsonResponse(200, { ...base, notes: '我的备注', version: 5 }, { ETag: '"5"' })
      }
      return undefined
    })
    const { global, router } = plugins()
    signIn()
    await router.push('/customers/c1/edit')
    const w = mount(CustomerForm, { global, attachTo: document.body })
    await flush(10)
    const notes = w.find('textarea')
    expect((notes.element as HTMLTextAreaElement).value).toBe('旧备注')
    await notes.setValue('我的备注')
    await w.find('form').trigger('submit')
    await flush(10)

    const patches = calls.filter((c) => c.init.method === 'PATCH')
    expect(patches).toHaveLength(1)
    expect(JSON.parse(String(patches[0]?.init.body))).toEqual({ notes: '我的备注' })
    expect((patches[0]?.init.headers as Record<string, string>)['X-CSRF-Token']).toBe('csrf-1')
    const dialog = document.body.querySelector('[data-testid=conflict-dialog]')
    expect(dialog?.textContent).toContain('他人的备注')
    expect(dialog?.textContent).toContain('我的备注')

    // only an explicit choice overwrites, with the version just read
    ;(document.body.querySelector('[data-testid=conflict-overwrite]') as HTMLElement).click()
    await flush(10)
    const second = calls.filter((c) => c.init.method === 'PATCH')[1]
    expect((second?.init.headers as Record<string, string>)['If-Match']).toBe('"4"')
  })

  it('shows server field errors next to the field', async () => {
    route((url, init) => {
      if (url === '/api/v1/customers' && init.method === 'POST') {
        return jsonResponse(422, {
          type: 'problem.validation',
          title: 'Unprocessable Entity',
          status: 422,
          detail: '有 1 处错误',
          errors: [{ field: 'phones[0]', code: 'phone.invalid', params: {}, message: '电话号码无效，请检查' }],
        })
      }
      return undefined
    })
    const { global, router } = plugins()
    signIn()
    await router.push('/customers/new')
    const w = mount(CustomerForm, { global, attachTo: document.body })
    await flush(10)
    await w.find('input[data-testid=field-name]').setValue('李四')
    await w.find('input[data-testid=field-phone-0]').setValue('12345')
    await w.find('form').trigger('submit')
    await flush(10)
    const item = w.find('input[data-testid=field-phone-0]').element.closest('.el-form-item')
    expect(item?.classList.contains('is-error')).toBe(true)
    expect(document.activeElement).toBe(w.find('input[data-testid=field-phone-0]').element)
  })
})

describe('BulkDialog', () => {
  it('reports how many were updated and which failed, and why', async () => {
    const calls = route((url) => {
      if (url === '/api/v1/customers/bulk') {
        return jsonResponse(200, { updated: 1, failed: [{ id: 'c2', status: 404, code: 'problem.not_found', message: '客户不存在或无权访问' }] })
      }
      return undefined
    })
    const { global } = plugins()
    signIn()
    const customers = [base, { ...base, id: 'c2', name: '李四' }]
    const w = mount(BulkDialog, { global, attachTo: document.body, props: { modelValue: true, action: 'assign_owner', customers } })
    await flush()
    // choose the owner through the component state (the select's popper is not under test here)
    ;(w.vm as unknown as { $: { setupState: { userId: string } } }).$.setupState.userId = 'u9'
    await flush()
    ;(document.body.querySelector('[data-testid=bulk-run]') as HTMLElement).click()
    await flush(10)
    const body = JSON.parse(String(calls.find((c) => c.url === '/api/v1/customers/bulk')?.init.body))
    expect(body).toEqual({ ids: ['c1', 'c2'], action: 'assign_owner', owner_id: 'u9' })
    const text = document.body.textContent ?? ''
    expect(text).toContain('已更新 1 个客户')
    expect(text).toContain('李四')
    expect(text).toContain('客户不存在或无权访问')
  })
})
