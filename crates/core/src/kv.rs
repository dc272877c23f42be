//! The key-value store behind a small trait of our own, as [`crate::db`] hides PostgreSQL: the
//! Spin adapter (feature `spin`, `fermyon:spin/key-value@2.0.0`, the store labelled `default`)
//! and [`MemoryKv`] for native tests. The public snapshot ([`crate::public`]) lives here.

use std::cell::RefCell;
use std::collections::BTreeMap;

/// A key-value store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key-value store: {0}")]
pub struct KvError(pub String);

/// A key-value store: bytes by string key.
pub trait Kv {
    /// The value of `key`, `None` when it has none.
    ///
    /// # Errors
    /// The store is unreachable or refused.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError>;

    /// Sets `key` to `value`.
    ///
    /// # Errors
    /// As [`Kv::get`].
    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError>;

    /// Removes `key` (nothing when it has no value).
    ///
    /// # Errors
    /// As [`Kv::get`].
    fn delete(&self, key: &str) -> Result<(), KvError>;
}

/// An in-memory store for native tests.
#[derive(Debug, Default)]
pub struct MemoryKv(RefCell<BTreeMap<String, Vec<u8>>>);

impl MemoryKv {
    /// Every key, sorted.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        self.0.borrow().keys().cloned().collect()
    }
}

impl Kv for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.0.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.0.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
}

/// The Spin store labelled `default` (the component must list it in `key_value_stores`).
#[cfg(feature = "spin")]
#[derive(Debug)]
pub struct SpinKv(spin_sdk::key_value::Store);

#[cfg(feature = "spin")]
impl SpinKv {
    /// Opens the `default` store.
    ///
    /// # Errors
    /// `access-denied` when the manifest does not list it for the component.
    pub fn open_default() -> Result<Self, KvError> {
        spin_sdk::key_value::Store::open_default().map(Self).map_err(spin_error)
    }
}

#[cfg(feature = "spin")]
#[allow(clippy::needless_pass_by_value)] // map_err hands the error over
fn spin_error(e: spin_sdk::key_value::Error) -> KvError {
    KvError(e.to_string())
}

#[cfg(feature = "spin")]
impl Kv for SpinKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.0.get(key).map_err(spin_error)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.0.set(key, value).map_err(spin_error)
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        self.0.delete(key).map_err(spin_error)
    }
}
