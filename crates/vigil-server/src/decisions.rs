//! The decision feed behind the CrowdSec-compatible stream: an immutable snapshot of the
//! current decisions plus a bounded log of deltas, swapped atomically.
//!
//! Readers (`startup`, `changes_since`) load the current snapshot with one atomic pointer read
//! and never wait for a writer; a writer (`publish`) builds the next snapshot aside and swaps it
//! in. This is the design CrowdSec's SQLite-backed stream lacks: its readers queue behind
//! writes under load.
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use arc_swap::ArcSwap;
use vigil_model::{Decision, Scope};

/// A decision with the stream id it was published under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: u64,
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
    /// The most recent deltas, oldest first, ending at `version`.
    log: VecDeque<Arc<Delta>>,
    next_id: u64,
}

/// Changes for a client that last saw `from`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    pub version: u64,
    pub new: Vec<Arc<Entry>>,
    pub deleted: Vec<Arc<Entry>>,
}

/// The feed. Cheap to share: clone the `Arc<DecisionFeed>`.
pub struct DecisionFeed {
    current: ArcSwap<Snapshot>,
    max_log: usize,
}

impl DecisionFeed {
    /// An empty feed keeping the last `max_log` deltas for incremental pulls.
    pub fn new(max_log: usize) -> DecisionFeed {
        DecisionFeed {
            current: ArcSwap::from_pointee(Snapshot::default()),
            max_log: max_log.max(1),
        }
    }

    /// The current snapshot (for `startup=true`).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Replaces the decision set with `decisions`: new (scope, value)s are added, missing ones
    /// deleted, and a changed decision (new expiry, scenario …) is a delete plus an add under a
    /// new id, as CrowdSec does. Returns the new version (unchanged when nothing changed).
    /// Callers serialise writers; readers are never blocked.
    pub fn publish(&self, decisions: Vec<Decision>) -> u64 {
        let cur = self.current.load_full();
        let mut wanted: BTreeMap<(Scope, String), Decision> = BTreeMap::new();
        for d in decisions {
            wanted.insert((d.scope, d.value.clone()), d);
        }
        let mut next_id = cur.next_id;
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
                    next_id += 1;
                    let e = Arc::new(Entry {
                        id: next_id,
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
        let mut log = cur.log.clone();
        log.push_back(Arc::new(delta));
        while log.len() > self.max_log {
            log.pop_front();
        }
        let version = cur.version + 1;
        self.current.store(Arc::new(Snapshot {
            version,
            decisions: map,
            log,
            next_id,
        }));
        version
    }

    /// What changed since `from`; `None` when `from` is older than the kept log (or from
    /// the future), and the client must start over with the snapshot.
    pub fn changes_since(&self, from: u64) -> Option<Changes> {
        let snap = self.current.load();
        if from > snap.version {
            return None;
        }
        if from == snap.version {
            return Some(Changes {
                version: from,
                ..Changes::default()
            });
        }
        let first = snap.log.front()?.version;
        if from + 1 < first {
            return None;
        }
        // Net effect over the deltas: an entry added and deleted again within the window is
        // neither new nor deleted for this client.
        let mut new: BTreeMap<u64, Arc<Entry>> = BTreeMap::new();
        let mut deleted: BTreeMap<u64, Arc<Entry>> = BTreeMap::new();
        for d in snap.log.iter().filter(|d| d.version > from) {
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
            version: snap.version,
            new: new.into_values().collect(),
            deleted: deleted.into_values().collect(),
        })
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
        let v1 = f.publish(vec![ban("192.0.2.1", 10), ban("192.0.2.2", 10)]);
        let v2 = f.publish(vec![ban("192.0.2.2", 10), ban("198.51.100.0/24", 10)]);
        assert_eq!((v1, v2), (1, 2));
        let c = f.changes_since(v1).unwrap();
        assert_eq!(values(&c.new), ["198.51.100.0/24"]);
        assert_eq!(values(&c.deleted), ["192.0.2.1"]);
        // Nothing changed: same version, nothing to send.
        assert_eq!(
            f.publish(vec![ban("192.0.2.2", 10), ban("198.51.100.0/24", 10)]),
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
        f.publish(vec![ban("192.0.2.2", 20), ban("198.51.100.0/24", 10)]);
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
            f.publish(vec![ban(&format!("192.0.2.{i}"), 1)]);
        }
        assert!(f.changes_since(1).is_none());
        assert!(f.changes_since(3).is_some());
        assert!(f.changes_since(99).is_none());
    }

    #[test]
    fn a_reader_keeps_a_consistent_snapshot_while_the_writer_publishes() {
        let f = Arc::new(DecisionFeed::new(64));
        f.publish(vec![ban("192.0.2.1", 1)]);
        let snap = f.snapshot();
        // A reader holding a snapshot does not stop the writer, and keeps its consistent view.
        let w = {
            let f = Arc::clone(&f);
            std::thread::spawn(move || {
                for i in 0..200 {
                    f.publish(vec![ban(&format!("192.0.2.{}", i % 250), 1)]);
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
                f.publish(s.iter().map(|i| ban(&format!("192.0.2.{i}"), 1)).collect());
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
