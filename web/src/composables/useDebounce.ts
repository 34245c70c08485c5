import { onBeforeUnmount } from 'vue'

/** A debounced caller that is cancelled when the component unmounts. */
export function useDebounced<A extends unknown[]>(fn: (...a: A) => void, ms: number) {
  let timer: ReturnType<typeof setTimeout> | null = null
  const call = (...a: A) => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      fn(...a)
    }, ms)
  }
  const cancel = () => {
    if (timer) clearTimeout(timer)
    timer = null
  }
  onBeforeUnmount(cancel)
  return { call, cancel }
}
