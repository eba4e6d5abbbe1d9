//! The byte-level tools every /proc grammar is written with, one concern per file:
//! `lines` (lines, whitespace-separated fields, records and tables), `numbers` (integers
//! and fractions read straight from ASCII), `search` (short byte searches a word at a
//! time), `strings` (the borrowed views [`Text`] and [`Escaped`]) and `known_fields`
//! (structs of a file's well-known keys). No UTF-8 pass and no allocation anywhere.
mod known_fields;
mod lines;
mod numbers;
mod search;
mod strings;

pub(crate) use known_fields::key_hash;
pub(crate) use known_fields::known_fields;
pub use lines::LineRecords;
pub(crate) use lines::{cut_aware_input, fill_table, is_blank, Fields, Line, Lines};
pub(crate) use numbers::{
    parse_counter, parse_decimal, parse_hex_u128, parse_i64, parse_octal_u32, parse_u64,
    scan_digits,
};
pub(crate) use search::{find_either, word_at};
pub(crate) use strings::trim;
#[cfg(feature = "serde")]
pub(crate) use strings::{serialize_opt_state, serialize_state};
pub use strings::{Escaped, Escaping, Text, Unescape};
