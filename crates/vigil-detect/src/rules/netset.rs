//! Resolved address and port sets for rule headers, suppressions and variables.
//!
//! [`IpSet`] and [`PortSet`] are immutable, sorted lists of disjoint inclusive intervals
//! (`u32` for IPv4, `u128` for IPv6, `u16` for ports); membership is a binary search.
//! [`Vars`] holds the `address-groups` / `port-groups` of a suricata.yaml and turns an
//! [`AddrSpec`] / [`PortSpec`] into a set, expanding `$VAR` recursively.
//!
//! Negation follows Suricata's `DetectAddressMergeNot` / `DetectPortMergeNot`:
//!
//! - inside one list, positive members (including the members of positive nested lists and of
//!   positive variables, which Suricata splices in place) are united, and every negated member
//!   (`!x`, `![..]`, `!$VAR`), fully resolved on its own, is subtracted from that union;
//! - this happens per address family: when a list has negated members of a family but no
//!   positive member of it, the positives of that family start as the whole family. So `!x`
//!   is the complement of `x` *within the families `x` has addresses in*: `!10.0.0.0/8` (and
//!   `EXTERNAL_NET: "!$HOME_NET"` with an IPv4-only `HOME_NET`) matches no IPv6 address;
//! - a set that ends up empty is an error, as Suricata refuses such a rule.

use super::ast::{AddrSpec, IpNet, PortSpec};
use super::{parse_address_spec, parse_port_spec};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// ---------------------------------------------------------------------------------------------
// Interval arithmetic, shared by every set here (and by the reputation tables).
// ---------------------------------------------------------------------------------------------

/// An unsigned key space with checked neighbours, so interval code never overflows.
pub(crate) trait Point: Copy + Ord + fmt::Debug {
    const MIN: Self;
    const MAX: Self;
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
}

macro_rules! point {
    ($($t:ty),*) => {$(
        impl Point for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Option<Self> {
                self.checked_add(1)
            }
            fn pred(self) -> Option<Self> {
                self.checked_sub(1)
            }
        }
    )*};
}
point!(u16, u32, u128);

/// Sorts and merges overlapping or adjacent intervals; drops inverted ones.
pub(crate) fn normalize<T: Point>(mut v: Vec<(T, T)>) -> Vec<(T, T)> {
    v.retain(|(a, b)| a <= b);
    v.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        if let Some(last) = out.last_mut() {
            if last.1 >= a || last.1.succ() == Some(a) {
                last.1 = last.1.max(b);
                continue;
            }
        }
        out.push((a, b));
    }
    out
}

/// The complement of a normalised list within `MIN..=MAX`.
fn complement<T: Point>(v: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::with_capacity(v.len() + 1);
    let mut cur = Some(T::MIN);
    for &(a, b) in v {
        if let (Some(c), Some(p)) = (cur, a.pred()) {
            if c < a {
                out.push((c, p));
            }
        }
        cur = b.succ();
    }
    if let Some(c) = cur {
        out.push((c, T::MAX));
    }
    out
}

/// Intersection of two normalised lists (two-pointer walk).
fn intersect<T: Point>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while let (Some(&(a0, a1)), Some(&(b0, b1))) = (a.get(i), b.get(j)) {
        let (lo, hi) = (a0.max(b0), a1.min(b1));
        if lo <= hi {
            out.push((lo, hi));
        }
        if a1 < b1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn subtract<T: Point>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    if b.is_empty() {
        return a.to_vec();
    }
    intersect(a, &complement(b))
}

/// Membership in a normalised list.
pub(crate) fn interval_contains<T: Point>(v: &[(T, T)], x: T) -> bool {
    let i = v.partition_point(|&(_, hi)| hi < x);
    v.get(i).is_some_and(|&(lo, _)| lo <= x)
}

/// Positive and negated members of one list, per family, before the merge.
#[derive(Debug, Clone, Default)]
struct Acc<T> {
    pos: Vec<(T, T)>,
    neg: Vec<(T, T)>,
}

impl<T: Point> Acc<T> {
    fn extend(&mut self, other: &Acc<T>) {
        self.pos.extend_from_slice(&other.pos);
        self.neg.extend_from_slice(&other.neg);
    }

    fn normalized(self) -> Acc<T> {
        Acc {
            pos: normalize(self.pos),
            neg: normalize(self.neg),
        }
    }

    /// Suricata's merge: positives minus negations, the whole space standing in for absent
    /// positives when there are negations.
    fn merge(self) -> Vec<(T, T)> {
        let Acc { pos, neg } = self.normalized();
        if neg.is_empty() {
            return pos;
        }
        let pos = if pos.is_empty() {
            vec![(T::MIN, T::MAX)]
        } else {
            pos
        };
        subtract(&pos, &neg)
    }
}

