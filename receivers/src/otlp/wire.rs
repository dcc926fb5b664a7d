//! A borrowed protobuf reader: walks the fields of a message in place over the request
//! bytes, allocating nothing. The OTLP hot path reads only the fields it needs and
//! skips the rest; prost's owned types stay on cold paths (JSON, odd attribute values).

use std::fmt;

/// Why request bytes are not a well-formed protobuf message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A field or length runs past the end of its message.
    #[error("message is truncated")]
    Truncated,
    /// A varint of more than ten bytes.
    #[error("varint is longer than ten bytes")]
    LongVarint,
    /// Field number 0, a wire type protobuf does not define, or a group that does not
    /// end where it should.
    #[error("invalid field key")]
    InvalidKey,
    /// Groups nested deeper than protobuf decoders allow (100).
    #[error("groups are nested too deeply")]
    TooDeep,
    /// A known field sent with the wrong wire type.
    #[error("field {0} has the wrong wire type")]
    WrongType(u32),
    /// A string field that is not UTF-8.
    #[error("field {0} is not valid UTF-8")]
    NotUtf8(u32),
    /// Packed fixed-width values whose length is not a multiple of their width.
    #[error("packed field {0} has a partial value")]
    PartialPacked(u32),
    /// A request of 4 GiB or more (offsets into it are 32-bit).
    #[error("request is 4 GiB or larger")]
    TooLarge,
}

/// One field's value, as the wire carries it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 5.
    Fixed32(u32),
    /// Wire type 2: strings, bytes, nested messages, packed repeated fields.
    Bytes(&'a [u8]),
    /// Wire types 3 and 4: a (deprecated) group, skipped whole; OTLP has none.
    Group,
}

/// One field: its number and its value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field<'a> {
    /// The field number.
    pub number: u32,
    /// The value.
    pub value: Value<'a>,
}

impl<'a> Field<'a> {
    /// A nested message, string or bytes field.
    pub fn bytes(self) -> Result<&'a [u8], WireError> {
        match self.value {
            Value::Bytes(b) => Ok(b),
            _ => Err(WireError::WrongType(self.number)),
        }
    }

    /// A string field, checked to be UTF-8.
    #[inline]
    pub fn text(self) -> Result<Text<'a>, WireError> {
        let b = self.bytes()?;
        // Strings in telemetry are nearly all ASCII, which a word-at-a-time test
        // confirms faster than full validation does on short strings.
        if b.is_ascii() || std::str::from_utf8(b).is_ok() {
            Ok(Text(b))
        } else {
            Err(WireError::NotUtf8(self.number))
        }
    }

    /// A `fixed64`, `sfixed64` or `double` field, as raw bits.
    pub fn fixed64(self) -> Result<u64, WireError> {
        match self.value {
            Value::Fixed64(v) => Ok(v),
            _ => Err(WireError::WrongType(self.number)),
        }
    }

    /// A `double` field.
    pub fn double(self) -> Result<f64, WireError> {
        self.fixed64().map(f64::from_bits)
    }

    /// A varint field (integers, booleans, enums).
    pub fn varint(self) -> Result<u64, WireError> {
        match self.value {
            Value::Varint(v) => Ok(v),
            _ => Err(WireError::WrongType(self.number)),
        }
    }

    /// Calls `each` with every value of a repeated 64-bit fixed-width field, packed
    /// (one length-delimited run) or not (this field alone).
    pub fn each_fixed64(self, mut each: impl FnMut(u64)) -> Result<(), WireError> {
        match self.value {
            Value::Fixed64(v) => each(v),
            Value::Bytes(b) if b.len() % 8 == 0 => b.chunks_exact(8).for_each(|c| each(le_u64(c))),
            Value::Bytes(_) => return Err(WireError::PartialPacked(self.number)),
            _ => return Err(WireError::WrongType(self.number)),
        }
        Ok(())
    }
}

/// A string field's bytes, known to be UTF-8 but not converted: decoding only hashes
/// and compares strings. [`Text::as_str`] converts where a `&str` is needed (the
/// labels of a new series, a refusal's metric name).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Text<'a>(&'a [u8]);

