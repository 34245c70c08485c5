import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { http } from '@/api/http'
import type { FieldAccess, LoginResponse, MeView, UserView } from '@/api/types'
import { currentLocale, normalizeLocale, setLocale, type Locale } from '@/i18n'

const CSRF_KEY = 'kehu.csrf'

function readCsrf(): string | null {
  try {
    return sessionStorage.getItem(CSRF_KEY)
  } catch {
    return null
  }
}

function writeCsrf(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, token)
    else sessionStorage.removeItem(CSRF_KEY)
  } catch {
    // ignore
  }
}

export const useAuthStore = defineStore('auth', () => {
  const me = ref<MeView | null>(null)
  const csrf = ref<string | null>(readCsrf())
  const ready = ref(false)

  const user = computed<UserView | null>(() => me.value?.user ?? null)
  const permissions = computed(() => new Set(me.value?.permissions ?? []))
  const signedIn = computed(() => me.value !== null && csrf.value !== null)

  function can(p: string): boolean {
    return permissions.value.has(p)
  }

  function canAny(ps: string[]): boolean {
    return ps.some((p) => permissions.value.has(p))
  }

  /** `hidden` | `read` | `edit` for a customer field. */
  function fieldAccess(field: string): FieldAccess {
    const f = (me.value?.fields ?? {}) as Record<string, unknown>
    const v = f[field]
    if (v === 'hidden' || v === 'read' || v === 'edit') return v
    return can('customer.update') || can('customer.create') ? 'edit' : 'read'
  }

  async function loadMe(): Promise<MeView> {
    const r = await http.get<MeView>('/auth/me')
    me.value = r.data
    return r.data
  }

  /** On start: restore the session, if the cookie is still valid. */
  async function bootstrap(): Promise<void> {
    if (ready.value) return
    try {
      const m = await loadMe()
      // Newer servers return the session's CSRF token here, so a new tab or a
      // reload can write; older ones do not, and then this tab's copy is used.
      const token = m.csrf_token
      if (token) {
        csrf.value = token
        writeCsrf(token)
      }
      if (!csrf.value) {
        // Signed in, but this tab cannot prove it for writes: sign in again.
        me.value = null
      } else {
        setLocale(normalizeLocale(m.user.locale))
      }
    } catch {
      // 401 (no session) or the server is unreachable: show the login page,
      // which reports any error on the next attempt.
      clear()
    } finally {
      ready.value = true
    }
  }

  async function login(tenant: string, login: string, password: string): Promise<void> {
    const r = await http.post<LoginResponse>('/auth/login', { tenant, login, password })
    csrf.value = r.data.csrf_token
    writeCsrf(r.data.csrf_token)
    await loadMe()
    // The user's stored language wins.
    setLocale(normalizeLocale(r.data.user.locale))
    ready.value = true
  }

  async function logout(): Promise<void> {
    try {
      await http.post('/auth/logout')
    } catch {
      // the session may already be gone; sign out locally regardless
    }
    clear()
  }

  function clear(): void {
    me.value = null
    csrf.value = null
    writeCsrf(null)
  }

  /** The session's CSRF token changed (the cookie was replaced by a new sign-in). */
  function setCsrf(token: string): void {
    csrf.value = token
    writeCsrf(token)
  }

  /** Another account now owns the session cookie: take it over as it is. */
  function adopt(m: MeView): void {
    me.value = m
    if (m.csrf_token) setCsrf(m.csrf_token)
    setLocale(normalizeLocale(m.user.locale))
    ready.value = true
  }

  /** Switch the UI language and remember it for this user. */
  async function changeLocale(l: Locale): Promise<void> {
    setLocale(l)
    if (!me.value) return
    const r = await http.patch<UserView>('/auth/me', { locale: l })
    if (me.value) me.value.user = r.data
  }

  async function changePassword(current: string, next: string): Promise<void> {
    await http.post('/auth/password', { current_password: current, new_password: next })
  }

  return {
    me,
    csrf,
    ready,
    user,
    signedIn,
    can,
    canAny,
    fieldAccess,
    loadMe,
    bootstrap,
    login,
    logout,
    clear,
    reset: clear,
    setCsrf,
    adopt,
    changeLocale,
    changePassword,
    currentLocale,
  }
})