// ---------------------------------------------------------------------------------------------
// Sets
// ---------------------------------------------------------------------------------------------

/// An immutable set of IPv4 and IPv6 addresses. IPv4 and IPv6 are separate families: an
/// IPv4-mapped IPv6 address is looked up among the IPv6 intervals, as Suricata does.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct IpSet {
    v4: Box<[(u32, u32)]>,
    v6: Box<[(u128, u128)]>,
}

impl IpSet {
    /// Every IPv4 and IPv6 address (`any`).
    pub fn any() -> IpSet {
        IpSet {
            v4: Box::new([(0, u32::MAX)]),
            v6: Box::new([(0, u128::MAX)]),
        }
    }

    /// The empty set.
    pub fn empty() -> IpSet {
        IpSet::default()
    }

    /// Builds a set from inclusive ranges (any order, overlaps allowed).
    pub fn from_ranges(v4: Vec<(u32, u32)>, v6: Vec<(u128, u128)>) -> IpSet {
        IpSet {
            v4: normalize(v4).into(),
            v6: normalize(v6).into(),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => interval_contains(&self.v4, u32::from(a)),
            IpAddr::V6(a) => interval_contains(&self.v6, u128::from(a)),
        }
    }

    /// The set is every address of both families.
    pub fn is_any(&self) -> bool {
        *self.v4 == [(0, u32::MAX)] && *self.v6 == [(0, u128::MAX)]
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// IPv4 intervals, sorted, disjoint and non-adjacent.
    pub fn v4_ranges(&self) -> &[(u32, u32)] {
        &self.v4
    }

    /// IPv6 intervals, sorted, disjoint and non-adjacent.
    pub fn v6_ranges(&self) -> &[(u128, u128)] {
        &self.v6
    }
}

impl fmt::Debug for IpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v4 = self.v4.iter().map(|&(a, b)| {
            (
                IpAddr::from(Ipv4Addr::from(a)),
                IpAddr::from(Ipv4Addr::from(b)),
            )
        });
        let v6 = self.v6.iter().map(|&(a, b)| {
            (
                IpAddr::from(Ipv6Addr::from(a)),
                IpAddr::from(Ipv6Addr::from(b)),
            )
        });
        let mut l = f.debug_list();
        for (a, b) in v4.chain(v6) {
            if a == b {
                l.entry(&format_args!("{a}"));
            } else {
                l.entry(&format_args!("{a}-{b}"));
            }
        }
        l.finish()
    }
}

/// An immutable set of ports.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct PortSet {
    ranges: Box<[(u16, u16)]>,
}

impl PortSet {
    pub fn any() -> PortSet {
        PortSet {
            ranges: Box::new([(0, u16::MAX)]),
        }
    }

    pub fn empty() -> PortSet {
        PortSet::default()
    }

    /// Builds a set from inclusive ranges (any order, overlaps allowed).
    pub fn from_ranges(ranges: Vec<(u16, u16)>) -> PortSet {
        PortSet {
            ranges: normalize(ranges).into(),
        }
    }

    pub fn contains(&self, port: u16) -> bool {
        interval_contains(&self.ranges, port)
    }

    pub fn is_any(&self) -> bool {
        *self.ranges == [(0, u16::MAX)]
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Intervals, sorted, disjoint and non-adjacent.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }
}

impl fmt::Debug for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for &(a, b) in self.ranges.iter() {
            if a == b {
                l.entry(&format_args!("{a}"));
            } else {
                l.entry(&format_args!("{a}:{b}"));
            }
        }
        l.finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Variables
// ---------------------------------------------------------------------------------------------

/// Which variable table a [`VarError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    Address,
    Port,
}

impl fmt::Display for VarKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VarKind::Address => "address",
            VarKind::Port => "port",
        })
    }
}

/// Why an address or port spec could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("undefined {kind} variable ${name}")]
    Undefined { kind: VarKind, name: String },
    #[error("{kind} variables refer to each other in a cycle: ${}", chain.join(" -> $"))]
    Cycle { kind: VarKind, chain: Vec<String> },
    #[error("{kind} variable ${name} = \"{value}\": {message}")]
    BadValue {
        kind: VarKind,
        name: String,
        value: String,
        message: String,
    },
    /// A hand-built spec that the parser would have refused (mixed-family or inverted range).
    #[error("invalid {kind} spec: {message}")]
    Invalid { kind: VarKind, message: String },
    /// Every member is negated away; Suricata refuses such a rule.
    #[error("{kind} spec matches nothing (its negations remove every {kind})")]
    Empty { kind: VarKind },
}

