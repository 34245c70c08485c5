// Cost-benefit per tier, arranged so the page shows at a glance where serving
// customers pays (more effort) and where it does not (less).
import { TIERS, type CostBenefit, type CostBenefitTier } from '@/api/insight'

export interface CostRow extends CostBenefitTier {
  net_per_customer_fen: number
  /** contribution ÷ cost; null when there is no cost */
  ratio: number | null
  /** bar lengths in % of the largest per-customer figure on the page */
  contributionBar: number
  costBar: number
  advice: 'more' | 'less' | null
}

function tierOrder(t: string): number {
  const i = (TIERS as readonly string[]).indexOf(t)
  return i < 0 ? 99 : i
}

export function costRows(cb: CostBenefit): CostRow[] {
  const tiers = [...cb.tiers].sort((a, b) => tierOrder(a.tier) - tierOrder(b.tier))
  const max = Math.max(1, ...tiers.flatMap((r) => [r.contribution_per_customer_fen, r.cost_per_customer_fen]))
  const rows: CostRow[] = tiers.map((r) => ({
    ...r,
    net_per_customer_fen: r.contribution_per_customer_fen - r.cost_per_customer_fen,
    ratio: r.cost_fen > 0 ? r.contribution_fen / r.cost_fen : null,
    contributionBar: Math.max(0, (r.contribution_per_customer_fen / max) * 100),
    costBar: Math.max(0, (r.cost_per_customer_fen / max) * 100),
    advice: null,
  }))
  const populated = rows.filter((r) => r.customers > 0)
  if (populated.length >= 2) {
    const best = populated.reduce((a, b) => (b.net_per_customer_fen > a.net_per_customer_fen ? b : a))
    const worst = populated.reduce((a, b) => (b.net_per_customer_fen < a.net_per_customer_fen ? b : a))
    if (best !== worst) {
      best.advice = 'more'
      worst.advice = 'less'
    }
  }
  return rows
}