impl<'a> Text<'a> {
    /// Whether the string is empty.
    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }

    /// The string.
    pub fn as_str(self) -> &'a str {
        // Made only from checked bytes (`Field::text`) or a `&str`: never the default.
        std::str::from_utf8(self.0).unwrap_or_default()
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl AsRef<[u8]> for Text<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text(s.as_bytes())
    }
}

/// How deep groups may nest (prost's recursion limit).
const MAX_GROUP_DEPTH: u32 = 100;

/// The fields of one message, in wire order. Stops after the first error.
#[derive(Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    /// The fields of the message `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Fields { rest: bytes }
    }

    // Inlined into each loop over fields, where the field number is matched at once:
    // the hot path's largest cost was this call and its returned enum. `always`: the
    // decoder is large enough that the inliner otherwise calls it out of line.
    #[inline(always)]
    fn field(&mut self) -> Result<Field<'a>, WireError> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| WireError::InvalidKey)?;
        if number == 0 {
            return Err(WireError::InvalidKey);
        }
        // Tested in order of frequency in OTLP (messages and strings, then doubles and
        // timestamps, then integers): a chain of predictable branches is cheaper here
        // than the jump table a `match` compiles to.
        let wire_type = key & 7;
        let value = if wire_type == 2 {
            let len = usize::try_from(self.varint()?).map_err(|_| WireError::Truncated)?;
            Value::Bytes(self.take(len)?)
        } else if wire_type == 1 {
            Value::Fixed64(le_u64(self.take(8)?))
        } else if wire_type == 0 {
            Value::Varint(self.varint()?)
        } else if wire_type == 5 {
            let b = self.take(4)?;
            Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        } else if wire_type == 3 {
            self.skip_group(u64::from(number), 1)?;
            Value::Group
        } else {
            return Err(WireError::InvalidKey);
        };
        Ok(Field { number, value })
    }

    /// Skips the rest of group `number` (its start key read), as prost does for an
    /// unknown group field.
    #[cold]
    #[inline(never)]
    fn skip_group(&mut self, number: u64, depth: u32) -> Result<(), WireError> {
        if depth > MAX_GROUP_DEPTH {
            return Err(WireError::TooDeep);
        }
        loop {
            let key = self.varint()?;
            let inner = key >> 3;
            if inner == 0 {
                return Err(WireError::InvalidKey);
            }
            match key & 7 {
                0 => drop(self.varint()?),
                1 => drop(self.take(8)?),
                2 => {
                    let len = usize::try_from(self.varint()?).map_err(|_| WireError::Truncated)?;
                    self.take(len)?;
                }
                3 => self.skip_group(inner, depth + 1)?,
                4 if inner == number => return Ok(()),
                5 => drop(self.take(4)?),
                _ => return Err(WireError::InvalidKey),
            }
        }
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.rest.len() {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, WireError> {
        // Keys and short lengths take one byte: the common case, kept branch-light.
        if let Some((&b, tail)) = self.rest.split_first() {
            if b < 0x80 {
                self.rest = tail;
                return Ok(u64::from(b));
            }
        }
        self.long_varint()
    }

    fn long_varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for (i, &b) in self.rest.iter().enumerate().take(10) {
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.rest = &self.rest[i + 1..];
                return Ok(value);
            }
        }
        Err(if self.rest.len() >= 10 {
            WireError::LongVarint
        } else {
            WireError::Truncated
        })
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, WireError>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            self.rest = &[];
        }
        Some(field)
    }
}

fn le_u64(b: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(b);
    u64::from_le_bytes(bytes)
}

/// Where a sub-message sits inside the request: 32-bit offsets keep origins small.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// The span of `part`, which must be a slice of `whole` or empty (an absent
    /// message: any empty slice, wherever it points).
    pub fn of(whole: &[u8], part: &[u8]) -> Span {
        if part.is_empty() {
            return Span::default();
        }
        let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
        debug_assert!(start + part.len() <= whole.len(), "a span outside its request");
        Span {
            start: start as u32,
            len: part.len() as u32,
        }
    }

    /// The bytes of this span in `whole`; empty if it does not fit (never for spans
    /// taken from the same request).
    pub fn in_request(self, whole: &[u8]) -> &[u8] {
        let (start, end) = (self.start as usize, self.start as usize + self.len as usize);
        whole.get(start..end).unwrap_or_default()
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.start + self.len)
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
