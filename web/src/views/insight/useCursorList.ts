// A list loaded page by page with the API's keyset cursor ("load more").
import { ref } from 'vue'
import type { Page } from '@/api/insight'
import { notifyError } from '@/utils/notify'

export function useCursorList<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>, key: (item: T) => string) {
  const items = ref<T[]>([]) as { value: T[] }
  const cursor = ref<string | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const loaded = ref(false)
  const failed = ref(false)
  let seq = 0

  async function load() {
    const my = ++seq
    loading.value = true
    failed.value = false
    try {
      const p = await fetchPage(null)
      if (my !== seq) return
      items.value = p.items
      cursor.value = p.next_cursor ?? null
      loaded.value = true
    } catch (e) {
      if (my !== seq) return
      failed.value = true
      notifyError(e)
    } finally {
      if (my === seq) loading.value = false
    }
  }

  async function more() {
    if (!cursor.value || loadingMore.value) return
    const my = seq
    loadingMore.value = true
    try {
      const p = await fetchPage(cursor.value)
      if (my !== seq) return
      const seen = new Set(items.value.map(key))
      items.value = [...items.value, ...p.items.filter((i) => !seen.has(key(i)))]
      cursor.value = p.next_cursor ?? null
    } catch (e) {
      notifyError(e)
    } finally {
      loadingMore.value = false
    }
  }

  return { items, cursor, loading, loadingMore, loaded, failed, load, more }
}