/// Address and port variables (`vars.address-groups`, `vars.port-groups`), name without `$`
/// → value as written in suricata.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    pub addresses: BTreeMap<String, String>,
    pub ports: BTreeMap<String, String>,
}

/// Guard against pathological chains even without a cycle.
const MAX_VAR_DEPTH: usize = 64;

impl Vars {
    /// The `vars` of Suricata 8's default suricata.yaml.
    pub fn suricata_defaults() -> Vars {
        let addresses = [
            ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
            ("EXTERNAL_NET", "!$HOME_NET"),
            ("HTTP_SERVERS", "$HOME_NET"),
            ("SMTP_SERVERS", "$HOME_NET"),
            ("SQL_SERVERS", "$HOME_NET"),
            ("DNS_SERVERS", "$HOME_NET"),
            ("TELNET_SERVERS", "$HOME_NET"),
            // As in Suricata's suricata.yaml.in: AIM servers are outside.
            ("AIM_SERVERS", "$EXTERNAL_NET"),
            ("DC_SERVERS", "$HOME_NET"),
            ("DNP3_SERVER", "$HOME_NET"),
            ("DNP3_CLIENT", "$HOME_NET"),
            ("MODBUS_CLIENT", "$HOME_NET"),
            ("MODBUS_SERVER", "$HOME_NET"),
            ("ENIP_CLIENT", "$HOME_NET"),
            ("ENIP_SERVER", "$HOME_NET"),
        ];
        let ports = [
            ("HTTP_PORTS", "80"),
            ("SHELLCODE_PORTS", "!80"),
            ("ORACLE_PORTS", "1521"),
            ("SSH_PORTS", "22"),
            ("DNP3_PORTS", "20000"),
            ("MODBUS_PORTS", "502"),
            ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
            ("FTP_PORTS", "21"),
            ("GENEVE_PORTS", "6081"),
            ("VXLAN_PORTS", "4789"),
            ("TEREDO_PORTS", "3544"),
            ("SIP_PORTS", "[5060, 5061]"),
        ];
        let own = |l: &[(&str, &str)]| {
            l.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Vars {
            addresses: own(&addresses),
            ports: own(&ports),
        }
    }

    /// Resolves an address spec, expanding variables.
    pub fn resolve_addr(&self, spec: &AddrSpec) -> Result<IpSet, VarError> {
        let mut r = AddrResolver {
            vars: self,
            cache: HashMap::new(),
            stack: Vec::new(),
        };
        let set = r.eval(spec)?;
        if set.is_empty() {
            return Err(VarError::Empty {
                kind: VarKind::Address,
            });
        }
        Ok(set)
    }

    /// Resolves a port spec, expanding variables.
    pub fn resolve_port(&self, spec: &PortSpec) -> Result<PortSet, VarError> {
        let mut r = PortResolver {
            vars: self,
            cache: HashMap::new(),
            stack: Vec::new(),
        };
        let set = r.eval(spec)?;
        if set.is_empty() {
            return Err(VarError::Empty {
                kind: VarKind::Port,
            });
        }
        Ok(set)
    }
}

/// The cycle for a report: from the first expansion of `name` on the stack back to `name`.
fn cycle_chain(stack: &[String], name: &str) -> Vec<String> {
    let start = stack.iter().position(|s| s == name).unwrap_or(0);
    let mut chain: Vec<String> = stack.get(start..).unwrap_or(&[]).to_vec();
    chain.push(name.to_string());
    chain
}

/// Resolution state for one call: memoised variable contributions (so `[$A,$A]` chains stay
/// linear) and the expansion stack for cycle detection.
struct AddrResolver<'a> {
    vars: &'a Vars,
    cache: HashMap<String, (Acc<u32>, Acc<u128>)>,
    stack: Vec<String>,
}

