import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { NAV_ITEMS } from './nav'
// The shell and the customer list are the first screen after sign-in: they ship
// with the entry chunk (no extra round trip); every other page is its own chunk.
import AppLayout from '@/layouts/AppLayout.vue'
import CustomerList from '@/views/customers/CustomerList.vue'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean
    /** Permission needed (MeView.permissions). */
    perm?: string
    /** i18n key of the page title. */
    title?: string
  }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/LoginView.vue'),
    meta: { public: true, title: 'login.title' },
  },
  {
    path: '/',
    component: AppLayout,
    children: [
      { path: '', name: 'home', component: () => import('@/views/HomeRedirect.vue') },
      {
        path: 'customers',
        name: 'customers',
        component: CustomerList,
        meta: { perm: 'customer.read', title: 'nav.customers' },
      },
      {
        path: 'customers/new',
        name: 'customer-new',
        component: () => import('@/views/customers/CustomerForm.vue'),
        meta: { perm: 'customer.create', title: 'customer.form.createTitle' },
      },
      {
        path: 'customers/:id',
        name: 'customer',
        component: () => import('@/views/customers/CustomerDetail.vue'),
        meta: { perm: 'customer.read', title: 'customer.detail.title' },
      },
      {
        path: 'customers/:id/edit',
        name: 'customer-edit',
        component: () => import('@/views/customers/CustomerForm.vue'),
        meta: { perm: 'customer.update', title: 'customer.form.editTitle' },
      },
      {
        path: 'insight/at-risk',
        name: 'insight-at-risk',
        component: () => import('@/views/insight/AtRiskList.vue'),
        meta: { perm: 'customer.read', title: 'nav.atRisk' },
      },
      {
        path: 'insight/upgrades',
        name: 'insight-upgrades',
        component: () => import('@/views/insight/UpgradeList.vue'),
        meta: { perm: 'customer.read', title: 'nav.upgrades' },
      },
      {
        path: 'insight/cost-benefit',
        name: 'insight-cost-benefit',
        component: () => import('@/views/insight/CostBenefit.vue'),
        meta: { perm: 'customer.read', title: 'nav.costBenefit' },
      },
      {
        path: 'insight/rules',
        name: 'insight-rules',
        component: () => import('@/views/insight/TagRules.vue'),
        meta: { perm: 'customer.read', title: 'nav.tagRules' },
      },
      {
        path: 'insight/runs',
        name: 'insight-runs',
        component: () => import('@/views/insight/InsightRuns.vue'),
        meta: { perm: 'customer.read', title: 'nav.runs' },
      },
      {
        path: 'insight/settings',
        name: 'insight-settings',
        component: () => import('@/views/insight/InsightSettings.vue'),
        meta: { perm: 'settings.admin', title: 'nav.insightSettings' },
      },
      {
        path: 'admin/users',
        name: 'admin-users',
        component: () => import('@/views/admin/UsersAdmin.vue'),
        meta: { perm: 'user.admin', title: 'nav.users' },
      },
      {
        path: 'admin/departments',
        name: 'admin-departments',
        component: () => import('@/views/admin/DepartmentsAdmin.vue'),
        meta: { perm: 'department.admin', title: 'nav.departments' },
      },
      {
        path: 'admin/roles',
        name: 'admin-roles',
        component: () => import('@/views/admin/RolesAdmin.vue'),
        meta: { perm: 'role.admin', title: 'nav.roles' },
      },
      {
        path: 'admin/custom-fields',
        name: 'admin-custom-fields',
        component: () => import('@/views/admin/CustomFieldsAdmin.vue'),
        meta: { perm: 'settings.admin', title: 'nav.customFields' },
      },
      {
        path: 'admin/customer-code',
        name: 'admin-code',
        component: () => import('@/views/admin/CodeSettings.vue'),
        meta: { perm: 'settings.admin', title: 'nav.customerCode' },
      },
      {
        path: 'admin/audit',
        name: 'admin-audit',
        component: () => import('@/views/admin/AuditLog.vue'),
        meta: { perm: 'audit.read', title: 'nav.audit' },
      },
      {
        path: 'forbidden',
        name: 'forbidden',
        component: () => import('@/views/ForbiddenView.vue'),
        meta: { title: 'errors.forbiddenTitle' },
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/NotFoundView.vue'),
        meta: { title: 'errors.notFoundTitle' },
      },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
})

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  await auth.bootstrap()
  if (to.meta.public) {
    return auth.signedIn && to.name === 'login' ? { name: 'home' } : true
  }
  if (!auth.signedIn) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (to.meta.perm && !auth.can(to.meta.perm)) {
    return { name: 'forbidden', query: { from: to.fullPath } }
  }
  return true
})

/** Where a signed-in user lands: the first page the role may use. */
export function homeFor(can: (p: string) => boolean): string {
  const first = NAV_ITEMS.flatMap((g) => g.items).find((i) => can(i.perm))
  return first?.path ?? '/forbidden'
}
