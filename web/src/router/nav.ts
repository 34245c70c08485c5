// The side navigation; each entry shows only when the role has its permission.
export interface NavItem {
  path: string
  label: string
  perm: string
  icon: 'user' | 'office' | 'key' | 'setting' | 'ticket' | 'document' | 'customers' | 'warning' | 'trend' | 'money' | 'tag' | 'timer' | 'operation'
}

export interface NavGroup {
  label: string
  items: NavItem[]
}

export const NAV_ITEMS: NavGroup[] = [
  {
    label: 'nav.groupCustomers',
    items: [{ path: '/customers', label: 'nav.customers', perm: 'customer.read', icon: 'customers' }],
  },
  {
    label: 'nav.groupInsight',
    items: [
      { path: '/insight/at-risk', label: 'nav.atRisk', perm: 'customer.read', icon: 'warning' },
      { path: '/insight/upgrades', label: 'nav.upgrades', perm: 'customer.read', icon: 'trend' },
      { path: '/insight/cost-benefit', label: 'nav.costBenefit', perm: 'customer.read', icon: 'money' },
      { path: '/insight/rules', label: 'nav.tagRules', perm: 'customer.read', icon: 'tag' },
      { path: '/insight/runs', label: 'nav.runs', perm: 'customer.read', icon: 'timer' },
      { path: '/insight/settings', label: 'nav.insightSettings', perm: 'settings.admin', icon: 'operation' },
    ],
  },
  {
    label: 'nav.groupAdmin',
    items: [
      { path: '/admin/users', label: 'nav.users', perm: 'user.admin', icon: 'user' },
      { path: '/admin/departments', label: 'nav.departments', perm: 'department.admin', icon: 'office' },
      { path: '/admin/roles', label: 'nav.roles', perm: 'role.admin', icon: 'key' },
      { path: '/admin/custom-fields', label: 'nav.customFields', perm: 'settings.admin', icon: 'setting' },
      { path: '/admin/customer-code', label: 'nav.customerCode', perm: 'settings.admin', icon: 'ticket' },
      { path: '/admin/audit', label: 'nav.audit', perm: 'audit.read', icon: 'document' },
    ],
  },
]

export function visibleNav(can: (p: string) => boolean): NavGroup[] {
  return NAV_ITEMS.map((g) => ({ ...g, items: g.items.filter((i) => can(i.perm)) })).filter(
    (g) => g.items.length > 0,
  )
}
