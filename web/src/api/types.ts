// Short names for the generated OpenAPI types (src/api/schema.d.ts, `npm run gen:api`).
import type { components } from './schema'

type S = components['schemas']

export type MeView = S['MeView']
export type UserView = S['UserView']
export type LoginResponse = S['LoginResponse']
export type CustomerView = S['CustomerView']
export type CustomerPage = S['CustomerPage']
export type ContactView = S['ContactView']
export type OrderView = S['OrderView']
export type OrderPage = S['OrderPage']
export type TimelineEntry = S['TimelineEntry']
export type TimelinePage = S['TimelinePage']
export type TeamMemberView = S['TeamMemberView']
export type DepartmentView = S['DepartmentView']
export type RoleView = S['RoleView']
export type CustomFieldView = S['CustomFieldView']
export type CodeSettingsView = S['CodeSettingsView']
export type AuditView = S['AuditView']
export type AuditPage = S['AuditPage']
export type AuditVerifyView = S['AuditVerifyView']
export type RevealView = S['RevealView']

// Insight (docs/INSIGHT.md); src/api/insight.ts uses these under the names of the doc.
export type AssignedView = S['Assigned']
export type RfmView = S['RfmView']
export type FactsView = S['FactsView']
export type PredictionView = S['PredictionView']
export type UpgradeView = S['UpgradeView']
export type SignalView = S['SignalView']
export type TagView = S['TagView']
export type HistoryView = S['HistoryView']
export type InsightView = S['InsightView']
export type AtRiskItem = S['AtRiskItem']
export type AtRiskPage = S['AtRiskPage']
export type UpgradeItem = S['UpgradeItem']
export type UpgradePage = S['UpgradePage']
export type CostBenefitRow = S['CostBenefitRow']
export type CostBenefitView = S['CostBenefitView']
export type InsightSettingsBody = S['InsightSettings']
export type InsightSettingsView = S['InsightSettingsView']
export type HoursPerTier = S['HoursPerTier']
export type RuleView = S['RuleView']
export type RuleList = S['RuleList']
export type RuleBody = S['RuleBody']
export type RulePatch = S['RulePatch']
export type PreviewView = S['PreviewView']
export type PreviewCustomer = S['PreviewCustomer']
export type RunView = S['RunView']
export type RunList = S['RunList']
export type QueuedJob = S['QueuedJob']

export type SavedView = S['SavedView']
export type BulkResult = S['BulkResult']
export type BulkFailure = S['BulkFailure']

export type FieldAccess = 'hidden' | 'read' | 'edit'

/** The customer fields field permissions apply to (kehu_domain::access::CUSTOMER_FIELDS). */
export const CUSTOMER_FIELDS = [
  'name',
  'phones',
  'emails',
  'province',
  'city',
  'district',
  'address',
  'industry',
  'occupation',
  'employer',
  'source',
  'owner_id',
  'birthday',
  'unified_social_credit_code',
  'id_number',
  'notes',
  'custom_fields',
] as const
export type CustomerField = (typeof CUSTOMER_FIELDS)[number]

/** Encrypted at rest and masked unless revealed. */
export const SENSITIVE_FIELDS = ['phones', 'emails', 'id_number', 'birthday', 'address'] as const

export const PERMISSIONS = [
  'customer.read',
  'customer.create',
  'customer.update',
  'customer.delete',
  'customer.assign',
  'customer.reveal',
  'order.write',
  'user.admin',
  'department.admin',
  'role.admin',
  'settings.admin',
  'audit.read',
  'token.create',
  'metrics.read',
] as const

export const DATA_SCOPES = [
  'own',
  'own_and_subordinates',
  'department',
  'department_and_below',
  'all',
] as const

export const CUSTOM_FIELD_TYPES = ['text', 'number', 'date', 'bool', 'select', 'multi_select'] as const
