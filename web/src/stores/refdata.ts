// Reference data shared by pages: users (owner pickers, names), departments,
// custom field definitions. Loaded once per session, refreshed on demand.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { http } from '@/api/http'
import type { CustomFieldView, DepartmentView, UserView } from '@/api/types'

export const useRefDataStore = defineStore('refdata', () => {
  const users = ref<UserView[]>([])
  const departments = ref<DepartmentView[]>([])
  const customFields = ref<CustomFieldView[]>([])
  const loaded = ref({ users: false, departments: false, customFields: false })

  const userById = computed(() => new Map(users.value.map((u) => [u.id, u])))
  const departmentById = computed(() => new Map(departments.value.map((d) => [d.id, d])))
  const activeUsers = computed(() => users.value.filter((u) => !u.disabled))

  async function loadUsers(force = false): Promise<void> {
    if (loaded.value.users && !force) return
    users.value = (await http.get<UserView[]>('/users')).data
    loaded.value.users = true
  }

  async function loadDepartments(force = false): Promise<void> {
    if (loaded.value.departments && !force) return
    departments.value = (await http.get<DepartmentView[]>('/departments')).data
    loaded.value.departments = true
  }

  async function loadCustomFields(force = false): Promise<void> {
    if (loaded.value.customFields && !force) return
    const list = (await http.get<CustomFieldView[]>('/custom-fields')).data
    customFields.value = [...list].sort((a, b) => a.position - b.position)
    loaded.value.customFields = true
  }

  function userName(id: string | null | undefined): string {
    if (!id) return '—'
    const u = userById.value.get(id)
    return u ? u.display_name || u.login : id.slice(0, 8)
  }

  function departmentName(id: string | null | undefined): string {
    if (!id) return '—'
    return departmentById.value.get(id)?.name ?? id.slice(0, 8)
  }

  function reset(): void {
    users.value = []
    departments.value = []
    customFields.value = []
    loaded.value = { users: false, departments: false, customFields: false }
  }

  return {
    users,
    departments,
    customFields,
    activeUsers,
    userById,
    departmentById,
    loadUsers,
    loadDepartments,
    loadCustomFields,
    userName,
    departmentName,
    reset,
  }
})
