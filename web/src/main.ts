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
import { connectApi } from './session'
import { trackStores } from './stores/reset'

const app = createApp(App)
const pinia = createPinia()
pinia.use(trackStores)
app.use(pinia)
app.use(i18n)
connectApi(pinia, router)

app.use(router)
document.documentElement.lang = currentLocale()
app.mount('#kehu-app')
