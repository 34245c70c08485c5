import { onBeforeUnmount, ref } from 'vue'

/** True while the viewport matches the query (e.g. phone width). */
export function useMedia(query: string) {
  const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(query) : null
  const matches = ref(mq?.matches ?? false)
  const on = (e: MediaQueryListEvent) => (matches.value = e.matches)
  mq?.addEventListener('change', on)
  onBeforeUnmount(() => mq?.removeEventListener('change', on))
  return matches
}

export const PHONE_QUERY = '(max-width: 420px)'
export const NARROW_QUERY = '(max-width: 768px)'
