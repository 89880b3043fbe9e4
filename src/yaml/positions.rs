//! Where each node of a YAML file starts. `serde_yaml` gives positions only for its own errors,
//! so one extra pass with `yaml-rust2`'s event parser records the start of every mapping key and
//! sequence item by its path (`checks/3/expect/json/$.a`). Validation after parsing and the
//! reports' `line` fields read positions from here.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Seg {
        Seg::Key(s.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Seg {
        Seg::Index(i)
    }
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Nesting deeper than this (collections inside collections) is refused before serde_yaml sees
/// the text. libyaml's scanner does work proportional to the flow nesting depth for every token,
/// so a file of 100 000 `[` alone takes a minute to reject, and a 10 MiB one would take days.
/// serde_yaml refuses more than 128 levels anyway, only after scanning all of it.
pub const MAX_DEPTH: usize = 128;

/// Path → position of the node's key (for a mapping entry) or the item (for a sequence item).
#[derive(Debug, Default)]
pub struct Positions {
    map: HashMap<Vec<Seg>, Pos>,
    /// Where the nesting first went deeper than [`MAX_DEPTH`], if it did; indexing stops there.
    pub too_deep: Option<Pos>,
    /// Where a second YAML document starts, if one does.
    pub second_document: Option<Pos>,
    /// Every key that repeats an earlier key of the same mapping, in document order.
    duplicates: Vec<(String, Pos)>,
}

impl Positions {
    /// Indexes `text`; a document the event parser rejects yields the index of what came before
    /// the error (serde_yaml reports the error with its own position in that case). Stops at the
    /// first node nested deeper than [`MAX_DEPTH`], so its cost is linear in the text.
    pub fn index(text: &str) -> Positions {
        let mut recv = Receiver::default();
        let mut parser = Parser::new_from_str(text);
        let mut too_deep = None;
        let mut second_document = None;
        loop {
            match parser.next_token() {
                Ok((Event::StreamEnd, _)) => break,
                Ok((Event::DocumentEnd, _)) => {
                    if let Ok((Event::DocumentStart, mark)) = parser.next_token() {
                        second_document = Some(Pos {
                            line: mark.line(),
                            column: mark.col() + 1,
                        });
                    }
                    break;
                }
                Ok((ev, mark)) => {
                    recv.on_event(ev, mark);
                    if recv.stack.len() > MAX_DEPTH {
                        too_deep = Some(Pos {
                            line: mark.line(),
                            column: mark.col() + 1,
                        });
                        break;
                    }
                }
                Err(e) => {
                    // yaml-rust2's scanner gives up by itself at 256 nested flow collections,
                    // possibly before the parser has handed the 129th level over.
                    if e.info() == "recursion limit exceeded" {
                        too_deep = Some(Pos {
                            line: e.marker().line(),
                            column: e.marker().col() + 1,
                        });
                    }
                    break;
                }
            }
        }
        Positions {
            map: recv.map,
            too_deep,
            second_document,
            duplicates: recv.duplicates,
        }
    }

    /// The first key at or after `from` that repeats a key of its mapping, preferring one named
    /// `name`. serde_yaml reports a duplicate key at the start of its mapping, not at the repeat.
    pub fn duplicate_key(&self, from: Pos, name: Option<&str>) -> Option<Pos> {
        let after = |p: &Pos| (p.line, p.column) >= (from.line, from.column);
        let mut candidates = self.duplicates.iter().filter(|(_, p)| after(p));
        match name {
            Some(n) => self
                .duplicates
                .iter()
                .find(|(k, p)| k == n && after(p))
                .or_else(|| candidates.next()),
            None => candidates.next(),
        }
        .map(|(_, p)| *p)
    }

    /// The position of `path`, or of its nearest ancestor that has one, or 1:1.
    pub fn of(&self, path: &[Seg]) -> Pos {
        for len in (0..=path.len()).rev() {
            if let Some(p) = self.map.get(&path[..len]) {
                return *p;
            }
        }
        Pos { line: 1, column: 1 }
    }
}

enum Frame {
    /// `next_is_key` alternates; `key` is the key of the value being read.
    Map {
        next_is_key: bool,
        key: Option<String>,
    },
    Seq {
        next: usize,
    },
}

#[derive(Default)]
struct Receiver {
    stack: Vec<Frame>,
    path: Vec<Seg>,
    map: HashMap<Vec<Seg>, Pos>,
    duplicates: Vec<(String, Pos)>,
}

impl Receiver {
    /// Called at the start of every node; returns true when the node is a mapping key.
    fn node_starts(&mut self, mark: Marker, scalar: Option<&str>) -> bool {
        let pos = Pos {
            line: mark.line(),
            column: mark.col() + 1,
        };
        match self.stack.last_mut() {
            Some(Frame::Map {
                next_is_key: true,
                key,
            }) => {
                let k = scalar.unwrap_or("").to_string();
                *key = Some(k.clone());
                // A mapping's own start mark points past its first key; its first key is where
                // a reader sees it begin (`- name: x` starts at `name`).
                self.map.entry(self.path.clone()).or_insert(pos);
                let mut path = self.path.clone();
                path.push(Seg::Key(k.clone()));
                match self.map.entry(path) {
                    std::collections::hash_map::Entry::Occupied(_) => self.duplicates.push((k, pos)),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(pos);
                    }
                }
                if let Some(Frame::Map { next_is_key, .. }) = self.stack.last_mut() {
                    *next_is_key = false;
                }
                true
            }
            Some(Frame::Map {
                next_is_key: false,
                key,
            }) => {
                let k = key.clone().unwrap_or_default();
                if let Some(Frame::Map { next_is_key, .. }) = self.stack.last_mut() {
                    *next_is_key = true;
                }
                self.path.push(Seg::Key(k));
                false
            }
            Some(Frame::Seq { next }) => {
                let i = *next;
                *next += 1;
                self.path.push(Seg::Index(i));
                self.map.entry(self.path.clone()).or_insert(pos);
                false
            }
            None => {
                self.map.entry(Vec::new()).or_insert(pos);
                false
            }
        }
    }

    /// Like `node_starts`, but a mapping's position is taken from its first key instead.
    fn node_starts_unrecorded(&mut self, mark: Marker) -> bool {
        let before = self.map.len();
        let path_before = self.path.clone();
        let is_key = self.node_starts(mark, None);
        if !is_key && self.map.len() > before && self.path != path_before {
            self.map.remove(&self.path);
        }
        is_key
    }

    /// A value node ended: leave its path segment.
    fn value_ends(&mut self) {
        if !self.stack.is_empty() {
            self.path.pop();
        }
    }
}

