// Every user-visible string goes through t(): both languages have the same
// keys, every literal key used in the sources exists, and templates contain no
// hard-coded Chinese text.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import zhCN from '@/i18n/zh-CN'
import en from '@/i18n/en'
import { CUSTOMER_FIELDS, CUSTOM_FIELD_TYPES, DATA_SCOPES, PERMISSIONS } from '@/api/types'
import { LIST_COLUMNS } from '@/stores/customerList'
import { NAV_ITEMS } from '@/router/nav'
import { STAGES, TIERS } from '@/api/insight'

type Tree = { [k: string]: string | Tree }

function keys(t: Tree, prefix = ''): string[] {
  return Object.entries(t).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`)))
}

/** Resolves a key the way vue-i18n does: every dot is a level. */
function lookup(t: Tree, key: string): string | undefined {
  let node: string | Tree | undefined = t
  for (const part of key.split('.')) {
    if (node === undefined || typeof node === 'string') return undefined
    node = node[part]
  }
  return typeof node === 'string' ? node : undefined
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f: string) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : /\.(vue|ts)$/.test(f) && !f.endsWith('.d.ts') ? [p] : []
  })
}

const src = join(process.cwd(), 'src')
const sources = files(src).filter((f) => !f.includes('/i18n/'))

describe('messages', () => {
  it('zh-CN and en have the same keys and no empty texts', () => {
    const z = keys(zhCN as unknown as Tree).sort()
    expect(keys(en as unknown as Tree).sort()).toEqual(z)
    for (const k of z) {
      expect(lookup(zhCN as unknown as Tree, k), k).toBeTruthy()
      expect(lookup(en as unknown as Tree, k), k).toBeTruthy()
    }
  })

  it('every literal key used with t() exists', () => {
    const missing: string[] = []
    for (const f of sources) {
      const text = readFileSync(f, 'utf8')
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z][\w.]*)'/g)) {
        const key = m[1] as string
        if (key.endsWith('.')) continue // a prefix completed at run time
        if (lookup(zhCN as unknown as Tree, key) === undefined) missing.push(`${f.slice(src.length)}: ${key}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('keys built at run time exist for every value they are built from', () => {
    const z = zhCN as unknown as Tree
    const need = [
      ...['person', 'company'].map((k) => `customer.kind.${k}`),
      ...[...CUSTOMER_FIELDS, 'kind', 'code', 'created_at', 'updated_at'].map((f) => `customer.fields.${f}`),
      ...LIST_COLUMNS.map((c) => `customer.columns.${c.key}`),
      ...PERMISSIONS.map((p) => `permissions.${p}`),
      ...DATA_SCOPES.map((s) => `scopes.${s}`),
      ...CUSTOM_FIELD_TYPES.map((f) => `fieldTypes.${f}`),
      ...['hidden', 'read', 'edit'].map((a) => `access.${a}`),
      ...['admin', 'manager', 'sales', 'service', 'marketing', 'auditor'].map((r) => `roles.${r}`),
      ...['length', 'format', 'birthdate', 'check'].map((p) => `hints.id.${p}`),
      ...['length', 'format', 'check'].map((p) => `hints.uscc.${p}`),
      ...['basic', 'contact', 'address', 'identity', 'other', 'custom'].map((g) => `customer.groups.${g}`),
      ...['daily', 'monthly', 'yearly', 'never'].map((r) => `admin.code.resets.${r}`),
      ...NAV_ITEMS.flatMap((g) => [g.label, ...g.items.map((i) => i.label)]),
      ...TIERS.map((x) => `insight.tierNames.${x}`),
      ...STAGES.map((x) => `insight.stages.${x}`),
      ...['schedule', 'manual', 'cli', 'seed'].map((x) => `insight.runs.triggers.${x}`),
      ...['running', 'done', 'failed'].map((x) => `insight.runs.statuses.${x}`),
      ...['thresholds', 'pareto'].map((x) => `insight.settings.methods.${x}`),
      ...['e1', 'e2', 'e3', 'e4'].map((x) => `insight.help.examples.${x}`),
      ...[
        'orders_30d', 'orders_90d', 'orders_365d', 'spend_30d', 'spend_90d', 'spend_365d', 'purchase_days', 'repeat_purchases',
        'days_since_last_purchase', 'average_order_value', 'typical_interval_days', 'province', 'source', 'kind', 'tier', 'stage', 'custom',
      ].map((x) => `insight.help.fields.${x}`),
    ]
    expect(need.filter((k) => lookup(z, k) === undefined)).toEqual([])
    expect(need.filter((k) => lookup(en as unknown as Tree, k) === undefined)).toEqual([])
  })

  it('templates have no hard-coded Chinese text', () => {
    const offenders: string[] = []
    for (const f of sources.filter((x) => x.endsWith('.vue'))) {
      const text = readFileSync(f, 'utf8')
      const template = text.slice(text.indexOf('<template>'), text.lastIndexOf('</template>'))
      for (const line of template.split('\n')) if (/[\u4e00-\u9fff]/.test(line)) offenders.push(`${f.slice(src.length)}: ${line.trim()}`)
    }
    expect(offenders).toEqual([])
  })

  it('never renders HTML from data (no v-html)', () => {
    for (const f of sources.filter((x) => x.endsWith('.vue'))) {
      expect(readFileSync(f, 'utf8').includes('v-html'), f).toBe(false)
    }
  })
})
