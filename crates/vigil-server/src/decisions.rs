//! The decision feed behind the CrowdSec-compatible stream: an immutable snapshot of the
//! current decisions plus a bounded log of deltas, swapped atomically.
//!
//! Readers (`snapshot`, `Snapshot::changes_since`) load the current snapshot with one atomic
//! pointer read and never wait for a writer; a writer (`publish`) builds the next snapshot aside
//! and swaps it in. This is the design CrowdSec's SQLite-backed stream lacks: its readers queue
//! behind writes under load.
//!
//! Ids are allocated per TLP level (`seq × 8 + level`), so the gaps a bouncer sees between the
//! ids it is cleared for say nothing about how many decisions above its clearance were made.
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use arc_swap::ArcSwap;
use vigil_model::{Decision, Scope, Tlp};

/// Deleted decisions remembered for bouncers that must resynchronise (see
/// [`Snapshot::tombstones`]); past this, those expiring first are forgotten.
const MAX_TOMBSTONES: usize = 1 << 17;

/// Namespace of decision UUIDs (v5 over id, target and expiry).
const UUID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5c1d_7a0e_3f4b_4e2a_9d61_0b7e_c4a8_21f3);

/// A decision with the stream id it was published under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: u64,
    pub uuid: String,
    pub decision: Decision,
}

/// What changed from one version to the next.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    pub version: u64,
    pub added: Vec<Arc<Entry>>,
    pub deleted: Vec<Arc<Entry>>,
}

/// One published state.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub version: u64,
    /// Current decisions by (scope, value).
    pub decisions: BTreeMap<(Scope, String), Arc<Entry>>,
    /// Deleted decisions a bouncer may still enforce: not current, and not yet at their
    /// `until` (bouncers time bans out themselves, so an expired one needs no deletion).
    /// Sent as `deleted` to a bouncer that (re)starts without a usable cursor.
    pub tombstones: BTreeMap<(Scope, String), Arc<Entry>>,
    /// The most recent deltas, oldest first, ending at `version`.
    log: VecDeque<Arc<Delta>>,
    /// Next sequence number per TLP level.
    next_seq: [u64; 5],
}

/// Changes for a client that last saw `from`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    pub version: u64,
    pub new: Vec<Arc<Entry>>,
    pub deleted: Vec<Arc<Entry>>,
}

impl Snapshot {
    /// What changed since `from`; `None` when `from` is older than the kept log (or from
    /// the future), and the client must start over with the snapshot.
    pub fn changes_since(&self, from: u64) -> Option<Changes> {
        if from > self.version {
            return None;
        }
        if from == self.version {
            return Some(Changes {
                version: from,
                ..Changes::default()
            });
        }
        let first = self.log.front()?.version;
        if from + 1 < first {
            return None;
        }
        // Net effect over the deltas: an entry added and deleted again within the window is
        // neither new nor deleted for this client.
        let mut new: BTreeMap<u64, Arc<Entry>> = BTreeMap::new();
        let mut deleted: BTreeMap<u64, Arc<Entry>> = BTreeMap::new();
        for d in self.log.iter().filter(|d| d.version > from) {
            for e in &d.added {
                new.insert(e.id, Arc::clone(e));
            }
            for e in &d.deleted {
                if new.remove(&e.id).is_none() {
                    deleted.insert(e.id, Arc::clone(e));
                }
            }
        }
        Some(Changes {
            version: self.version,
            new: new.into_values().collect(),
            deleted: deleted.into_values().collect(),
        })
    }
}

/// The feed. Cheap to share: clone the `Arc<DecisionFeed>`.
pub struct DecisionFeed {
    current: ArcSwap<Snapshot>,
    max_log: usize,
}

