//! The Traffic Light Protocol marking definitions of STIX 2.1: one table for the TLP 2.0 ids
//! (OASIS TLP 2.0 extension) and the TLP 1.0 ids of the STIX 2.1 specification, which still
//! occur in feeds; both map onto [`Tlp`] levels (TLP 1.0 WHITE is TLP 2.0 CLEAR).
use serde_json::{json, Value};
use vigil_model::Tlp;

/// The extension every TLP 2.0 marking definition carries.
pub const TLP_2_0_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// (id, level, is TLP 2.0). TLP 2.0 ids come first so [`tlp_marking_id`] finds them.
const TABLE: [(&str, Tlp, bool); 9] = [
    (
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Clear,
        true,
    ),
    (
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Green,
        true,
    ),
    (
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::Amber,
        true,
    ),
    (
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::AmberStrict,
        true,
    ),
    (
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        Tlp::Red,
        true,
    ),
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        Tlp::Clear,
        false,
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5ea8cb",
        Tlp::Green,
        false,
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        Tlp::Amber,
        false,
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        Tlp::Red,
        false,
    ),
];

/// The TLP level of a well-known TLP 1.0 or 2.0 marking-definition id.
pub fn tlp_from_marking_id(id: &str) -> Option<Tlp> {
    TABLE.iter().find(|(i, _, _)| *i == id).map(|(_, t, _)| *t)
}

/// The TLP 2.0 marking-definition id of a level.
pub fn tlp_marking_id(tlp: Tlp) -> &'static str {
    TABLE
        .iter()
        .find(|(_, t, v2)| *t == tlp && *v2)
        .map(|(i, _, _)| *i)
        // Every level has a TLP 2.0 row; the fallback is never taken.
        .unwrap_or(TABLE[0].0)
}

/// The TLP 2.0 marking-definition object of a level, as OASIS publishes it.
pub fn tlp_marking_definition(tlp: Tlp) -> Value {
    let (name, value) = match tlp {
        Tlp::Clear => ("TLP:CLEAR", "clear"),
        Tlp::Green => ("TLP:GREEN", "green"),
        Tlp::Amber => ("TLP:AMBER", "amber"),
        Tlp::AmberStrict => ("TLP:AMBER+STRICT", "amber+strict"),
        Tlp::Red => ("TLP:RED", "red"),
    };
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": name,
        "extensions": {
            TLP_2_0_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": value,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    #[test]
    fn every_level_round_trips_through_its_tlp_2_0_id() {
        for t in LEVELS {
            assert_eq!(tlp_from_marking_id(tlp_marking_id(t)), Some(t));
        }
        assert_eq!(
            tlp_marking_id(Tlp::AmberStrict),
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
        );
    }

    #[test]
    fn tlp_1_0_ids_map_to_the_same_levels_and_white_is_clear() {
        let white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
        assert_eq!(tlp_from_marking_id(white), Some(Tlp::Clear));
        let red = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
        assert_eq!(tlp_from_marking_id(red), Some(Tlp::Red));
        assert_eq!(
            tlp_from_marking_id("marking-definition--00000000-0000-4000-8000-000000000000"),
            None
        );
    }

    #[test]
    fn marking_definition_carries_the_tlp_2_0_extension() {
        let m = tlp_marking_definition(Tlp::AmberStrict);
        assert_eq!(m["name"], "TLP:AMBER+STRICT");
        assert_eq!(m["id"], tlp_marking_id(Tlp::AmberStrict));
        assert_eq!(
            m["extensions"][TLP_2_0_EXTENSION]["tlp_2_0"],
            "amber+strict"
        );
        assert_eq!(
            m["extensions"][TLP_2_0_EXTENSION]["extension_type"],
            "property-extension"
        );
    }
}
