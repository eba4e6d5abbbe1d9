//! [`Table`], the fixed-capacity aggregate every parser fills: what did not fit is
//! counted in `dropped`, never silently lost and never an error (csv-core's
//! `OutputFull`, heapless's `push` handing the item back).

use heapless::Vec;

/// Up to `N` items plus the count of items that did not fit.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Table<T, const N: usize> {
    items: Vec<T, N>,
    dropped: u32,
}

impl<T, const N: usize> Default for Table<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Table<T, N> {
    /// An empty table.
    pub const fn new() -> Self {
        Table {
            items: Vec::new(),
            dropped: 0,
        }
    }

    /// Adds an item, or counts it as dropped when the table is full.
    /// Returns false when it was dropped.
    #[inline]
    pub fn push(&mut self, item: T) -> bool {
        match self.items.push(item) {
            Ok(()) => true,
            Err(_) => {
                self.dropped = self.dropped.saturating_add(1);
                false
            }
        }
    }

    /// The items that fit, in input order.
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }

    /// Mutable access to the items that fit.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.items
    }

    /// Number of items held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when no item is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items seen that did not fit.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Iterates the items held.
    pub fn iter(&self) -> core::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// Empties the table and resets the dropped count, keeping nothing.
    pub fn clear(&mut self) {
        self.items.clear();
        self.dropped = 0;
    }

    /// What the last fill kept and dropped.
    pub fn summary(&self) -> Summary {
        Summary {
            parsed: self.items.len() as u32,
            dropped: self.dropped,
        }
    }
}

impl<'t, T, const N: usize> IntoIterator for &'t Table<T, N> {
    type Item = &'t T;
    type IntoIter = core::slice::Iter<'t, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// How many records a fill kept and how many did not fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Summary {
    /// Records stored.
    pub parsed: u32,
    /// Records seen but not stored for lack of capacity.
    pub dropped: u32,
}

impl<T, const N: usize> Table<T, N> {
    /// Counts one item as dropped without offering it (it could not even be converted,
    /// e.g. a name longer than the fixed string that would hold it).
    pub fn push_dropped(&mut self) {
        self.dropped = self.dropped.saturating_add(1);
    }
}
