//! `/sys/devices/system/clocksource/clocksource<N>/{available,current}_clocksource`: the
//! clock sources the kernel can keep time with and the one it uses, names separated by
//! spaces on one line (`available_clocksource_show` and `current_clocksource_show` in
//! kernel/time/clocksource.c).

use crate::error::{Error, ErrorKind, Result};
use crate::procfs::loadavg::first_line;
use crate::text::Text;

/// The names of one line, in order, at most `N` (what does not fit is counted in the
/// second value returned).
///
/// # Errors
/// `UnexpectedEnd` for empty input, `BadLine` at a second line.
///
/// ```
/// use ferrostat_core::sysfs::clocksource::names;
/// let (list, dropped) = names::<4>(b"tsc hpet acpi_pm \n")?;
/// let list: Vec<&[u8]> = list.iter().flatten().map(|n| n.as_bytes()).collect();
/// assert_eq!((list, dropped), (vec![&b"tsc"[..], b"hpet", b"acpi_pm"], 0));
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn names<const N: usize>(input: &[u8]) -> Result<([Option<Text<'_>>; N], u32)> {
    let line = first_line(input)?;
    let after = line.offset + line.bytes.len() + 1;
    if after < input.len() {
        return Err(Error::new(ErrorKind::BadLine, after));
    }
    let mut out = [None; N];
    let mut dropped = 0u32;
    let mut fields = line.fields();
    let mut i = 0;
    while let Some((_, word)) = fields.next_token() {
        match out.get_mut(i) {
            Some(slot) => *slot = Some(Text(word)),
            None => dropped = dropped.saturating_add(1),
        }
        i += 1;
    }
    Ok((out, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_and_capacity() {
        // node_exporter's sys.ttar: available "tsc hpet acpi_pm", current "tsc".
        let (list, dropped) = names::<2>(b"tsc hpet acpi_pm\n").unwrap();
        assert_eq!(
            (list[1].map(|t| t.as_bytes()), dropped),
            (Some(&b"hpet"[..]), 1)
        );
        let (one, _) = names::<1>(b"tsc\n").unwrap();
        assert_eq!(one[0].map(|t| t.as_bytes()), Some(&b"tsc"[..]));
        assert_eq!(
            names::<1>(b"").unwrap_err().kind(),
            ErrorKind::UnexpectedEnd
        );
        assert_eq!(
            names::<1>(b"a\nb\n").unwrap_err().kind(),
            ErrorKind::BadLine
        );
    }
}
