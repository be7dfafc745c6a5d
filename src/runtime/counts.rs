//! What a run did, in numbers (`deleted`, `exported`, ...), shown in `run finished` and history.
//! Batches add to it as they go, so an interrupted run still reports its partial work.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct Counts(Arc<Mutex<BTreeMap<String, i64>>>);

impl Counts {
    pub fn add(&self, name: &str, n: i64) {
        *self.lock().entry(name.to_owned()).or_default() += n;
    }

    pub fn snapshot(&self) -> BTreeMap<String, i64> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, i64>> {
        // A panic while holding this lock cannot leave a half-updated map.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
