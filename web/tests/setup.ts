// Vitest: clean storage before each test, and fail any test that makes Vue
// (or vue-i18n) warn: a missing key, a bad prop, an unresolved component.
import { afterEach, beforeEach, vi } from 'vitest'

let warnings: string[] = []

beforeEach(() => {
  localStorage.clear()
  sessionStorage.clear()
  warnings = []
  const record = (...args: unknown[]) => {
    const text = args.map(String).join(' ')
    if (/\[Vue warn\]|\[intlify\]|Not found '.*' key/.test(text)) warnings.push(text)
  }
  vi.spyOn(console, 'warn').mockImplementation(record)
  vi.spyOn(console, 'error').mockImplementation(record)
})

afterEach(() => {
  if (warnings.length) throw new Error(`Vue warnings:\n${warnings.join('\n')}`)
})
