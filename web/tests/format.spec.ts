import { describe, expect, it } from 'vitest'
import { display, formatDate, formatFen } from '@/utils/format'

describe('money in 分', () => {
  it('formats as yuan with two decimals', () => {
    expect(formatFen(123456)).toBe('¥1,234.56')
    expect(formatFen(5)).toBe('¥0.05')
    expect(formatFen(0)).toBe('¥0.00')
    expect(formatFen(-1999)).toBe('-¥19.99')
    expect(formatFen(100000000)).toBe('¥1,000,000.00')
    expect(formatFen(null)).toBe('—')
  })
})

describe('display', () => {
  it('shows empty values as a dash and joins lists', () => {
    expect(display(null)).toBe('—')
    expect(display('')).toBe('—')
    expect(display([])).toBe('—')
    expect(display(['a', 'b'])).toBe('a, b')
    expect(formatDate('2026-03-04')).toBe('2026-03-04')
  })
})
