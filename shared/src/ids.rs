//! Identifiers: a domain prefix and a ULID. ULIDs are unique across concurrent Lambda instances
//! without a central counter (48-bit millisecond time + 80 random bits) and sort by creation
//! time, which is what makes "newest first" a plain descending key order.

use std::sync::Mutex;

pub const MODEL_PREFIX: &str = "model_";
pub const JOB_PREFIX: &str = "job_";
pub const DATASET_PREFIX: &str = "ds_";
pub const REQUEST_PREFIX: &str = "req_";
pub const SWEEP_PREFIX: &str = "sweep_";

/// Monotonic within this process, so two ids made in the same millisecond still sort in the
/// order they were made (plain `Ulid::new` randomises within a millisecond).
static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

pub fn new_id(prefix: &str) -> String {
    let id = {
        let mut guard = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .get_or_insert_with(ulid::Generator::new)
            .generate()
            // Only after 2^80 ids in one millisecond; a random one is still unique.
            .unwrap_or_else(|_| ulid::Ulid::new())
    };
    format!("{prefix}{}", id.to_string().to_ascii_lowercase())
}

pub fn new_model_id() -> String {
    new_id(MODEL_PREFIX)
}

pub fn new_job_id() -> String {
    new_id(JOB_PREFIX)
}

pub fn new_dataset_id() -> String {
    new_id(DATASET_PREFIX)
}

/// True when `id` is `prefix` followed by a well-formed ULID: lets handlers answer 404 for
/// garbage without a store round trip.
pub fn is_valid(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 26 && ulid::Ulid::from_string(rest).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_prefixed_and_sortable() {
        let a = new_model_id();
        let b = new_model_id();
        assert!(a.starts_with("model_") && b.starts_with("model_"));
        assert!(b > a, "later id sorts after earlier id");
        assert!(is_valid(&a, MODEL_PREFIX));
        assert!(!is_valid("model_001", MODEL_PREFIX));
        assert!(!is_valid(&a, JOB_PREFIX));
    }
}
