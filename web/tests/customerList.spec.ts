import { describe, expect, it } from 'vitest'
import { DEFAULT_COLUMNS, emptyFilters, listQuery, listToQuery, nextDay, queryToList, sanitizeConfig } from '@/stores/customerList'

describe('customer list query', () => {
  it('makes the *_to bounds exclusive by adding a day', () => {
    expect(nextDay('2026-01-31')).toBe('2026-02-01')
    expect(nextDay('2024-02-28')).toBe('2024-02-29')
    expect(nextDay('2026-12-31')).toBe('2027-01-01')
  })

  it('sends only set filters, the server sort and the cursor', () => {
    const f = { ...emptyFilters(), kind: 'company', created: ['2026-01-01', '2026-01-31'] as [string, string] }
    expect(listQuery({ q: ' zs ', filters: f, sort: 'name', desc: false }, 'abc')).toEqual({
      q: 'zs',
      owner_id: undefined,
      department_id: undefined,
      kind: 'company',
      province: undefined,
      created_from: '2026-01-01',
      created_to: '2026-02-01',
      updated_from: undefined,
      updated_to: undefined,
      sort: 'name',
      cursor: 'abc',
      limit: 50,
    })
    expect(listQuery({ q: '', filters: emptyFilters(), sort: 'created_at', desc: true }).sort).toBe('-created_at')
  })

  it('accepts saved view configs defensively', () => {
    expect(sanitizeConfig(null)).toEqual({ q: '', filters: emptyFilters(), sort: 'created_at', desc: true, columns: DEFAULT_COLUMNS })
    const c = sanitizeConfig({
      q: '张',
      filters: { province: '广东省', created: ['2026-01-01', 'nope'], updated: ['2026-01-01', '2026-02-01'] },
      sort: 'DROP TABLE',
      desc: false,
      columns: ['name', 'bogus', 'code'],
    })
    expect(c.q).toBe('张')
    expect(c.filters.province).toBe('广东省')
    expect(c.filters.created).toBeNull()
    expect(c.filters.updated).toEqual(['2026-01-01', '2026-02-01'])
    expect(c.sort).toBe('created_at')
    expect(c.desc).toBe(false)
    expect(c.columns).toEqual(['name', 'code'])
  })

  it('writes the list into the URL query and reads it back', () => {
    const state = {
      q: '张 ',
      filters: { ...emptyFilters(), owner_id: 'u1', kind: 'company', province: '广东省', created: ['2026-01-01', '2026-01-31'] as [string, string] },
      sort: 'name' as const,
      desc: false,
    }
    const q = listToQuery(state, 'v1')
    expect(q).toEqual({ q: '张 ', owner_id: 'u1', kind: 'company', province: '广东省', created: '2026-01-01..2026-01-31', sort: 'name', view: 'v1' })
    expect(queryToList(q)).toEqual({ state, viewId: 'v1' })
    // the plain list is the bare URL
    expect(listToQuery({ q: '', filters: emptyFilters(), sort: 'created_at', desc: true }, null)).toEqual({})
    expect(queryToList({})).toBeNull()
    expect(queryToList({ tab: 'x' })).toBeNull()
  })

  it('reads a hand-edited URL defensively', () => {
    const r = queryToList({ kind: 'robot', created: '2026-01-01..soon', updated: ['2026-02-01..2026-02-02', 'x'], sort: 'DROP', q: ['a', 'b'], view: '' })
    expect(r).toEqual({
      state: { q: 'a', filters: { ...emptyFilters(), updated: ['2026-02-01', '2026-02-02'] }, sort: 'created_at', desc: true },
      viewId: null,
    })
    expect(queryToList({ sort: '-updated_at' })?.state).toMatchObject({ sort: 'updated_at', desc: true })
    expect(queryToList({ sort: 'code' })?.state).toMatchObject({ sort: 'code', desc: false })
  })

  it('tier, stage and tag: in the request, the URL and saved views, checked on the way in', () => {
    const state = { q: '', filters: { ...emptyFilters(), tier: 'A', stage: 'at_risk', tag: '华东高价值' }, sort: 'created_at' as const, desc: true }
    const req = listQuery(state)
    expect(req).toMatchObject({ tier: 'A', stage: 'at_risk', tag: '华东高价值' })
    expect(listQuery({ ...state, filters: emptyFilters() })).toMatchObject({ tier: undefined, stage: undefined, tag: undefined })
    const q = listToQuery(state, null)
    expect(q).toEqual({ tier: 'A', stage: 'at_risk', tag: '华东高价值' })
    expect(queryToList(q)).toEqual({ state, viewId: null })
    // a URL with only an insight filter still describes a list
    expect(queryToList({ tag: 'vip' })?.state.filters).toEqual({ ...emptyFilters(), tag: 'vip' })
    // unknown tiers and stages are dropped
    expect(queryToList({ tier: 'E', stage: 'asleep' })?.state.filters).toEqual(emptyFilters())
    expect(sanitizeConfig({ filters: { tier: 'B', stage: 'loyal', tag: 'x' } }).filters).toMatchObject({ tier: 'B', stage: 'loyal', tag: 'x' })
    expect(sanitizeConfig({ filters: { tier: 'b', stage: 7, tag: ['x'] } }).filters).toMatchObject({ tier: '', stage: '', tag: '' })
    // older saved views (no insight filters) still load
    expect(sanitizeConfig({ filters: { kind: 'person' } }).filters).toEqual({ ...emptyFilters(), kind: 'person' })
  })
})

describe('customer list store', () => {
  it('a customer saved or opened elsewhere replaces its row but keeps the list’s tier and stage', async () => {
    const { createPinia, setActivePinia } = await import('pinia')
    const { useCustomerListStore } = await import('@/stores/customerList')
    setActivePinia(createPinia())
    const list = useCustomerListStore()
    const base = { id: 'c1', code: 'KH1', kind: 'person', name: '旧', masked: [], version: 1, created_at: '', updated_at: '' }
    list.items = [{ ...base, tier: 'A', stage: 'loyal' }]
    list.replaceItem({ ...base, name: '新', version: 2 })
    expect(list.items[0]).toMatchObject({ name: '新', version: 2, tier: 'A', stage: 'loyal' })
    list.replaceItem({ ...base, tier: 'B', stage: null })
    expect(list.items[0]).toMatchObject({ tier: 'B', stage: 'loyal' })
  })
})
