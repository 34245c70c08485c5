// Connects the API client to the app: language, CSRF token, who is signed in,
// and what to do when the session ends or changes hands under this tab.
import type { Pinia } from 'pinia'
import type { Router } from 'vue-router'
import { ElNotification } from 'element-plus'
import { configureApi, type SessionMe } from '@/api/http'
import type { MeView } from '@/api/types'
import { currentLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetStores } from '@/stores/reset'

export function connectApi(pinia: Pinia, router: Router): void {
  const auth = useAuthStore(pinia)
  configureApi({
    locale: () => currentLocale(),
    csrf: () => auth.csrf,
    identity: () => (auth.me ? { userId: auth.me.user.id, tenant: auth.me.tenant } : null),
    onCsrfToken: (token) => auth.setCsrf(token),
    onUnauthorized: () => {
      // The session expired or was ended elsewhere: back to the login page.
      auth.clear()
      const here = router.currentRoute.value
      if (!here.meta.public) {
        void router.push({ name: 'login', query: { redirect: here.fullPath, expired: '1' } })
      }
    },
    onSessionChanged: (me: SessionMe) => {
      // Someone else signed in (in another tab) on this browser: nothing of the
      // previous account may stay on screen or in memory.
      resetStores(pinia)
      // /auth/me answered with a full MeView.
      auth.adopt(me as unknown as MeView)
      const t = i18n.global.t
      const user = (me as unknown as MeView).user
      ElNotification({
        type: 'warning',
        title: t('session.changedTitle'),
        message: t('session.changed', { name: user.display_name || user.login, tenant: me.tenant }),
        duration: 0,
        customClass: 'session-changed',
      })
      void router.replace({ name: 'home' })
    },
  })
}
