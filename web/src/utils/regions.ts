// Province → city → district options for the cascader, from the
// element-china-area-data package (GB/T 2260), loaded on demand so it is not
// part of the first load. Values are the Chinese names the API stores.

export interface RegionOption {
  value: string
  label: string
  children?: RegionOption[]
}

interface RawItem {
  value: string
  label: string
  children?: RawItem[]
}

let cache: Promise<RegionOption[]> | null = null

/** Municipalities list their districts under a "市辖区" city; the API (and the
 * seed data) use the municipality's own name as the city: 北京市 / 北京市 / 海淀区. */
export function normalizeRegions(raw: RawItem[]): RegionOption[] {
  const out: RegionOption[] = raw.map((p) => ({
    value: p.value,
    label: p.label,
    children: (p.children ?? []).map((c) => {
      const name = c.value === '市辖区' || c.value === '县' ? p.value : c.value
      return {
        value: name,
        label: name,
        children: (c.children ?? []).map((d) => ({ value: d.value, label: d.label })),
      }
    }),
  }))
  // Merge duplicate cities produced by the rename (e.g. 重庆市 has 市辖区 and 县).
  for (const p of out) {
    const merged = new Map<string, RegionOption>()
    for (const c of p.children ?? []) {
      const seen = merged.get(c.value)
      if (seen) seen.children = [...(seen.children ?? []), ...(c.children ?? [])]
      else merged.set(c.value, c)
    }
    p.children = [...merged.values()]
  }
  for (const name of ['台湾省', '香港特别行政区', '澳门特别行政区']) {
    if (!out.some((p) => p.value === name)) out.push({ value: name, label: name })
  }
  return out
}

export function loadRegions(): Promise<RegionOption[]> {
  cache ??= import('element-china-area-data').then((m) => normalizeRegions(m.pcaTextArr as RawItem[]))
  return cache
}