fn tlp_level(t: Tlp) -> usize {
    match t {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

impl DecisionFeed {
    /// An empty feed keeping the last `max_log` deltas for incremental pulls.
    pub fn new(max_log: usize) -> DecisionFeed {
        DecisionFeed {
            current: ArcSwap::from_pointee(Snapshot::default()),
            max_log: max_log.max(1),
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Replaces the decision set with `decisions` at `now`: new (scope, value)s are added,
    /// missing ones deleted, and a changed decision (new expiry, scenario …) is a delete plus
    /// an add under a new id, as CrowdSec does. Returns the new version (unchanged when nothing
    /// changed). Callers serialise writers; readers are never blocked.
    pub fn publish(&self, decisions: Vec<Decision>, now: i64) -> u64 {
        let cur = self.current.load_full();
        let mut wanted: BTreeMap<(Scope, String), Decision> = BTreeMap::new();
        for d in decisions {
            wanted.insert((d.scope, d.value.clone()), d);
        }
        let mut next_seq = cur.next_seq;
        let mut delta = Delta {
            version: cur.version + 1,
            ..Delta::default()
        };
        let mut map = BTreeMap::new();
        for (key, d) in wanted {
            match cur.decisions.get(&key) {
                Some(e) if e.decision == d => {
                    map.insert(key, Arc::clone(e));
                }
                old => {
                    if let Some(e) = old {
                        delta.deleted.push(Arc::clone(e));
                    }
                    let level = tlp_level(d.tlp);
                    next_seq[level] += 1;
                    let id = next_seq[level] * 8 + level as u64;
                    let uuid = uuid::Uuid::new_v5(
                        &UUID_NAMESPACE,
                        format!("{id}/{:?}/{}/{}", d.scope, d.value, d.until).as_bytes(),
                    )
                    .to_string();
                    let e = Arc::new(Entry {
                        id,
                        uuid,
                        decision: d,
                    });
                    delta.added.push(Arc::clone(&e));
                    map.insert(key, e);
                }
            }
        }
        for (key, e) in &cur.decisions {
            if !map.contains_key(key) {
                delta.deleted.push(Arc::clone(e));
            }
        }
        if delta.added.is_empty() && delta.deleted.is_empty() {
            return cur.version;
        }
        let mut tombstones = cur.tombstones.clone();
        for e in &delta.deleted {
            tombstones.insert((e.decision.scope, e.decision.value.clone()), Arc::clone(e));
        }
        tombstones.retain(|k, e| e.decision.until > now && !map.contains_key(k));
        if tombstones.len() > MAX_TOMBSTONES {
            let mut by_until: Vec<(i64, (Scope, String))> = tombstones
                .iter()
                .map(|(k, e)| (e.decision.until, k.clone()))
                .collect();
            by_until.sort();
            for (_, k) in by_until.into_iter().take(tombstones.len() - MAX_TOMBSTONES) {
                tombstones.remove(&k);
            }
        }
        let mut log = cur.log.clone();
        log.push_back(Arc::new(delta));
        while log.len() > self.max_log {
            log.pop_front();
        }
        let version = cur.version + 1;
        self.current.store(Arc::new(Snapshot {
            version,
            decisions: map,
            tombstones,
            log,
            next_seq,
        }));
        version
    }

    /// What changed since `from` in the current snapshot (see [`Snapshot::changes_since`]).
    pub fn changes_since(&self, from: u64) -> Option<Changes> {
        self.current.load().changes_since(from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use vigil_model::Tlp;

    fn ban(v: &str, until: i64) -> Decision {
        Decision {
            scope: if v.contains('/') {
                Scope::Range
            } else {
                Scope::Ip
            },
            value: v.into(),
            kind: "ban".into(),
            until,
            origin: "vigil".into(),
            scenario: "vigil/intel:t".into(),
            confidence: 90,
            tlp: Tlp::Clear,
        }
    }

    fn values(es: &[Arc<Entry>]) -> Vec<&str> {
        es.iter().map(|e| e.decision.value.as_str()).collect()
    }

    #[test]
    fn deltas_carry_new_and_deleted_decisions() {
        let f = DecisionFeed::new(16);
        let v1 = f.publish(vec![ban("192.0.2.1", 10), ban("192.0.2.2", 10)], 0);
        let v2 = f.publish(vec![ban("192.0.2.2", 10), ban("198.51.100.0/24", 10)], 0);
        assert_eq!((v1, v2), (1, 2));
        let c = f.changes_since(v1).unwrap();
        assert_eq!(values(&c.new), ["198.51.100.0/24"]);
        assert_eq!(values(&c.deleted), ["192.0.2.1"]);
        // Nothing changed: same version, nothing to send.
        assert_eq!(
            f.publish(vec![ban("192.0.2.2", 10), ban("198.51.100.0/24", 10)], 0),
            2
        );
        assert_eq!(
            f.changes_since(2).unwrap(),
            Changes {
                version: 2,
                ..Changes::default()
            }
        );
        // A new expiry replaces the decision under a new id.
        f.publish(vec![ban("192.0.2.2", 20), ban("198.51.100.0/24", 10)], 0);
        let c = f.changes_since(2).unwrap();
        assert_eq!(
            (values(&c.new), values(&c.deleted)),
            (vec!["192.0.2.2"], vec!["192.0.2.2"])
        );
        assert_ne!(c.new[0].id, c.deleted[0].id);
    }

    #[test]
    fn clients_behind_the_kept_log_must_restart() {
        let f = DecisionFeed::new(2);
        for i in 0..5 {
            f.publish(vec![ban(&format!("192.0.2.{i}"), 1)], 0);
        }
        assert!(f.changes_since(1).is_none());
        assert!(f.changes_since(3).is_some());
        assert!(f.changes_since(99).is_none());
    }

    #[test]
    fn deleted_decisions_are_remembered_until_they_expire_or_return() {
        let f = DecisionFeed::new(16);
        f.publish(vec![ban("192.0.2.1", 100), ban("192.0.2.2", 50)], 0);
        f.publish(vec![], 10);
        let keys =
            |s: &Snapshot| -> Vec<String> { s.tombstones.keys().map(|k| k.1.clone()).collect() };
        assert_eq!(keys(&f.snapshot()), ["192.0.2.1", "192.0.2.2"]);
        // Back again: no longer a tombstone. Past its expiry: forgotten.
        f.publish(vec![ban("192.0.2.1", 100)], 60);
        assert!(keys(&f.snapshot()).is_empty(), "{:?}", keys(&f.snapshot()));
    }

    #[test]
    fn ids_count_per_tlp_level_so_gaps_reveal_nothing_above_clearance() {
        let f = DecisionFeed::new(16);
        let mut amber = ban("192.0.2.9", 10);
        amber.tlp = Tlp::Amber;
        f.publish(vec![ban("192.0.2.1", 10)], 0);
        f.publish(vec![ban("192.0.2.1", 10), amber.clone()], 0);
        f.publish(vec![ban("192.0.2.1", 10), amber, ban("192.0.2.2", 10)], 0);
        let snap = f.snapshot();
        let id = |v: &str| snap.decisions[&(Scope::Ip, v.to_string())].id;
        // Two CLEAR decisions are consecutive at their level whatever happened at AMBER.
        assert_eq!(id("192.0.2.2") - id("192.0.2.1"), 8);
        assert_ne!(id("192.0.2.9") % 8, id("192.0.2.1") % 8);
        let uuids: std::collections::BTreeSet<&str> =
            snap.decisions.values().map(|e| e.uuid.as_str()).collect();
        assert_eq!(uuids.len(), 3);
    }

    #[test]
    fn a_reader_keeps_a_consistent_snapshot_while_the_writer_publishes() {
        let f = Arc::new(DecisionFeed::new(64));
        f.publish(vec![ban("192.0.2.1", 1)], 0);
        let snap = f.snapshot();
        // A reader holding a snapshot does not stop the writer, and keeps its consistent view.
        let w = {
            let f = Arc::clone(&f);
            std::thread::spawn(move || {
                for i in 0..200 {
                    f.publish(vec![ban(&format!("192.0.2.{}", i % 250), 1)], 0);
                }
            })
        };
        w.join().unwrap();
        assert_eq!(snap.version, 1);
        assert_eq!(snap.decisions.len(), 1);
        assert_eq!(f.snapshot().version, 201);
    }

    proptest! {
        /// Applying a client's changes to its last view always yields the current snapshot.
        #[test]
        fn changes_bring_a_client_to_the_current_state(
            sets in prop::collection::vec(prop::collection::btree_set(0u8..12, 0..6), 1..8),
            seen in 0usize..8,
        ) {
            let f = DecisionFeed::new(64);
            let mut views = vec![BTreeSet::new()];
            for s in &sets {
                f.publish(s.iter().map(|i| ban(&format!("192.0.2.{i}"), 1)).collect(), 0);
                let snap = f.snapshot();
                let view: BTreeSet<u64> = snap.decisions.values().map(|e| e.id).collect();
                if views.len() as u64 == snap.version {
                    views.push(view);
                } else {
                    *views.last_mut().unwrap() = view;
                }
            }
            let from = seen.min(views.len() - 1) as u64;
            let c = f.changes_since(from).unwrap();
            let mut view = views[from as usize].clone();
            for e in &c.deleted {
                prop_assert!(view.remove(&e.id), "deleted an entry the client never had");
            }
            for e in &c.new {
                prop_assert!(view.insert(e.id), "new entry the client already had");
            }
            let now: BTreeSet<u64> = f.snapshot().decisions.values().map(|e| e.id).collect();
            prop_assert_eq!(view, now);
        }
    }
}
