// Shows an error the user can act on: field errors stay next to fields, the
// rest goes to a notification in the UI language.
import { ElMessage, ElNotification } from 'element-plus'
import { ApiError } from '@/api/http'
import { i18n } from '@/i18n'

export function errorMessage(e: unknown): string {
  const t = i18n.global.t
  if (e instanceof ApiError) {
    if (e.status === 0) return t('errors.network')
    if (e.status === 429) return t('errors.throttled', { seconds: e.retryAfter ?? 60 })
    if (e.status === 403 && e.code === 'problem.csrf') return t('errors.csrf')
    if (e.status >= 500) return t('errors.server')
    const detail = e.problem?.detail
    const fields = (e.problem?.errors ?? []).map((f) => f.message).filter(Boolean)
    if (fields.length && !e.hasFieldErrors) return [detail, ...fields].filter(Boolean).join(' ')
    return detail || e.problem?.title || t('errors.status', { status: e.status })
  }
  if (e instanceof Error) return e.message
  return String(e)
}

export function errorTitle(e: unknown): string {
  const t = i18n.global.t
  if (e instanceof ApiError) {
    switch (e.status) {
      case 0:
        return t('errors.networkTitle')
      case 403:
        return t('errors.forbiddenTitle')
      case 404:
        return t('errors.notFoundTitle')
      case 409:
        return t('errors.conflictTitle')
      case 412:
        return t('errors.staleTitle')
      case 422:
        return t('errors.validationTitle')
      case 429:
        return t('errors.throttledTitle')
      default:
        return t('errors.title')
    }
  }
  return t('errors.title')
}

export function notifyError(e: unknown): void {
  // Aborted requests (navigation away) are not errors.
  if (e instanceof DOMException && e.name === 'AbortError') return
  // The client already acted on it (account changed, signed out).
  if (e instanceof ApiError && e.handled) return
  ElNotification({ type: 'error', title: errorTitle(e), message: errorMessage(e), duration: 6000 })
}

/** Field errors keyed by the API's field name (`phones[1]`), first message each. */
export function fieldErrorMap(e: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (e instanceof ApiError) {
    for (const [k, v] of Object.entries(e.fieldErrors)) out[k] = v.join(' ')
  }
  return out
}

/**
 * A form's failed save: a stale version (412) says so and runs `reload`
 * (close the dialog, fetch again); field errors come back for the form;
 * anything else is notified. Returns the field errors to show (maybe none).
 */
export async function saveFailed(e: unknown, reload: () => unknown): Promise<Record<string, string>> {
  if (e instanceof ApiError && e.status === 412) {
    ElMessage.warning(i18n.global.t('conflict.reloaded'))
    await reload()
    return {}
  }
  if (e instanceof ApiError && e.hasFieldErrors) return fieldErrorMap(e)
  notifyError(e)
  return {}
}
