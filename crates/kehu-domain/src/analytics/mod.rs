//! Customer analytics: per-customer facts, RFM, and the BG/NBD,
//! Gamma-Gamma and CLV models, exactly as defined in
//! `shared/design/ANALYTICS.md`. Pure functions of an order log.

pub mod bgnbd;
pub mod clv;
pub mod gamma_gamma;
pub mod optimize;
pub mod report;
pub mod rfm;
pub mod special;
pub mod summary;

#[cfg(test)]
mod sim_tests;

pub use bgnbd::{BgNbdFit, BgNbdParams, fit_bgnbd};
pub use clv::{ClvConfig, clv};
pub use gamma_gamma::{GammaGammaFit, GammaGammaParams, fit_gamma_gamma};
pub use report::{Analysis, AnalysisError, AnalysisOptions, CustomerResult, analyze};
pub use rfm::{RfmScore, RfmSegment, ntile, rfm_scores};
pub use summary::{
    CustomerFacts, Order, RepeatSummary, TimeUnit, customer_facts, day_number, repeat_summary,
};
