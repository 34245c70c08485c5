import { describe, expect, it } from 'vitest'
import type { CustomerView, CustomFieldView } from '@/api/types'
import { buildCustomerBody, emptyModel, modelFromCustomer } from '@/views/customers/customerModel'

const defs: CustomFieldView[] = [
  { id: 'f1', key: 'wechat', label_zh: '微信', label_en: 'WeChat', field_type: 'text', options: [], required: false, position: 1, version: 1 },
  { id: 'f2', key: 'level', label_zh: '级别', label_en: 'Level', field_type: 'select', options: ['A', 'B'], required: false, position: 2, version: 1 },
]
const all = { replacePhones: false, replaceEmails: false, editable: () => true, customFields: defs }

const customer: CustomerView = {
  id: 'c1',
  code: 'KH1',
  kind: 'person',
  name: '张三',
  phones: ['138****8000'],
  emails: ['z***@qq.com'],
  province: '广东省',
  city: '深圳市',
  district: '南山区',
  address: '科技园****',
  industry: '零售',
  id_number: '110105**********2X',
  birthday: '****-**-**',
  notes: '老客户',
  custom_fields: { wechat: 'zs001' } as unknown as CustomerView['custom_fields'],
  masked: ['phones', 'emails', 'address', 'id_number', 'birthday'],
  version: 3,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
}

describe('customer form body', () => {
  it('on create sends every filled field and the kind', () => {
    const m = emptyModel()
    m.name = ' 李四 '
    m.phones = ['13800138000', ' ']
    m.region = ['广东省', '深圳市', '南山区']
    m.custom_fields = { level: 'A', wechat: '' }
    expect(buildCustomerBody(m, null, all)).toEqual({
      kind: 'person',
      name: '李四',
      phones: ['13800138000'],
      province: '广东省',
      city: '深圳市',
      district: '南山区',
      custom_fields: { level: 'A' },
    })
  })

  it('starts an edit with masked values empty, never as values', () => {
    const m = modelFromCustomer(customer)
    expect(m.phones).toEqual([])
    expect(m.id_number).toBe('')
    expect(m.address).toBe('')
    expect(m.name).toBe('张三')
    expect(m.region).toEqual(['广东省', '深圳市', '南山区'])
  })

  it('on edit sends only what changed, null for cleared fields', () => {
    const m = modelFromCustomer(customer)
    expect(buildCustomerBody(m, customer, all)).toEqual({})
    m.name = '张三丰'
    m.notes = ''
    m.region = ['广东省', '广州市']
    m.custom_fields.wechat = 'zs002'
    expect(buildCustomerBody(m, customer, all)).toEqual({
      name: '张三丰',
      notes: null,
      city: '广州市',
      district: null,
      custom_fields: { wechat: 'zs002' },
    })
  })

  it('sends masked fields only when the user entered a new value', () => {
    const m = modelFromCustomer(customer)
    m.id_number = '11010519491231002X'
    m.phones = ['13900139000'] // typed, but the user did not choose to replace the list
    expect(buildCustomerBody(m, customer, all)).toEqual({ id_number: '11010519491231002X' })
    expect(buildCustomerBody(m, customer, { ...all, replacePhones: true })).toEqual({
      id_number: '11010519491231002X',
      phones: ['13900139000'],
    })
  })

  it('leaves out fields the role may not edit and fields of the other kind', () => {
    const m = modelFromCustomer(customer)
    m.name = '王五'
    m.industry = '制造'
    m.unified_social_credit_code = '91350100M000100Y43'
    const body = buildCustomerBody(m, customer, { ...all, editable: (f) => f !== 'industry' })
    expect(body).toEqual({ name: '王五' })
  })
})