impl MarkedEventReceiver for Receiver {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                let is_key = self.node_starts(mark, Some(&value));
                if !is_key {
                    self.value_ends();
                }
            }
            Event::Alias(_) => {
                let is_key = self.node_starts(mark, None);
                if !is_key {
                    self.value_ends();
                }
            }
            Event::MappingStart(..) => {
                // A complex (non-scalar) key is unusual in configuration files; it is indexed as "".
                let is_key = self.node_starts_unrecorded(mark);
                if is_key {
                    self.path.push(Seg::Key(String::new()));
                }
                self.stack.push(Frame::Map {
                    next_is_key: true,
                    key: None,
                });
            }
            Event::SequenceStart(..) => {
                let is_key = self.node_starts(mark, None);
                if is_key {
                    self.path.push(Seg::Key(String::new()));
                }
                self.stack.push(Frame::Seq { next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_ends();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(segs: &[Seg]) -> Vec<Seg> {
        segs.to_vec()
    }

    #[test]
    fn records_keys_and_items() {
        let text = "customer: a\nchecks:\n  - name: one\n    request: { path: /x }\n  - name: two\n    expect:\n      json:\n        $.a: { min_length: 1 }\n";
        let pos = Positions::index(text);
        assert_eq!(pos.of(&p(&["customer".into()])), Pos { line: 1, column: 1 });
        assert_eq!(
            pos.of(&p(&["checks".into(), 0.into()])),
            Pos { line: 3, column: 5 }
        );
        assert_eq!(
            pos.of(&p(&["checks".into(), 1.into()])),
            Pos { line: 5, column: 5 }
        );
        assert_eq!(
            pos.of(&p(&["checks".into(), 0.into(), "request".into(), "path".into()]))
                .line,
            4
        );
        assert_eq!(
            pos.of(&p(&[
                "checks".into(),
                1.into(),
                "expect".into(),
                "json".into(),
                "$.a".into(),
                "min_length".into()
            ])),
            Pos { line: 8, column: 16 }
        );
        // An unknown path falls back to its nearest known ancestor.
        assert_eq!(pos.of(&p(&["checks".into(), 1.into(), "nope".into()])).line, 5);
    }
}
