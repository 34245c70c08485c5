//! Customer analytics: per-customer facts, RFM, and the BG/NBD,
//! Gamma-Gamma and CLV models, exactly as defined in
//! `shared/design/ANALYTICS.md`. Pure functions of an order log.
//! Classes, value tiers and lifecycle stages with their explanations:
//! [`classify`], [`tier`], [`lifecycle`], [`explain`].

pub mod bgnbd;
pub mod classify;
pub mod clv;
pub mod explain;
pub mod gamma_gamma;
pub mod lifecycle;
pub mod optimize;
pub mod report;
pub mod rfm;
pub mod rules;
pub mod run;
pub mod special;
mod sum;
pub mod summary;
pub mod tier;

#[cfg(test)]
mod sim_tests;

pub use bgnbd::{BgNbdFit, BgNbdParams, fit_bgnbd};
pub use classify::{
    AmountClass, ClassConfig, Classes, FrequencyClass, ProductRange, amount_class, classify,
    frequency_class, product_range,
};
pub use clv::{ClvConfig, clv};
pub use explain::{Explanation, format_yuan};
pub use gamma_gamma::{GammaGammaFit, GammaGammaParams, fit_gamma_gamma};
pub use lifecycle::{LifecycleConfig, PreviousStage, Stage, StageAssignment, lifecycle_stage};
pub use report::{
    Analysis, AnalysisError, AnalysisOptions, CustomerResult, Fitted, analyze, fit_models,
};
pub use rfm::{RfmScore, RfmSegment, ntile, rfm_scores};
pub use rules::{
    CmpOp, CustomValue, ErrorKind, Expected, Expr, Field, Found, NumField, ParseError, RuleContext,
    TextField, Value, ValueType, parse_rule,
};
pub use summary::{
    CustomerFacts, Order, OrderBook, RepeatSummary, TimeUnit, customer_facts, day_number,
    repeat_summary,
};
pub use tier::{
    PreviousTier, Tier, TierAssignment, TierConfig, TierMethod, apply_min_stay, assign_tiers,
    compute_tiers, tier_by_thresholds,
};
