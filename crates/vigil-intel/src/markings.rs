//! TLP marking definitions: the TLP 2.0 ids (with their extension), and TLP 1.0 ids read as the
//! same levels.
use serde_json::Value;
use vigil_model::Tlp;

/// The TLP 2.0 marking-definition extension.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

const TLP2: [(Tlp, &str, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "clear",
    ),
    (
        Tlp::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "green",
    ),
    (
        Tlp::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "amber",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "amber+strict",
    ),
    (
        Tlp::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        "red",
    ),
];

const TLP1: [(Tlp, &str); 4] = [
    (
        Tlp::Clear,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        Tlp::Green,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5ea8cb",
    ),
    (
        Tlp::Amber,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        Tlp::Red,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

/// The level of a TLP 1.0 or 2.0 marking-definition id.
pub fn tlp_from_marking_id(id: &str) -> Option<Tlp> {
    TLP2.iter()
        .find(|(_, i, _)| *i == id)
        .map(|(t, _, _)| *t)
        .or_else(|| TLP1.iter().find(|(_, i)| *i == id).map(|(t, _)| *t))
}

/// The TLP 2.0 marking-definition id of a level.
pub fn tlp_marking_id(tlp: Tlp) -> &'static str {
    TLP2.iter()
        .find(|(t, _, _)| *t == tlp)
        .map_or(TLP2[4].1, |(_, i, _)| i)
}

/// The TLP 2.0 marking-definition object as OASIS publishes it.
pub fn tlp_marking_definition(tlp: Tlp) -> Value {
    let name = TLP2
        .iter()
        .find(|(t, _, _)| *t == tlp)
        .map_or("red", |(_, _, n)| n);
    serde_json::json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": format!("TLP:{}", name.to_ascii_uppercase()),
        "extensions": {
            TLP2_EXTENSION: { "extension_type": "property-extension", "tlp_2_0": name }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_1_0_and_2_0_ids_are_the_same_levels() {
        for t in [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ] {
            assert_eq!(tlp_from_marking_id(tlp_marking_id(t)), Some(t));
        }
        assert_eq!(
            tlp_from_marking_id("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
            Some(Tlp::Amber)
        );
        assert_eq!(
            tlp_from_marking_id("marking-definition--00000000-0000-0000-0000-000000000000"),
            None
        );
    }
}