impl AddrResolver<'_> {
    fn eval(&mut self, spec: &AddrSpec) -> Result<IpSet, VarError> {
        let (mut a4, mut a6) = (Acc::default(), Acc::default());
        self.collect(spec, &mut a4, &mut a6)?;
        Ok(IpSet {
            v4: a4.merge().into(),
            v6: a6.merge().into(),
        })
    }

    fn collect(
        &mut self,
        spec: &AddrSpec,
        a4: &mut Acc<u32>,
        a6: &mut Acc<u128>,
    ) -> Result<(), VarError> {
        match spec {
            AddrSpec::Any => {
                a4.pos.push((0, u32::MAX));
                a6.pos.push((0, u128::MAX));
            }
            AddrSpec::Net(net) => match net_range(*net) {
                Range::V4(a, b) => a4.pos.push((a, b)),
                Range::V6(a, b) => a6.pos.push((a, b)),
            },
            AddrSpec::Range(a, b) => match (a, b) {
                (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
                    a4.pos.push((u32::from(*a), u32::from(*b)))
                }
                (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
                    a6.pos.push((u128::from(*a), u128::from(*b)))
                }
                _ => {
                    return Err(VarError::Invalid {
                        kind: VarKind::Address,
                        message: format!("range {a}-{b} mixes families or is inverted"),
                    })
                }
            },
            // Positive nested lists are spliced into the enclosing list, as Suricata does.
            AddrSpec::List(items) => {
                for i in items {
                    self.collect(i, a4, a6)?;
                }
            }
            AddrSpec::Var(name) => {
                let (c4, c6) = self.var(name)?;
                a4.extend(&c4);
                a6.extend(&c6);
            }
            // A negated member is resolved on its own, then subtracted.
            AddrSpec::Not(inner) => {
                let set = self.eval(inner)?;
                a4.neg.extend_from_slice(&set.v4);
                a6.neg.extend_from_slice(&set.v6);
            }
        }
        Ok(())
    }

    /// A variable's contribution to the list it appears in (its positives and negations).
    fn var(&mut self, name: &str) -> Result<(Acc<u32>, Acc<u128>), VarError> {
        if let Some(c) = self.cache.get(name) {
            return Ok(c.clone());
        }
        if self.stack.iter().any(|s| s == name) {
            return Err(VarError::Cycle {
                kind: VarKind::Address,
                chain: cycle_chain(&self.stack, name),
            });
        }
        if self.stack.len() >= MAX_VAR_DEPTH {
            return Err(VarError::Invalid {
                kind: VarKind::Address,
                message: format!("variables nested more than {MAX_VAR_DEPTH} deep at ${name}"),
            });
        }
        let Some(value) = self.vars.addresses.get(name) else {
            return Err(VarError::Undefined {
                kind: VarKind::Address,
                name: name.to_string(),
            });
        };
        let spec = parse_address_spec(value).map_err(|message| VarError::BadValue {
            kind: VarKind::Address,
            name: name.to_string(),
            value: value.clone(),
            message,
        })?;
        self.stack.push(name.to_string());
        let (mut c4, mut c6) = (Acc::default(), Acc::default());
        let r = self.collect(&spec, &mut c4, &mut c6);
        self.stack.pop();
        r?;
        let c = (c4.normalized(), c6.normalized());
        self.cache.insert(name.to_string(), c.clone());
        Ok(c)
    }
}

struct PortResolver<'a> {
    vars: &'a Vars,
    cache: HashMap<String, Acc<u16>>,
    stack: Vec<String>,
}

impl PortResolver<'_> {
    fn eval(&mut self, spec: &PortSpec) -> Result<PortSet, VarError> {
        let mut acc = Acc::default();
        self.collect(spec, &mut acc)?;
        Ok(PortSet {
            ranges: acc.merge().into(),
        })
    }

    fn collect(&mut self, spec: &PortSpec, acc: &mut Acc<u16>) -> Result<(), VarError> {
        match spec {
            PortSpec::Any => acc.pos.push((0, u16::MAX)),
            PortSpec::Port(p) => acc.pos.push((*p, *p)),
            PortSpec::Range(a, b) => {
                if a > b {
                    return Err(VarError::Invalid {
                        kind: VarKind::Port,
                        message: format!("port range {a}:{b} is inverted"),
                    });
                }
                acc.pos.push((*a, *b));
            }
            PortSpec::List(items) => {
                for i in items {
                    self.collect(i, acc)?;
                }
            }
            PortSpec::Var(name) => {
                let c = self.var(name)?;
                acc.extend(&c);
            }
            PortSpec::Not(inner) => {
                let set = self.eval(inner)?;
                acc.neg.extend_from_slice(&set.ranges);
            }
        }
        Ok(())
    }

    fn var(&mut self, name: &str) -> Result<Acc<u16>, VarError> {
        if let Some(c) = self.cache.get(name) {
            return Ok(c.clone());
        }
        if self.stack.iter().any(|s| s == name) {
            return Err(VarError::Cycle {
                kind: VarKind::Port,
                chain: cycle_chain(&self.stack, name),
            });
        }
        if self.stack.len() >= MAX_VAR_DEPTH {
            return Err(VarError::Invalid {
                kind: VarKind::Port,
                message: format!("variables nested more than {MAX_VAR_DEPTH} deep at ${name}"),
            });
        }
        let Some(value) = self.vars.ports.get(name) else {
            return Err(VarError::Undefined {
                kind: VarKind::Port,
                name: name.to_string(),
            });
        };
        let spec = parse_port_spec(value).map_err(|message| VarError::BadValue {
            kind: VarKind::Port,
            name: name.to_string(),
            value: value.clone(),
            message,
        })?;
        self.stack.push(name.to_string());
        let mut c = Acc::default();
        let r = self.collect(&spec, &mut c);
        self.stack.pop();
        r?;
        let c = c.normalized();
        self.cache.insert(name.to_string(), c.clone());
        Ok(c)
    }
}

