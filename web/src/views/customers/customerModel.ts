// The customer form's model and the request body built from it: everything on
// create, only what changed on edit (PATCH), masked values never sent back.
import type { CustomerView, CustomFieldView } from '@/api/types'

export interface CustomerModel {
  kind: 'person' | 'company'
  name: string
  phones: string[]
  emails: string[]
  /** [province, city, district] */
  region: string[]
  address: string
  industry: string
  occupation: string
  employer: string
  source: string
  owner_id: string
  birthday: string
  unified_social_credit_code: string
  id_number: string
  notes: string
  custom_fields: Record<string, unknown>
}

export function emptyModel(): CustomerModel {
  return {
    kind: 'person',
    name: '',
    phones: [''],
    emails: [''],
    region: [],
    address: '',
    industry: '',
    occupation: '',
    employer: '',
    source: '',
    owner_id: '',
    birthday: '',
    unified_social_credit_code: '',
    id_number: '',
    notes: '',
    custom_fields: {},
  }
}

const TEXT_FIELDS = [
  'name',
  'address',
  'industry',
  'occupation',
  'employer',
  'source',
  'owner_id',
  'birthday',
  'unified_social_credit_code',
  'id_number',
  'notes',
] as const

export function modelFromCustomer(c: CustomerView): CustomerModel {
  const m = emptyModel()
  const masked = new Set(c.masked)
  m.kind = c.kind === 'company' ? 'company' : 'person'
  const src = c as unknown as Record<string, unknown>
  for (const f of TEXT_FIELDS) {
    // Masked values are placeholders, not values: the input starts empty.
    if (masked.has(f)) continue
    const v = src[f]
    m[f] = typeof v === 'string' ? v : ''
  }
  m.phones = masked.has('phones') ? [] : c.phones?.length ? [...c.phones] : ['']
  m.emails = masked.has('emails') ? [] : c.emails?.length ? [...c.emails] : ['']
  m.region = [c.province, c.city, c.district].filter((x): x is string => !!x)
  m.custom_fields = { ...((c.custom_fields ?? {}) as Record<string, unknown>) }
  return m
}

export interface BodyOptions {
  replacePhones: boolean
  replaceEmails: boolean
  /** May the caller change this field? */
  editable: (field: string) => boolean
  customFields: CustomFieldView[]
}

function clean(list: string[]): string[] {
  return list.map((s) => s.trim()).filter(Boolean)
}

function emptyCustom(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)
}

/**
 * The JSON body: on create (no original) every filled field; on edit only the
 * fields that differ from the original, `null` for a cleared one. Masked
 * fields are sent only when the user typed a new value.
 */
export function buildCustomerBody(
  m: CustomerModel,
  original: CustomerView | null,
  o: BodyOptions,
): Record<string, unknown> {
  const b: Record<string, unknown> = {}
  const orig = (original ?? {}) as unknown as Record<string, unknown>
  const masked = new Set(original?.masked ?? [])
  const isPerson = m.kind === 'person'
  const notForKind = (f: string) =>
    (isPerson && f === 'unified_social_credit_code') ||
    (!isPerson && (f === 'id_number' || f === 'birthday' || f === 'occupation' || f === 'employer'))

  if (!original) b.kind = m.kind

  for (const f of TEXT_FIELDS) {
    if (!o.editable(f) || notForKind(f)) continue
    const v = m[f].trim()
    if (!original) {
      if (v) b[f] = v
    } else if (masked.has(f)) {
      if (v) b[f] = v
    } else {
      const before = typeof orig[f] === 'string' ? (orig[f] as string) : ''
      if (v !== before) b[f] = v === '' ? null : v
    }
  }

  const lists: Array<['phones' | 'emails', boolean]> = [
    ['phones', o.replacePhones],
    ['emails', o.replaceEmails],
  ]
  for (const [f, replaced] of lists) {
    if (!o.editable(f)) continue
    const v = clean(m[f])
    if (!original) {
      if (v.length) b[f] = v
    } else if (masked.has(f)) {
      if (replaced) b[f] = v
    } else {
      const before = Array.isArray(orig[f]) ? (orig[f] as string[]) : []
      if (JSON.stringify(v) !== JSON.stringify(before)) b[f] = v
    }
  }

  if (o.editable('province')) {
    const [province = '', city = '', district = ''] = m.region
    const region = { province, city, district }
    for (const [f, v] of Object.entries(region)) {
      if (!original) {
        if (v) b[f] = v
      } else {
        const before = typeof orig[f] === 'string' ? (orig[f] as string) : ''
        if (v !== before) b[f] = v === '' ? null : v
      }
    }
  }

  if (o.editable('custom_fields')) {
    const before = (orig.custom_fields ?? {}) as Record<string, unknown>
    const cf: Record<string, unknown> = {}
    for (const def of o.customFields) {
      const v = m.custom_fields[def.key]
      if (!original) {
        if (!emptyCustom(v)) cf[def.key] = v
      } else if (JSON.stringify(emptyCustom(v) ? null : v) !== JSON.stringify(before[def.key] ?? null)) {
        cf[def.key] = emptyCustom(v) ? null : v
      }
    }
    if (Object.keys(cf).length) b.custom_fields = cf
  }
  return b
}
