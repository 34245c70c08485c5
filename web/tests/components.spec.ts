import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { configureApi } from '@/api/http'
import LoginView from '@/views/LoginView.vue'
import ConflictDialog from '@/components/ConflictDialog.vue'
import ProfileTab from '@/views/customers/ProfileTab.vue'
import type { CustomerView, MeView } from '@/api/types'
import { useAuthStore } from '@/stores/auth'
import { flush, jsonResponse, plugins } from './helpers'

afterEach(() => {
  document.body.innerHTML = ''
  configureApi({ fetch: (...a) => globalThis.fetch(...a), csrf: () => null })
})

describe('LoginView', () => {
  async function submitWith(response: Response) {
    const fetch = vi.fn(async () => response)
    configureApi({ fetch: fetch as unknown as typeof globalThis.fetch })
    const { global } = plugins()
    const w = mount(LoginView, { global, attachTo: document.body })
    await w.find('input[name=login]').setValue('li.na')
    await w.find('input[name=password]').setValue('secret')
    await w.find('form').trigger('submit')
    await flush()
    return { w, fetch }
  }

  it('posts tenant, login and password', async () => {
    const { fetch } = await submitWith(jsonResponse(401, { type: 'auth.invalid', title: 'Unauthorized', status: 401, detail: 'x', errors: [] }))
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/auth/login')
    expect(JSON.parse(String(init.body))).toEqual({ tenant: 'demo', login: 'li.na', password: 'secret' })
  })

  it('says clearly when the credentials are wrong', async () => {
    const { w } = await submitWith(jsonResponse(401, { type: 'auth.invalid', title: 'Unauthorized', status: 401, detail: 'x', errors: [] }))
    expect(w.find('[data-testid=login-error]').text()).toContain('用户名或密码不正确')
    expect((w.find('input[name=password]').element as HTMLInputElement).value).toBe('')
  })

  it('shows the throttling wait from Retry-After and disables the button', async () => {
    const { w } = await submitWith(
      jsonResponse(429, { type: 'problem.throttled', title: 'Too Many Requests', status: 429, detail: 'x', errors: [] }, { 'Retry-After': '42' }),
    )
    expect(w.find('[data-testid=login-throttled]').text()).toContain('42 秒后重试')
    expect(w.find('button[type=submit]').attributes('disabled')).toBeDefined()
  })

  it('asks for missing fields without calling the server', async () => {
    const fetch = vi.fn()
    configureApi({ fetch: fetch as unknown as typeof globalThis.fetch })
    const { global } = plugins('en')
    const w = mount(LoginView, { global })
    await w.find('form').trigger('submit')
    await flush()
    expect(fetch).not.toHaveBeenCalled()
    // login and password are empty (the tenant defaults to demo)
    expect(w.findAll('.el-form-item.is-error')).toHaveLength(2)
    expect(w.text()).toContain('Sign in')
  })
})

describe('ConflictDialog', () => {
  it('shows their values beside mine, as text', async () => {
    const { global } = plugins()
    const w = mount(ConflictDialog, {
      global,
      attachTo: document.body,
      props: {
        modelValue: true,
        rows: [
          { field: 'name', label: '名称', theirs: '<b>他们</b>', mine: '我的', changedByThem: true },
          { field: 'notes', label: '备注', theirs: '旧', mine: '新', changedByThem: false },
        ],
      },
    })
    await flush()
    const text = document.body.textContent ?? ''
    expect(text).toContain('<b>他们</b>')
    expect(text).toContain('我的')
    expect(text).toContain('有 1 个字段对方也修改过')
    expect(document.body.querySelector('b')).toBeNull()
    ;(document.body.querySelector('[data-testid=conflict-reload]') as HTMLElement).click()
    expect(w.emitted('reload')).toHaveLength(1)
  })
})

describe('ProfileTab', () => {
  const c: CustomerView = {
    id: 'c1',
    code: 'KH1',
    kind: 'person',
    name: '<img src=x onerror=alert(1)>',
    phones: ['138****8000'],
    id_number: '110105**********2X',
    masked: ['phones', 'id_number'],
    version: 1,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  }

  it('shows masked values as masked and revealed ones in clear', async () => {
    const { global } = plugins()
    const w = mount(ProfileTab, { global, props: { customer: c, revealed: { phones: ['13800138000'] } } })
    await flush()
    expect(w.find('[data-field=phones]').text()).toBe('13800138000')
    expect(w.find('[data-field=id_number]').text()).toBe('110105**********2X')
    expect(w.text()).toContain('已脱敏')
    expect(w.text()).toContain('明文')
    expect(w.find('[data-field=name]').text()).toBe('<img src=x onerror=alert(1)>')
    expect(w.find('img').exists()).toBe(false)
  })

  it('leaves out fields the role may not see', async () => {
    const { global } = plugins('en')
    const auth = useAuthStore()
    auth.me = {
      user: { id: 'u', login: 'm', display_name: 'M', role: 'marketing', locale: 'en', disabled: false, version: 1, created_at: '' },
      tenant: 'demo',
      permissions: ['customer.read'],
      data_scope: 'all',
      fields: { address: 'hidden', id_number: 'read' },
    } as unknown as MeView
    const w = mount(ProfileTab, { global, props: { customer: c, revealed: {} } })
    await flush()
    expect(w.text()).not.toContain('Street address')
    expect(w.text()).toContain('ID card number')
    expect(w.text()).toContain('Industry') // empty but visible: shown as a dash
  })
})
