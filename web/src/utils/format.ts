// Display formatting: money in 分, dates in the viewer's zone.

/** 123456 分 → "¥1,234.56"; negative amounts keep their sign. */
export function formatFen(fen: number | null | undefined, locale = 'zh-CN'): string {
  if (fen === null || fen === undefined || !Number.isFinite(fen)) return '—'
  const neg = fen < 0
  const abs = Math.abs(Math.trunc(fen))
  const yuan = Math.floor(abs / 100)
  const cents = abs % 100
  const grouped = new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'zh-CN', {
    maximumFractionDigits: 0,
  }).format(yuan)
  return `${neg ? '-' : ''}¥${grouped}.${String(cents).padStart(2, '0')}`
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/** RFC 3339 → "2026-03-04 09:05" in the browser's time zone. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** RFC 3339 → "2026-03-04". */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—'
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

/** A value for display: empty → "—", arrays joined. */
export function display(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—'
  if (Array.isArray(v)) return v.length ? v.map((x) => display(x)).join(', ') : '—'
  if (typeof v === 'boolean') return v ? '✓' : '✗'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}
