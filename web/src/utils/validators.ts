// Client-side hints for Chinese identifiers. The server is the authority
// (its field errors are shown next to the field); these only warn early.

/** Full-width digits/letters → half-width, then trims. */
export function toHalfWidth(s: string): string {
  return s
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .trim()
}

/** Strips spaces, dashes, dots, brackets and a +86 / 0086 / 86 prefix. */
export function normalizeMobile(raw: string): string {
  let s = toHalfWidth(raw).replace(/[\s\-().]/g, '')
  if (s.startsWith('+86')) s = s.slice(3)
  else if (s.startsWith('0086')) s = s.slice(4)
  else if (s.length === 13 && s.startsWith('86')) s = s.slice(2)
  return s
}

/** Mainland mobile: 1[3-9] followed by 9 digits, after normalisation. */
export function isMainlandMobile(raw: string): boolean {
  return /^1[3-9]\d{9}$/.test(normalizeMobile(raw))
}

/** Landline such as 010-12345678 or 0755 8888 8888 (hint only). */
export function isLandline(raw: string): boolean {
  const s = normalizeMobile(raw)
  return /^0\d{2,3}\d{7,8}$/.test(s)
}

/** A phone worth sending: a mainland mobile or a landline. */
export function isPlausiblePhone(raw: string): boolean {
  return isMainlandMobile(raw) || isLandline(raw)
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'

/** GB 11643 check character for the first 17 digits, or null when they are not digits. */
export function idNumberCheckChar(first17: string): string | null {
  if (!/^\d{17}$/.test(first17)) return null
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (ID_WEIGHTS[i] ?? 0)
  return ID_CHECK[sum % 11] ?? null
}

export type IdNumberProblem = 'length' | 'format' | 'birthdate' | 'check'

/** Checks an 18-character resident ID number (居民身份证号). Returns null when it is fine. */
export function checkIdNumber(raw: string): IdNumberProblem | null {
  const s = toHalfWidth(raw).replace(/\s/g, '').toUpperCase()
  if (s.length !== 18) return 'length'
  if (!/^\d{17}[\dX]$/.test(s)) return 'format'
  const y = Number(s.slice(6, 10))
  const m = Number(s.slice(10, 12))
  const d = Number(s.slice(12, 14))
  const date = new Date(Date.UTC(y, m - 1, d))
  if (
    y < 1900 ||
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== m - 1 ||
    date.getUTCDate() !== d ||
    date.getTime() > Date.now()
  ) {
    return 'birthdate'
  }
  return idNumberCheckChar(s.slice(0, 17)) === s[17] ? null : 'check'
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

/** GB 32100 check character for the first 17 characters, or null when one is not allowed. */
export function usccCheckChar(first17: string): string | null {
  if (first17.length !== 17) return null
  let sum = 0
  for (let i = 0; i < 17; i++) {
    const v = USCC_CHARS.indexOf(first17[i] ?? '')
    if (v < 0) return null
    sum += v * (USCC_WEIGHTS[i] ?? 0)
  }
  const c = (31 - (sum % 31)) % 31
  return USCC_CHARS[c] ?? null
}

export type UsccProblem = 'length' | 'format' | 'check'

/** Checks a unified social credit code (统一社会信用代码). Returns null when it is fine. */
export function checkUscc(raw: string): UsccProblem | null {
  const s = toHalfWidth(raw).replace(/\s/g, '').toUpperCase()
  if (s.length !== 18) return 'length'
  for (const ch of s) if (!USCC_CHARS.includes(ch)) return 'format'
  return usccCheckChar(s.slice(0, 17)) === s[17] ? null : 'check'
}

/** A loose email shape check (the server decides). */
export function isEmailLike(raw: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw.trim())
}
