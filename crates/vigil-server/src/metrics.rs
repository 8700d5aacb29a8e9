//! Prometheus metrics at `/metrics`: request counts and latency histograms per route, plus
//! gauges the hub reports when scraped. Hand-rolled on atomics: recording a request takes a
//! shared read lock and three relaxed adds.
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

/// Latency bucket upper bounds, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Series {
    count: AtomicU64,
    sum_us: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route) → latency series.
    latency: RwLock<FxHashMap<(String, String), Arc<Series>>>,
    /// (method, route, status) → count.
    requests: RwLock<FxHashMap<(String, String, u16), Arc<AtomicU64>>>,
    /// Named counters the hub bumps (objects imported, sightings …).
    counters: RwLock<FxHashMap<&'static str, Arc<AtomicU64>>>,
    in_flight: AtomicU64,
    started: Option<Instant>,
}

/// Counts a request as in flight until dropped.
pub struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

fn get_or_insert<K: std::hash::Hash + Eq + Clone, V: Default>(
    map: &RwLock<FxHashMap<K, Arc<V>>>,
    key: &K,
) -> Arc<V> {
    if let Some(v) = map.read().unwrap_or_else(|p| p.into_inner()).get(key) {
        return Arc::clone(v);
    }
    let mut w = map.write().unwrap_or_else(|p| p.into_inner());
    Arc::clone(w.entry(key.clone()).or_default())
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            started: Some(Instant::now()),
            ..Metrics::default()
        }
    }

    /// Records one finished request. `route` is the matched route template, never the raw path,
    /// so label cardinality stays bounded.
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let s = get_or_insert(&self.latency, &(method.to_string(), route.to_string()));
        s.count.fetch_add(1, Relaxed);
        s.sum_us.fetch_add(elapsed.as_micros() as u64, Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            s.buckets[i].fetch_add(1, Relaxed);
        }
        get_or_insert(
            &self.requests,
            &(method.to_string(), route.to_string(), status),
        )
        .fetch_add(1, Relaxed);
    }

    /// Marks a request in flight (the shutdown drain waits for these).
    pub fn start_request(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(&self.in_flight)
    }

    /// Adds `n` to a named counter (`vigil_<name>_total`).
    pub fn add(&self, name: &'static str, n: u64) {
        get_or_insert(&self.counters, &name).fetch_add(n, Relaxed);
    }

    /// The Prometheus text exposition, with `gauges` (name, help, value) appended.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        out.push_str("# HELP vigil_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE vigil_http_requests_total counter\n");
        let mut reqs: Vec<_> = self
            .requests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.load(Relaxed)))
            .collect();
        reqs.sort();
        for ((m, r, s), n) in reqs {
            let _ = writeln!(
                out,
                "vigil_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {n}",
                escape(&r)
            );
        }
        out.push_str("# HELP vigil_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE vigil_http_request_duration_seconds histogram\n");
        let mut lat: Vec<_> = self
            .latency
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        lat.sort_by(|a, b| a.0.cmp(&b.0));
        for ((m, r), s) in lat {
            let r = escape(&r);
            let mut cum = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cum += s.buckets[i].load(Relaxed);
                let _ = writeln!(
                    out,
                    "vigil_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {cum}"
                );
            }
            let count = s.count.load(Relaxed);
            let _ = writeln!(
                out,
                "vigil_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "vigil_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}",
                s.sum_us.load(Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "vigil_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {count}"
            );
        }
        let mut counters: Vec<_> = self
            .counters
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (*k, v.load(Relaxed)))
            .collect();
        counters.sort();
        for (name, n) in counters {
            let _ = writeln!(out, "# TYPE vigil_{name}_total counter");
            let _ = writeln!(out, "vigil_{name}_total {n}");
        }
        if let Some(t) = self.started {
            let _ = writeln!(
                out,
                "# HELP vigil_uptime_seconds Seconds since the hub started."
            );
            let _ = writeln!(out, "# TYPE vigil_uptime_seconds gauge");
            let _ = writeln!(out, "vigil_uptime_seconds {}", t.elapsed().as_secs_f64());
        }
        let _ = writeln!(out, "# HELP vigil_http_in_flight Requests being served.");
        let _ = writeln!(out, "# TYPE vigil_http_in_flight gauge");
        let _ = writeln!(out, "vigil_http_in_flight {}", self.in_flight.load(Relaxed));
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {v}");
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_counts_add_up() {
        let m = Metrics::new();
        m.record("GET", "/api/v1/stats", 200, Duration::from_micros(300));
        m.record("GET", "/api/v1/stats", 200, Duration::from_millis(30));
        m.record("GET", "/api/v1/stats", 401, Duration::from_millis(2));
        m.add("objects_imported", 5);
        let text = m.render(&[("vigil_decisions", "Current decisions.", 3.0)]);
        assert!(text.contains(
            "vigil_http_requests_total{method=\"GET\",route=\"/api/v1/stats\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.0005\"} 1\n"));
        assert!(text.contains("le=\"0.05\"} 3\n"));
        assert!(text.contains("le=\"+Inf\"} 3\n"));
        assert!(text.contains("vigil_objects_imported_total 5"));
        assert!(text.contains("vigil_decisions 3\n"));
    }
}
