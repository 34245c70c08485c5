import { describe, expect, it } from 'vitest'
import { loadRegions, normalizeRegions } from '@/utils/regions'

describe('regions', () => {
  it('names a municipality’s city after the municipality', () => {
    const out = normalizeRegions([
      { value: '北京市', label: '北京市', children: [{ value: '市辖区', label: '市辖区', children: [{ value: '海淀区', label: '海淀区' }] }] },
      {
        value: '重庆市',
        label: '重庆市',
        children: [
          { value: '市辖区', label: '市辖区', children: [{ value: '渝中区', label: '渝中区' }] },
          { value: '县', label: '县', children: [{ value: '城口县', label: '城口县' }] },
        ],
      },
    ])
    expect(out[0]?.children?.[0]?.value).toBe('北京市')
    expect(out[1]?.children).toHaveLength(1)
    expect(out[1]?.children?.[0]?.children?.map((d) => d.value)).toEqual(['渝中区', '城口县'])
    expect(out.map((p) => p.value)).toContain('香港特别行政区')
  })

  it('loads the full GB/T 2260 tree from the package', async () => {
    const tree = await loadRegions()
    expect(tree.length).toBeGreaterThanOrEqual(34)
    const gd = tree.find((p) => p.value === '广东省')
    const sz = gd?.children?.find((c) => c.value === '深圳市')
    expect(sz?.children?.map((d) => d.value)).toContain('南山区')
    const bj = tree.find((p) => p.value === '北京市')
    expect(bj?.children?.[0]?.value).toBe('北京市')
    expect(bj?.children?.[0]?.children?.map((d) => d.value)).toContain('海淀区')
  })
})
