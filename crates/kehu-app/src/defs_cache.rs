//! Each tenant's custom field definitions, kept in memory for a moment.
//!
//! Every customer create and edit validates against them, and reading them
//! was 6 % of a request write's CPU on SQLite: a read transaction after any
//! write makes SQLite drop its page cache and memory map for the connection
//! (BENCHMARKS.md, "Fewer pages and less work per write"). This process
//! forgets a tenant's entry when it changes a definition; a change made by
//! another process (PostgreSQL with several app processes) is seen here
//! within [`FRESH_FOR`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kehu_domain::custom_field::CustomFieldDef;

/// How long an entry is used before the definitions are read again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

pub type Defs = Arc<Vec<CustomFieldDef>>;

#[derive(Default)]
pub struct DefsCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every [`DefsCache::forget`]: a read that started before
    /// one may have seen the old definitions, so it is not kept.
    generation: u64,
    tenants: HashMap<String, (Instant, Defs)>,
}

impl DefsCache {
    /// The tenant's definitions if fresh; otherwise the generation to hand
    /// to [`DefsCache::put`] with what is then read.
    pub fn get(&self, tenant_id: &str) -> Result<Defs, u64> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.tenants.get(tenant_id) {
            Some((at, defs)) if at.elapsed() < FRESH_FOR => Ok(Arc::clone(defs)),
            _ => Err(inner.generation),
        }
    }

    /// Keeps definitions read since `generation`, unless forgotten since.
    pub fn put(&self, tenant_id: &str, generation: u64, defs: Defs) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.generation == generation {
            inner
                .tenants
                .insert(tenant_id.to_string(), (Instant::now(), defs));
        }
    }

    /// When this process changes the tenant's definitions: before its
    /// COMMIT and after it (`App::commit_defs_change`).
    pub fn forget(&self, tenant_id: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.generation += 1;
        inner.tenants.remove(tenant_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_overlaps_a_change_is_not_kept() {
        let c = DefsCache::default();
        let g = c.get("t").unwrap_err();
        c.put("t", g, Arc::new(Vec::new()));
        assert!(c.get("t").is_ok(), "kept");
        // A read starts, a definition changes and is forgotten, the read
        // ends with what it saw before the change: not kept.
        c.forget("t");
        let g = c.get("t").unwrap_err();
        c.forget("t");
        c.put("t", g, Arc::new(Vec::new()));
        assert!(c.get("t").is_err(), "the stale read was dropped");
    }
}
