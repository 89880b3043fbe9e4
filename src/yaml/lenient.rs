//! YAML values as suite files need them: serde_yaml's own `Value` refuses an integer of 2^64 or
//! more (`invalid type: integer … as u128, expected any YAML value`), though it is a valid YAML
//! number. These readers take any integer, the big ones as the nearest float, which compares by
//! value as `1.0e21` already does (docs/assertions.md, "Values"). Used with
//! `#[serde(deserialize_with = …)]` on the fields that hold free-form YAML, so errors keep the
//! positions serde_yaml gives them.

use serde::de::{self, Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Number, Value};
use std::fmt;

/// A YAML value read with [`ValueVisitor`].
struct Lenient(Value);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(Lenient)
    }
}

/// A YAML mapping whose keys and values are read with [`ValueVisitor`].
struct LenientMap(Mapping);

impl<'de> Deserialize<'de> for LenientMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(MapVisitor).map(LenientMap)
    }
}

/// `deserialize_with` for a `Value` field.
pub fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Lenient::deserialize(d).map(|v| v.0)
}

/// `deserialize_with` for an `Option<Value>` field (add `#[serde(default)]`).
pub fn opt_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Option::<Lenient>::deserialize(d).map(|v| v.map(|v| v.0))
}

/// `deserialize_with` for a `Mapping` field (add `#[serde(default)]`).
pub fn mapping<'de, D: Deserializer<'de>>(d: D) -> Result<Mapping, D::Error> {
    LenientMap::deserialize(d).map(|m| m.0)
}

/// `deserialize_with` for an `Option<Mapping>` field (add `#[serde(default)]`).
pub fn opt_mapping<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Mapping>, D::Error> {
    Option::<LenientMap>::deserialize(d).map(|m| m.map(|m| m.0))
}

/// serde_yaml's value visitor, plus integers beyond 64 bits.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Number(i.into()))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(u.into()))
    }

    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Value, E> {
        Ok(Value::Number(Number::from(i as f64)))
    }

    fn visit_u128<E: de::Error>(self, u: u128) -> Result<Value, E> {
        Ok(Value::Number(Number::from(u as f64)))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Number(f.into()))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        value(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Lenient(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        MapVisitor.visit_map(map).map(Value::Mapping)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, contents) = data.variant::<String>()?;
        let Lenient(value) = contents.newtype_variant()?;
        Ok(Value::Tagged(Box::new(TaggedValue {
            tag: Tag::new(tag),
            value,
        })))
    }
}

struct MapVisitor;

impl<'de> Visitor<'de> for MapVisitor {
    type Value = Mapping;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML mapping")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Mapping, E> {
        Ok(Mapping::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Mapping, A::Error> {
        let mut out = Mapping::new();
        while let Some(Lenient(key)) = map.next_key()? {
            if out.contains_key(&key) {
                // serde_yaml's own words, which the loader points at the repeated key.
                let what = match &key {
                    Value::Null => "with null key".to_string(),
                    Value::Bool(b) => format!("with key `{b}`"),
                    Value::Number(n) => format!("with key {n}"),
                    Value::String(s) => format!("with key {s:?}"),
                    _ => "in YAML map".to_string(),
                };
                return Err(de::Error::custom(format!("duplicate entry {what}")));
            }
            let Lenient(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Doc {
        #[serde(default, deserialize_with = "mapping")]
        map: Mapping,
        #[serde(default, deserialize_with = "opt_value")]
        v: Option<Value>,
    }

    #[test]
    fn integers_beyond_64_bits_are_numbers() {
        let doc: Doc = serde_yaml::from_str(
            "map: { big: 1000000000000000000000, neg: -9223372036854775809, 18446744073709551616: k }\nv: [340282366920938463463374607431768211456, !t 1]",
        )
        .unwrap();
        assert_eq!(doc.map["big"].as_f64(), Some(1e21));
        assert_eq!(doc.map["neg"].as_f64(), Some(-9223372036854775809.0));
        assert_eq!(
            doc.map[&Value::Number(Number::from(18446744073709551616.0))].as_str(),
            Some("k")
        );
        let v = doc.v.unwrap();
        assert_eq!(v[0].as_f64(), Some(2f64.powi(128)));
        assert!(matches!(&v[1], Value::Tagged(t) if t.tag == "t"));
    }

    #[test]
    fn errors_keep_serde_yaml_s_words_and_positions() {
        let e = serde_yaml::from_str::<Doc>("map: [1]").unwrap_err();
        assert!(e.to_string().contains("expected a YAML mapping"), "{e}");
        assert!(e.location().is_some());
        #[derive(serde::Deserialize)]
        struct Plain {
            #[allow(dead_code)]
            map: Mapping,
        }
        for text in ["map:\n  a: 1\n  a: 2\n", "map: [1]", "map:\n  b: {a: 1, a: 2}\n"] {
            let ours = serde_yaml::from_str::<Doc>(text).unwrap_err().to_string();
            let theirs = serde_yaml::from_str::<Plain>(text).err().map(|e| e.to_string());
            if text.contains("b:") {
                assert!(ours.contains("duplicate entry with key \"a\""), "{ours}");
            } else {
                assert_eq!(Some(ours), theirs, "{text}");
            }
        }
        let doc: Doc = serde_yaml::from_str("map:\nv: ~\n").unwrap();
        assert!(doc.map.is_empty() && doc.v.is_none());
    }
}
