//! Open-addressing hash index of `u32` entry ids, keyed by a 32-bit tag.
//!
//! The index stores no keys: each slot is one `u64` holding `tag << 32 | id`, and the caller
//! confirms a tag hit by comparing the real key (kept elsewhere, e.g. in a string arena) in the
//! `eq` closure. The home slot is derived from the tag alone ("fastrange": `tag * len >> 32`),
//! so the table can be resized or rebuilt from its slots without rehashing any key, and its
//! length need not be a power of two (which keeps the load factor close to the target).
//! Collisions are resolved by linear probing.
use rustc_hash::FxHasher;
use std::hash::Hasher;

const EMPTY: u64 = u64::MAX;
/// Maximum load factor, as a fraction `NUM / DEN`.
const LOAD_NUM: usize = 7;
const LOAD_DEN: usize = 10;

/// 32-bit tag of `(kind, bytes)`: FxHash of both, then a multiply-xorshift finaliser so that the
/// high bits depend on every input bit; the low 4 bits are `kind` itself, so that equal tags
/// imply equal kinds (`kind` < 16).
#[inline]
pub(crate) fn tag_of(kind: u8, bytes: &[u8]) -> u32 {
    let mut h = FxHasher::default();
    h.write_u8(kind);
    h.write(bytes);
    let mut x = h.finish();
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    ((x >> 32) as u32 & !0xf) | u32::from(kind & 0xf)
}

#[derive(Clone, Debug, Default)]
pub(crate) struct TagIndex {
    slots: Vec<u64>,
    len: usize,
}

impl TagIndex {
    /// An index sized so that `n` entries stay under the maximum load factor.
    pub(crate) fn with_capacity(n: usize) -> TagIndex {
        let slots = if n == 0 {
            0
        } else {
            (n * LOAD_DEN / LOAD_NUM + 1).max(8)
        };
        TagIndex {
            slots: vec![EMPTY; slots],
            len: 0,
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<u64>()
    }

    /// Every `(tag, id)` stored, in slot order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.slots
            .iter()
            .filter(|&&s| s != EMPTY)
            .map(|&s| ((s >> 32) as u32, s as u32))
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        ((tag as u64 * self.slots.len() as u64) >> 32) as usize
    }

    /// Finds the id whose tag is `tag` and for which `eq(id)` holds.
    #[inline]
    pub(crate) fn find(&self, tag: u32, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let n = self.slots.len();
        let mut i = self.home(tag);
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            if (s >> 32) as u32 == tag && eq(s as u32) {
                return Some(s as u32);
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    /// Returns the id of an existing matching entry, or inserts `new_id()` and returns `Err`
    /// with the inserted id. `id` must never be `u32::MAX`.
    pub(crate) fn find_or_insert(
        &mut self,
        tag: u32,
        eq: impl FnMut(u32) -> bool,
        new_id: u32,
    ) -> Result<u32, u32> {
        if let Some(id) = self.find(tag, eq) {
            return Ok(id);
        }
        self.insert_unique(tag, new_id);
        Err(new_id)
    }

    /// Inserts without checking for an existing equal key. `id` must never be `u32::MAX`.
    pub(crate) fn insert_unique(&mut self, tag: u32, id: u32) {
        debug_assert_ne!(id, u32::MAX);
        if (self.len + 1) * LOAD_DEN > self.slots.len() * LOAD_NUM {
            self.grow();
        }
        self.place(((tag as u64) << 32) | id as u64);
        self.len += 1;
    }

    fn place(&mut self, slot: u64) {
        let n = self.slots.len();
        let mut i = self.home((slot >> 32) as u32);
        while self.slots[i] != EMPTY {
            i += 1;
            if i == n {
                i = 0;
            }
        }
        self.slots[i] = slot;
    }

    fn grow(&mut self) {
        let new_len = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; new_len]);
        for s in old.into_iter().filter(|&s| s != EMPTY) {
            self.place(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_and_grow() {
        let mut t = TagIndex::default();
        let keys: Vec<String> = (0..10_000).map(|i| format!("key{i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            let tag = tag_of(0, k.as_bytes());
            let r = t.find_or_insert(tag, |id| keys[id as usize] == *k, i as u32);
            assert_eq!(r, Err(i as u32));
        }
        for (i, k) in keys.iter().enumerate() {
            let tag = tag_of(0, k.as_bytes());
            assert_eq!(t.find(tag, |id| keys[id as usize] == *k), Some(i as u32));
            assert_eq!(
                t.find_or_insert(tag, |id| keys[id as usize] == *k, 99),
                Ok(i as u32)
            );
        }
        assert_eq!(t.entries().count(), keys.len());
        let empty = TagIndex::with_capacity(0);
        assert_eq!(empty.find(5, |_| true), None);
    }
}
