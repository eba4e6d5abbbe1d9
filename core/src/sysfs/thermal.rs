//! `/sys/class/thermal/thermal_zone<N>/temp`: a zone's temperature in millidegrees
//! Celsius, one signed decimal and a newline (Documentation/ABI/testing/sysfs-class-thermal,
//! `temp_show` in drivers/thermal/thermal_sysfs.c).

use crate::error::{Error, ErrorKind, Result};
use crate::text::parse_i64;

/// Parses a zone's `temp`, millidegrees Celsius. Values outside `i32` (the kernel's
/// `int temperature`) are an error, as is anything but one number on one line.
///
/// # Errors
/// `UnexpectedEnd` for empty input; `BadInteger` at a value that is not a signed decimal
/// or does not fit; `BadLine` at anything after the newline.
///
/// ```
/// use ferrostat_core::sysfs::thermal::parse_temp;
/// assert_eq!(parse_temp(b"47000\n")?, 47000);
/// assert_eq!(parse_temp(b"-5500\n")?, -5500);
/// assert!(parse_temp(b"hot\n").is_err());
/// # Ok::<(), ferrostat_core::Error>(())
/// ```
pub fn parse_temp(input: &[u8]) -> Result<i32> {
    let (line, rest) = match memchr::memchr(b'\n', input) {
        Some(end) => (&input[..end], &input[end + 1..]),
        None => (input, &input[input.len()..]),
    };
    if line.is_empty() {
        return Err(Error::new(ErrorKind::UnexpectedEnd, 0));
    }
    if !rest.is_empty() {
        return Err(Error::new(ErrorKind::BadLine, line.len() + 1));
    }
    parse_i64(line)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or(Error::new(ErrorKind::BadInteger, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_values_and_errors() {
        assert_eq!(parse_temp(b"0\n"), Ok(0));
        assert_eq!(parse_temp(b"105000"), Ok(105000));
        assert_eq!(
            parse_temp(b"").unwrap_err().kind(),
            ErrorKind::UnexpectedEnd
        );
        assert_eq!(
            parse_temp(b"99999999999\n").unwrap_err().kind(),
            ErrorKind::BadInteger
        );
        let e = parse_temp(b"1\n2\n").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ErrorKind::BadLine, 2));
    }
}
