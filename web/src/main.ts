import { createApp } from 'vue'
import { createPinia } from 'pinia'
// Base styles and the message/notification services (the components bring their own CSS).
import 'element-plus/theme-chalk/base.css'
import 'element-plus/theme-chalk/el-message.css'
import 'element-plus/theme-chalk/el-message-box.css'
import 'element-plus/theme-chalk/el-notification.css'
import './styles.css'
import App from './App.vue'
import { i18n, currentLocale } from './i18n'
import { router } from './router'
import { configureApi } from './api/http'
import { useAuthStore } from './stores/auth'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)

const auth = useAuthStore(pinia)
configureApi({
  locale: () => currentLocale(),
  csrf: () => auth.csrf,
  onUnauthorized: () => {
    // The session expired or was ended elsewhere: back to the login page.
    auth.clear()
    const here = router.currentRoute.value
    if (!here.meta.public) {
      void router.push({ name: 'login', query: { redirect: here.fullPath, expired: '1' } })
    }
  },
})

app.use(router)
document.documentElement.lang = currentLocale()
app.mount('#kehu-app')
