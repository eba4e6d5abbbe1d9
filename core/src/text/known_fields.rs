//! [`known_fields!`]: structs of a file's well-known `Key value` fields, indexed in the
//! kernel's print order.

/// Bit index (0..128) of a key in a [`known_fields!`] filter.
#[inline]
pub(crate) const fn key_hash(key: &[u8]) -> u32 {
    if key.is_empty() {
        return 0;
    }
    let h = (key.len() as u32)
        .wrapping_mul(31)
        .wrapping_add(key[0] as u32 * 7)
        .wrapping_add(key[key.len() - 1] as u32 * 13)
        .wrapping_add(key[key.len() / 2] as u32);
    h % 128
}

/// Declares a struct of well-known `Key value` fields, stored as an array indexed in the
/// kernel's own print order so a lookup is usually a single comparison (the next key is
/// almost always the one after the last), falling back to a scan for reordered or new
/// kernels. Unknown keys are left to the record iterator.
macro_rules! known_fields {
    (
        $(#[$meta:meta])*
        pub struct $name:ident : $value:ty {
            $( $(#[$fmeta:meta])* $field:ident = $key:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            values: [Option<$value>; $name::KEYS.len()],
            other: u32,
        }

        impl Default for $name {
            fn default() -> Self {
                $name { values: [None; $name::KEYS.len()], other: 0 }
            }
        }

        #[allow(non_upper_case_globals, dead_code)]
        mod field_index {
            #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
            pub(super) enum Index { $( $field, )+ }
        }

        impl $name {
            /// The keys this struct names, in the order the kernel prints them.
            pub const KEYS: &'static [&'static [u8]] = &[ $( $key, )+ ];
            /// The snake_case names of the fields, in the same order as [`Self::KEYS`].
            pub const NAMES: &'static [&'static str] = &[ $( stringify!($field), )+ ];

            $(
                $(#[$fmeta])*
                #[inline]
                pub fn $field(&self) -> Option<$value> {
                    self.values[field_index::Index::$field as usize]
                }
            )+

            /// Number of lines whose key is not one of [`Self::KEYS`].
            pub fn other_fields(&self) -> u32 {
                self.other
            }

            /// The value for a kernel key, if this struct names it and it was present.
            pub fn get(&self, key: &[u8]) -> Option<$value> {
                let i = Self::KEYS.iter().position(|k| *k == key)?;
                self.values[i]
            }

            /// A 128-bit filter of the keys' (length, first, last byte) hashes: most unknown
            /// keys (vmstat has ~170 of them) are rejected without a single comparison.
            const FILTER: u128 = {
                let mut filter = 0u128;
                let mut i = 0;
                while i < Self::KEYS.len() {
                    filter |= 1 << $crate::text::key_hash(Self::KEYS[i]);
                    i += 1;
                }
                filter
            };

            /// Stores `value` under `key`; `hint` is the index after the previous hit.
            #[inline]
            pub(crate) fn set(&mut self, key: &[u8], value: $value, hint: &mut usize) {
                let keys = Self::KEYS;
                let i = if *hint < keys.len() && keys[*hint] == key {
                    *hint
                } else if Self::FILTER & (1 << $crate::text::key_hash(key)) == 0 {
                    self.other = self.other.saturating_add(1);
                    return;
                } else if let Some(i) = keys.iter().position(|k| *k == key) {
                    i
                } else {
                    self.other = self.other.saturating_add(1);
                    return;
                };
                self.values[i] = Some(value);
                *hint = i + 1;
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct(stringify!($name), Self::KEYS.len() + 1)?;
                $( st.serialize_field(stringify!($field), &self.$field())?; )+
                st.serialize_field("other_fields", &self.other)?;
                st.end()
            }
        }
    };
}
pub(crate) use known_fields;
