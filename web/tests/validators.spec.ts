import { describe, expect, it } from 'vitest'
import {
  checkIdNumber,
  checkUscc,
  idNumberCheckChar,
  isEmailLike,
  isMainlandMobile,
  isPlausiblePhone,
  normalizeMobile,
  toHalfWidth,
  usccCheckChar,
} from '@/utils/validators'

describe('mainland mobile', () => {
  it('accepts 1[3-9] + 9 digits after stripping spaces, dashes and +86', () => {
    for (const ok of ['13800138000', '138 0013 8000', '138-0013-8000', '+86 138 0013 8000', '+86-19912345678', '0086 15012345678', '８６１３８００１３８０００']) {
      expect(isMainlandMobile(ok), ok).toBe(true)
    }
  })
  it('rejects wrong prefixes and lengths', () => {
    for (const bad of ['12345', '12800138000', '1380013800', '138001380000', '23800138000', 'abc']) {
      expect(isMainlandMobile(bad), bad).toBe(false)
    }
  })
  it('normalises', () => {
    expect(normalizeMobile(' +86 (138) 0013-8000 ')).toBe('13800138000')
    expect(toHalfWidth('１３８')).toBe('138')
  })
  it('treats landlines as plausible phones', () => {
    expect(isPlausiblePhone('010-12345678')).toBe(true)
    expect(isPlausiblePhone('0755 8888 8888')).toBe(true)
    expect(isPlausiblePhone('12345')).toBe(false)
  })
})

describe('resident ID number (GB 11643, mod 11-2)', () => {
  it('computes the check character', () => {
    expect(idNumberCheckChar('11010519491231002')).toBe('X')
    expect(idNumberCheckChar('44030819990110151')).toBe('2') // 252 mod 11 = 10 → '2' (worked by hand)
    expect(idNumberCheckChar('1101051949123100')).toBeNull()
  })
  it('accepts valid numbers, lower-case x too', () => {
    expect(checkIdNumber('11010519491231002X')).toBeNull()
    expect(checkIdNumber('11010519491231002x')).toBeNull()
    expect(checkIdNumber('440308199901101512')).toBeNull()
  })
  it('names what is wrong', () => {
    expect(checkIdNumber('110105194912310')).toBe('length')
    expect(checkIdNumber('11010519491231002Y')).toBe('format')
    expect(checkIdNumber('110105194902300021')).toBe('birthdate')
    expect(checkIdNumber('110105194912310021')).toBe('check')
  })
})

describe('unified social credit code (GB 32100)', () => {
  it('computes the check character', () => {
    expect(usccCheckChar('91350100M00010')).toBeNull()
    expect(usccCheckChar('91350100M000100Y4')).toBe('3')
  })
  it('accepts valid codes', () => {
    expect(checkUscc('91350100M000100Y43')).toBeNull()
    expect(checkUscc('91350100m000100y43')).toBeNull()
  })
  it('names what is wrong', () => {
    expect(checkUscc('91350100M000100Y4')).toBe('length')
    expect(checkUscc('91350100M000100I43')).toBe('format')
    expect(checkUscc('91350100M000100Y44')).toBe('check')
  })
})

describe('email', () => {
  it('is a loose shape check', () => {
    expect(isEmailLike('a.b@example.cn')).toBe(true)
    expect(isEmailLike('not an email')).toBe(false)
  })
})
