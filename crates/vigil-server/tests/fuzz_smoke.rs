//! A deterministic smoke run of the hub's fuzz entry point over mutations of real request
//! bodies and query strings (`cargo fuzz run hub` is the real thing, docs/FUZZING.md).
use vigil_detect::fuzzing::mutations;
use vigil_server::fuzzing::hub;

#[test]
fn request_parsers_survive_mutated_eve_batches_and_queries() {
    let eve = concat!(
        r#"{"timestamp":"2026-11-30T10:00:00.000000+0000","event_type":"alert","src_ip":"10.0.0.5","#,
        r#""dest_ip":"203.0.113.9","alert":{"signature_id":2100000001,"source":{"ip":"203.0.113.9"}},"#,
        r#""vigil":{"indicator":{"type":"ip","value":"203.0.113.9"},"confidence":91}}"#,
        "\n",
        r#"{"event_type":"flow","timestamp":"2026-11-30T10:00:00Z"}"#
    );
    let seeds: [&[u8]; 5] = [
        eve.as_bytes(),
        b"added_after=2026-11-30T10:00:00.123456Z&limit=50&match[type]=indicator,campaign",
        b"match[version]=first,last,2024-01-01T00:00:00.000Z&match[spec_version]=2.1&next=1700000000000000",
        b"match[id]=indicator--00000000-0000-4000-8000-000000000001&limit=0",
        b"aXAJMTkyLjAuMi4x",
    ];
    for s in seeds {
        hub(s);
        mutations(s, 400, hub);
    }
}