enum Range {
    V4(u32, u32),
    V6(u128, u128),
}

/// The inclusive range of a network; host bits of the address are ignored, as Suricata masks
/// them. A prefix past the family width is clamped (the parser never produces one).
fn net_range(net: IpNet) -> Range {
    match net.addr {
        IpAddr::V4(a) => {
            let a = u32::from(a);
            let host = u32::MAX.checked_shr(u32::from(net.prefix)).unwrap_or(0);
            Range::V4(a & !host, a | host)
        }
        IpAddr::V6(a) => {
            let a = u128::from(a);
            let host = u128::MAX.checked_shr(u32::from(net.prefix)).unwrap_or(0);
            Range::V6(a & !host, a | host)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn addr(vars: &Vars, s: &str) -> Result<IpSet, VarError> {
        vars.resolve_addr(&parse_address_spec(s).unwrap())
    }

    fn port(vars: &Vars, s: &str) -> Result<PortSet, VarError> {
        vars.resolve_port(&parse_port_spec(s).unwrap())
    }

    #[test]
    fn interval_helpers() {
        assert_eq!(
            normalize(vec![(5u16, 9), (1, 2), (3, 4), (20, 10), (8, 12)]),
            vec![(1, 12)]
        );
        assert_eq!(complement::<u16>(&[]), vec![(0, u16::MAX)]);
        assert_eq!(complement(&[(0u16, u16::MAX)]), vec![]);
        assert_eq!(
            complement(&[(0u16, 4), (10, 20)]),
            vec![(5, 9), (21, u16::MAX)]
        );
        assert_eq!(
            subtract(&[(0u16, 100)], &[(10, 20), (50, 200)]),
            vec![(0, 9), (21, 49)]
        );
        let v = [(1u32, 3), (7, 7), (10, 20)];
        for (x, want) in [
            (0, false),
            (1, true),
            (3, true),
            (4, false),
            (7, true),
            (21, false),
        ] {
            assert_eq!(interval_contains(&v, x), want, "{x}");
        }
    }

    #[test]
    fn cidr_range_list_any() {
        let v = Vars::default();
        let s = addr(
            &v,
            "[10.0.0.0/8, 192.168.1.5/24, 1.2.3.4-1.2.3.9, 2001:db8::/32]",
        )
        .unwrap();
        assert!(s.contains(ip("10.255.0.1")));
        assert!(s.contains(ip("192.168.1.0")) && s.contains(ip("192.168.1.255")));
        assert!(!s.contains(ip("192.168.2.0")));
        assert!(s.contains(ip("1.2.3.9")) && !s.contains(ip("1.2.3.10")));
        assert!(s.contains(ip("2001:db8:ffff::1")) && !s.contains(ip("2001:db9::")));
        assert!(!s.contains(ip("::ffff:10.0.0.1")), "families are separate");
        assert!(addr(&v, "any").unwrap().is_any());
        assert!(addr(&v, "[0.0.0.0/0, ::/0]").unwrap().is_any());
        assert!(!addr(&v, "0.0.0.0/0").unwrap().is_any());
    }

    #[test]
    fn negation_is_per_family_like_suricata() {
        let v = Vars::default();
        let s = addr(&v, "!10.0.0.0/8").unwrap();
        assert!(!s.contains(ip("10.1.2.3")));
        assert!(s.contains(ip("11.0.0.0")) && s.contains(ip("0.0.0.0")));
        assert!(!s.contains(ip("::1")), "no IPv6 member negated, none kept");

        // Negated members are subtracted from the union of positives.
        let s = addr(&v, "[10.0.0.0/8, !10.1.0.0/16, 192.168.0.0/16]").unwrap();
        assert!(s.contains(ip("10.2.0.0")) && !s.contains(ip("10.1.5.5")));
        assert!(s.contains(ip("192.168.3.3")));

        // Positive nested lists are spliced: their negations apply to the whole list.
        let s = addr(&v, "[10.1.2.3, [10.0.0.0/8, !10.1.0.0/16]]").unwrap();
        assert!(!s.contains(ip("10.1.2.3")));
        // A negated list is resolved on its own first.
        let s = addr(&v, "[10.0.0.0/8, ![10.1.0.0/16, !10.1.2.0/24]]").unwrap();
        assert!(s.contains(ip("10.1.2.3")) && !s.contains(ip("10.1.3.3")));

        // Only IPv6 negations: IPv4 members stay as listed, IPv6 is "all but".
        let s = addr(&v, "[1.2.3.4, !::1]").unwrap();
        assert!(s.contains(ip("1.2.3.4")) && !s.contains(ip("1.2.3.5")));
        assert!(s.contains(ip("::2")) && !s.contains(ip("::1")));

        assert_eq!(
            addr(&v, "[1.2.3.4, !1.2.3.0/24]"),
            Err(VarError::Empty {
                kind: VarKind::Address
            })
        );
        assert!(addr(&v, "!0.0.0.0/0").is_err());
    }

    #[test]
    fn suricata_default_vars() {
        let v = Vars::suricata_defaults();
        let home = addr(&v, "$HOME_NET").unwrap();
        let ext = addr(&v, "$EXTERNAL_NET").unwrap();
        for a in ["192.168.1.1", "10.9.9.9", "172.16.0.1", "172.31.255.255"] {
            assert!(home.contains(ip(a)) && !ext.contains(ip(a)), "{a}");
        }
        for a in ["8.8.8.8", "172.32.0.0", "11.0.0.0"] {
            assert!(!home.contains(ip(a)) && ext.contains(ip(a)), "{a}");
        }
        assert!(!ext.contains(ip("2001:db8::1")));
        for name in v.addresses.keys() {
            addr(&v, &format!("${name}")).unwrap();
        }
        for name in v.ports.keys() {
            port(&v, &format!("${name}")).unwrap();
        }
        let fd = port(&v, "$FILE_DATA_PORTS").unwrap();
        assert_eq!(fd.ranges(), &[(80, 80), (110, 110), (143, 143)]);
        let sc = port(&v, "$SHELLCODE_PORTS").unwrap();
        assert_eq!(sc.ranges(), &[(0, 79), (81, u16::MAX)]);
        assert_eq!(port(&v, "$SIP_PORTS").unwrap().ranges(), &[(5060, 5061)]);
    }

    #[test]
    fn ports() {
        let v = Vars::default();
        let s = port(&v, "[80, 1024:, !8080, :21]").unwrap();
        for (p, want) in [(0, true), (21, true), (22, false), (80, true), (1024, true)] {
            assert_eq!(s.contains(p), want, "{p}");
        }
        assert!(!s.contains(8080) && s.contains(65535));
        assert!(port(&v, "any").unwrap().is_any());
        assert!(port(&v, "[!80, !443]").unwrap().contains(8080));
        assert_eq!(
            port(&v, "[80, !80]"),
            Err(VarError::Empty {
                kind: VarKind::Port
            })
        );
        assert!(port(&v, "!0:").is_err());
    }

    #[test]
    fn variable_errors() {
        let mut v = Vars::default();
        v.addresses.insert("A".into(), "[$B, 1.1.1.1]".into());
        v.addresses.insert("B".into(), "$C".into());
        v.addresses.insert("C".into(), "!$A".into());
        v.addresses.insert("BAD".into(), "1.2.3".into());
        v.addresses
            .insert("UNDEF".into(), "[1.1.1.1, $NOPE]".into());
        match addr(&v, "$A") {
            Err(VarError::Cycle { chain, .. }) => assert_eq!(chain, ["A", "B", "C", "A"]),
            other => panic!("{other:?}"),
        }
        let e = addr(&v, "$UNDEF").unwrap_err();
        assert_eq!(e.to_string(), "undefined address variable $NOPE");
        assert!(matches!(addr(&v, "$BAD"), Err(VarError::BadValue { name, .. }) if name == "BAD"));
        v.ports.insert("P".into(), "[$P, 80]".into());
        assert!(matches!(port(&v, "$P"), Err(VarError::Cycle { .. })));
        assert!(matches!(
            port(&v, "$Q"),
            Err(VarError::Undefined {
                kind: VarKind::Port,
                ..
            })
        ));
    }

    #[test]
    fn repeated_variables_stay_linear() {
        // 40 levels of [$Vn+1, $Vn+1] would be 2^40 expansions without memoisation.
        let mut v = Vars::default();
        for i in 0..40 {
            v.addresses
                .insert(format!("V{i}"), format!("[$V{}, $V{}]", i + 1, i + 1));
        }
        v.addresses.insert("V40".into(), "10.0.0.1".into());
        let s = addr(&v, "$V0").unwrap();
        assert_eq!(s.v4_ranges(), &[(0x0a00_0001, 0x0a00_0001)]);
    }

    // --- proptest: interval sets agree with a naive evaluator -----------------------------
    //
    // Specs are generated over 16 IPv4 (10.0.0.0/28) and 16 IPv6 (2001:db8::/124) addresses,
    // plus `any`. Every generated leaf either contains all addresses outside those blocks of a
    // family or none, so one "outside" sample per family stands for all of them, and the naive
    // evaluator can work on explicit sets of 34 sample points.

    const V4_BASE: u32 = 0x0a00_0000;
    const V6_BASE: u128 = 0x2001_0db8 << 96;

    fn samples() -> Vec<IpAddr> {
        let mut s: Vec<IpAddr> = (0..16)
            .map(|i| IpAddr::V4(Ipv4Addr::from(V4_BASE + i)))
            .chain((0..16).map(|i| IpAddr::V6(Ipv6Addr::from(V6_BASE + i))))
            .collect();
        s.push(ip("192.0.2.1"));
        s.push(ip("2001:db8:1::1"));
        s
    }

    fn leaf() -> impl Strategy<Value = AddrSpec> {
        let v4 = |i: u32| IpAddr::V4(Ipv4Addr::from(V4_BASE + i));
        let v6 = |i: u128| IpAddr::V6(Ipv6Addr::from(V6_BASE + i));
        prop_oneof![
            1 => Just(AddrSpec::Any),
            4 => (0u32..16, 28u8..=32).prop_map(move |(i, p)| AddrSpec::Net(IpNet { addr: v4(i), prefix: p })),
            3 => (0u128..16, 124u8..=128).prop_map(move |(i, p)| AddrSpec::Net(IpNet { addr: v6(i), prefix: p })),
            2 => (0u32..16, 0u32..16).prop_map(move |(a, b)| AddrSpec::Range(v4(a.min(b)), v4(a.max(b)))),
            1 => (0u128..16, 0u128..16).prop_map(move |(a, b)| AddrSpec::Range(v6(a.min(b)), v6(a.max(b)))),
            2 => (0usize..3).prop_map(|i| AddrSpec::Var(format!("V{i}"))),
        ]
    }

    fn spec() -> impl Strategy<Value = AddrSpec> {
        leaf().prop_recursive(4, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..5).prop_map(AddrSpec::List),
                inner.prop_map(|s| AddrSpec::Not(Box::new(s))),
            ]
        })
    }

    /// Naive evaluation over the sample points. `V0..V2` are fixed, acyclic variables.
    fn naive_vars() -> Vars {
        let mut v = Vars::default();
        v.addresses
            .insert("V0".into(), "[10.0.0.0/29, !10.0.0.3]".into());
        v.addresses.insert("V1".into(), "!$V0".into());
        v.addresses
            .insert("V2".into(), "[$V0, 2001:db8::4-2001:db8::9]".into());
        v
    }

    type Points = Vec<bool>;

    fn naive_eval(spec: &AddrSpec, vars: &Vars, pts: &[IpAddr]) -> Points {
        let (mut pos, mut neg) = (vec![false; pts.len()], vec![false; pts.len()]);
        naive_collect(spec, vars, pts, &mut pos, &mut neg);
        let fam_has =
            |set: &Points, v4: bool| set.iter().zip(pts).any(|(&m, p)| m && p.is_ipv4() == v4);
        pts.iter()
            .enumerate()
            .map(|(i, p)| {
                let v4 = p.is_ipv4();
                let positive = pos[i] || (!fam_has(&pos, v4) && fam_has(&neg, v4));
                positive && !neg[i]
            })
            .collect()
    }

    fn naive_collect(
        spec: &AddrSpec,
        vars: &Vars,
        pts: &[IpAddr],
        pos: &mut Points,
        neg: &mut Points,
    ) {
        match spec {
            AddrSpec::Any => pos.iter_mut().for_each(|m| *m = true),
            AddrSpec::Net(n) => {
                let bits = u32::from(n.prefix);
                for (i, p) in pts.iter().enumerate() {
                    pos[i] |= match (n.addr, p) {
                        (IpAddr::V4(a), IpAddr::V4(b)) => {
                            let mask = if bits == 0 {
                                0
                            } else {
                                u32::MAX << (32 - bits)
                            };
                            u32::from(a) & mask == u32::from(*b) & mask
                        }
                        (IpAddr::V6(a), IpAddr::V6(b)) => {
                            let mask = if bits == 0 {
                                0
                            } else {
                                u128::MAX << (128 - bits)
                            };
                            u128::from(a) & mask == u128::from(*b) & mask
                        }
                        _ => false,
                    };
                }
            }
            AddrSpec::Range(a, b) => {
                for (i, p) in pts.iter().enumerate() {
                    pos[i] |= a.is_ipv4() == p.is_ipv4() && a <= p && p <= b;
                }
            }
            AddrSpec::List(items) => {
                for s in items {
                    naive_collect(s, vars, pts, pos, neg);
                }
            }
            AddrSpec::Var(name) => {
                let s = parse_address_spec(&vars.addresses[name]).unwrap();
                naive_collect(&s, vars, pts, pos, neg);
            }
            AddrSpec::Not(inner) => {
                let r = naive_eval(inner, vars, pts);
                for (n, m) in neg.iter_mut().zip(r) {
                    *n |= m;
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn ipset_agrees_with_naive_evaluator(s in spec(), extra in any::<u32>()) {
            let vars = naive_vars();
            let pts = samples();
            let want = naive_eval(&s, &vars, &pts);
            match vars.resolve_addr(&s) {
                Ok(set) => {
                    for (p, w) in pts.iter().zip(&want) {
                        prop_assert_eq!(set.contains(*p), *w, "{} in {:?} ({:?})", p, s, set);
                    }
                    // Any address outside the sample blocks behaves like the outside sample.
                    let out = IpAddr::V4(Ipv4Addr::from(extra));
                    if !(V4_BASE..V4_BASE + 16).contains(&extra) {
                        prop_assert_eq!(set.contains(out), want[32]);
                    }
                    prop_assert!(set.v4_ranges().windows(2).all(|w| w[0].1.saturating_add(1) < w[1].0));
                    prop_assert!(set.v6_ranges().windows(2).all(|w| w[0].1.saturating_add(1) < w[1].0));
                }
                Err(VarError::Empty { .. }) => prop_assert!(want.iter().all(|w| !w), "{:?}", s),
                Err(e) => prop_assert!(false, "{:?}: {}", s, e),
            }
        }

        #[test]
        fn portset_agrees_with_naive_evaluator(s in port_spec(), extra in any::<u16>()) {
            let vars = Vars::default();
            let pts = port_samples();
            let want = naive_port_eval(&s, &pts);
            match vars.resolve_port(&s) {
                Ok(set) => {
                    for (p, w) in pts.iter().zip(&want) {
                        prop_assert_eq!(set.contains(*p), *w, "{} in {:?} ({:?})", p, s, set);
                    }
                    if !(60..=100).contains(&extra) {
                        prop_assert_eq!(set.contains(extra), want[0]);
                    }
                }
                Err(VarError::Empty { .. }) => prop_assert!(want.iter().all(|w| !w), "{:?}", s),
                Err(e) => prop_assert!(false, "{:?}: {}", s, e),
            }
        }

        #[test]
        fn spec_text_round_trip_never_panics(t in "[\\[\\]!$,:./0-9a-fA-Z_ -]{0,40}") {
            let v = Vars::suricata_defaults();
            if let Ok(s) = parse_address_spec(&t) {
                let _ = v.resolve_addr(&s);
            }
            if let Ok(s) = parse_port_spec(&t) {
                let _ = v.resolve_port(&s);
            }
        }
    }

    // Ports: leaves lie in 60..=100, so 0 stands for every port outside that block.
    fn port_samples() -> Vec<u16> {
        let mut v = vec![0, u16::MAX];
        v.extend(59..=101);
        v
    }

    fn port_spec() -> impl Strategy<Value = PortSpec> {
        let leaf = prop_oneof![
            1 => Just(PortSpec::Any),
            4 => (60u16..=100).prop_map(PortSpec::Port),
            3 => (60u16..=100, 60u16..=100).prop_map(|(a, b)| PortSpec::Range(a.min(b), a.max(b))),
        ];
        leaf.prop_recursive(4, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..5).prop_map(PortSpec::List),
                inner.prop_map(|s| PortSpec::Not(Box::new(s))),
            ]
        })
    }

    fn naive_port_eval(spec: &PortSpec, pts: &[u16]) -> Points {
        let (mut pos, mut neg) = (vec![false; pts.len()], vec![false; pts.len()]);
        naive_port_collect(spec, pts, &mut pos, &mut neg);
        let (has_pos, has_neg) = (pos.contains(&true), neg.contains(&true));
        pos.iter()
            .zip(&neg)
            .map(|(&p, &n)| (p || (!has_pos && has_neg)) && !n)
            .collect()
    }

    fn naive_port_collect(spec: &PortSpec, pts: &[u16], pos: &mut Points, neg: &mut Points) {
        match spec {
            PortSpec::Any => pos.iter_mut().for_each(|m| *m = true),
            PortSpec::Port(x) => pts
                .iter()
                .zip(pos.iter_mut())
                .for_each(|(p, m)| *m |= p == x),
            PortSpec::Range(a, b) => pts
                .iter()
                .zip(pos.iter_mut())
                .for_each(|(p, m)| *m |= (*a..=*b).contains(p)),
            PortSpec::List(items) => items
                .iter()
                .for_each(|s| naive_port_collect(s, pts, pos, neg)),
            PortSpec::Not(inner) => {
                for (n, m) in neg.iter_mut().zip(naive_port_eval(inner, pts)) {
                    *n |= m;
                }
            }
            PortSpec::Var(_) => unreachable!("not generated"),
        }
    }
}
