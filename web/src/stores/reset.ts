// "Reset every store" without a list to keep up to date: a Pinia plugin
// remembers each store as it is created, and resetStores() calls the reset()
// each store offers (the state a signed-out app starts from).
import type { Pinia, PiniaPluginContext } from 'pinia'

const created = new WeakMap<Pinia, Set<object>>()

/** Pinia plugin (`pinia.use(trackStores)`): remembers every store created. */
export function trackStores({ pinia, store }: PiniaPluginContext): void {
  let set = created.get(pinia)
  if (!set) created.set(pinia, (set = new Set()))
  set.add(store)
}

/** Calls reset() on every store created so far; returns their ids. */
export function resetStores(pinia: Pinia): string[] {
  const done: string[] = []
  for (const store of created.get(pinia) ?? []) {
    const s = store as { $id?: string; reset?: unknown }
    if (typeof s.reset === 'function') {
      ;(s.reset as () => void)()
      done.push(s.$id ?? '')
    }
  }
  return done
}
