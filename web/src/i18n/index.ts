import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'

export type Locale = 'zh-CN' | 'en'
export const LOCALES: Locale[] = ['zh-CN', 'en']
const STORAGE_KEY = 'kehu.locale'

export function normalizeLocale(s: string | null | undefined): Locale {
  return s && s.toLowerCase().startsWith('en') ? 'en' : 'zh-CN'
}

function initialLocale(): Locale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY)
    if (saved) return normalizeLocale(saved)
  } catch {
    // storage may be unavailable (private mode); fall through
  }
  return 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})

export function currentLocale(): Locale {
  return normalizeLocale(i18n.global.locale.value)
}

export function setLocale(l: Locale): void {
  i18n.global.locale.value = l
  document.documentElement.lang = l
  try {
    localStorage.setItem(STORAGE_KEY, l)
  } catch {
    // ignore
  }
}
