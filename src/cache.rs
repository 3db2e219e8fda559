//! A bounded map for the project index's answers: memory stays flat however large the run, and
//! what the run keeps asking for stays cached.
//!
//! Two generations: entries go into the recent one; when it is full it becomes the old one and
//! the previous old one is dropped. An entry found in the old generation moves back to the recent
//! one. So at most `2 * limit` entries are held, and an entry survives as long as it is asked for
//! at least once per `limit` insertions (a cheap approximation of least-recently-used, without a
//! list to maintain on every read).

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

use rustc_hash::FxHashMap;

pub struct Bounded<K, V> {
    limit: usize,
    recent: FxHashMap<K, V>,
    old: FxHashMap<K, V>,
}

impl<K: Hash + Eq, V: Clone> Bounded<K, V> {
    /// A cache that holds at most `2 * limit` entries (at least `limit` once it has filled).
    pub fn new(limit: usize) -> Bounded<K, V> {
        Bounded { limit: limit.max(1), recent: FxHashMap::default(), old: FxHashMap::default() }
    }

    pub fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(value) = self.recent.get(key) {
            return Some(value.clone());
        }
        let (key, value) = self.old.remove_entry(key)?;
        self.insert(key, value.clone());
        Some(value)
    }

    pub fn insert(&mut self, key: K, value: V) {
        if self.recent.len() >= self.limit && !self.recent.contains_key(&key) {
            self.old = std::mem::take(&mut self.recent);
        }
        self.old.remove(&key);
        self.recent.insert(key, value);
    }

    pub fn len(&self) -> usize {
        self.recent.len() + self.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A [`Bounded`] cache the threads of a run share. A lock poisoned by a panicking thread is used
/// as it is: the cache only ever holds whole answers.
pub struct Shared<K, V>(Mutex<Bounded<K, V>>);

impl<K: Hash + Eq, V: Clone> Shared<K, V> {
    pub fn new(limit: usize) -> Shared<K, V> {
        Shared(Mutex::new(Bounded::new(limit)))
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().get(key)
    }

    pub fn insert(&self, key: K, value: V) {
        self.lock().insert(key, value);
    }

    /// The cached value of `key`, or `make`'s, cached (under one lock: `make` must be quick).
    pub fn get_or_insert_with<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> V
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut cache = self.lock();
        if let Some(value) = cache.get(key) {
            return value;
        }
        let value = make();
        cache.insert(key.to_owned(), value.clone());
        value
    }

    fn lock(&self) -> MutexGuard<'_, Bounded<K, V>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::Bounded;

    #[test]
    fn holds_at_most_twice_the_limit() {
        let mut cache = Bounded::new(4);
        for n in 0..100 {
            cache.insert(n, n * 10);
            assert!(cache.len() <= 8, "{} entries after {n} insertions", cache.len());
        }
        assert_eq!(cache.get(&99), Some(990));
        assert_eq!(cache.get(&0), None, "the oldest entries are gone");
    }

    #[test]
    fn an_entry_asked_for_survives_generations() {
        let mut cache = Bounded::new(4);
        cache.insert("hot", 1);
        for n in 0..100 {
            cache.insert(if n % 2 == 0 { "a" } else { "b" }, n);
            cache.insert(["c", "d", "e", "f", "g"][n % 5], n);
            assert_eq!(cache.get("hot"), Some(1), "lost after {n} rounds");
        }
    }

    #[test]
    fn an_entry_never_asked_for_is_dropped_after_two_generations() {
        let mut cache = Bounded::new(2);
        cache.insert("cold".to_string(), 1);
        for n in 0..4 {
            cache.insert(n.to_string(), n);
        }
        assert_eq!(cache.get("cold"), None);
    }
}
