//! The borrowed protobuf reader against hand-made and prost-encoded messages.

use super::*;
use opentelemetry_proto::tonic::metrics::v1::HistogramDataPoint;
use prost::Message;

fn fields(bytes: &[u8]) -> Result<Vec<Field<'_>>, WireError> {
    Fields::new(bytes).collect()
}

#[test]
fn reads_every_wire_type() {
    // field 1 varint 300, field 2 fixed64, field 3 bytes "hi", field 4 fixed32
    let mut msg = vec![0x08, 0xac, 0x02, 0x11];
    msg.extend(7u64.to_le_bytes());
    msg.extend([0x1a, 2, b'h', b'i', 0x25, 1, 0, 0, 0]);
    let f = fields(&msg).unwrap();
    assert_eq!(f[0].varint(), Ok(300));
    assert_eq!(f[1].fixed64(), Ok(7));
    assert_eq!(f[2].text(), Ok(Text::from("hi")));
    assert_eq!(f[3].value, Value::Fixed32(1));
    assert_eq!(f[2].varint(), Err(WireError::WrongType(3)));
}

#[test]
fn refuses_malformed_input() {
    assert_eq!(fields(&[0x08]), Err(WireError::Truncated));
    assert_eq!(
        fields(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        Err(WireError::LongVarint)
    );
    assert_eq!(fields(&[0x00, 0x01]), Err(WireError::InvalidKey));
    assert_eq!(fields(&[0x0b]), Err(WireError::Truncated), "a group that never ends");
    assert_eq!(fields(&[0x0c]), Err(WireError::InvalidKey), "an end without a start");
    assert_eq!(fields(&[0x0b, 0x14]), Err(WireError::InvalidKey), "ends another group");
    let deep = [vec![0x0b; 101], vec![0x0c; 101]].concat();
    assert_eq!(fields(&deep), Err(WireError::TooDeep));
    assert_eq!(fields(&[0x0a, 0x05, b'a']), Err(WireError::Truncated));
    let bad_utf8 = [0x0a, 0x01, 0xff];
    assert_eq!(fields(&bad_utf8).unwrap()[0].text(), Err(WireError::NotUtf8(1)));
    let not_ascii = [0x0a, 0x02, 0xc3, 0xa9];
    assert_eq!(fields(&not_ascii).unwrap()[0].text().map(Text::as_str), Ok("é"));
}

#[test]
fn skips_groups_as_prost_does() {
    // Group 2 holding a varint field and a nested group, then field 1.
    let msg = [0x13, 0x08, 0x01, 0x1b, 0x1c, 0x14, 0x08, 0x07];
    let f = fields(&msg).unwrap();
    assert_eq!((f[0].number, f[0].value), (2, Value::Group));
    assert_eq!(f[0].bytes(), Err(WireError::WrongType(2)));
    assert_eq!(f[1].varint(), Ok(7));
}

#[test]
fn reads_packed_and_unpacked_repeated_fixed64() {
    let packed = HistogramDataPoint {
        bucket_counts: vec![1, 2, 3],
        ..Default::default()
    }
    .encode_to_vec();
    let mut seen = Vec::new();
    for f in Fields::new(&packed) {
        let f = f.unwrap();
        if f.number == 6 {
            f.each_fixed64(|v| seen.push(v)).unwrap();
        }
    }
    assert_eq!(seen, [1, 2, 3]);
    // The same field unpacked: one key per value.
    let mut unpacked = Vec::new();
    for v in [4u64, 5] {
        unpacked.push(0x31);
        unpacked.extend(v.to_le_bytes());
    }
    let mut seen = Vec::new();
    for f in Fields::new(&unpacked) {
        f.unwrap().each_fixed64(|v| seen.push(v)).unwrap();
    }
    assert_eq!(seen, [4, 5]);
    let partial = [0x32, 0x03, 1, 2, 3];
    assert_eq!(
        fields(&partial).unwrap()[0].each_fixed64(|_| {}),
        Err(WireError::PartialPacked(6))
    );
}

#[test]
fn spans_find_their_bytes_again() {
    let whole = b"0123456789";
    let span = Span::of(whole, &whole[3..7]);
    assert_eq!(span.in_request(whole), b"3456");
    assert_eq!(span.in_request(b"01"), b"");
    assert_eq!(Span::of(whole, &[]).in_request(whole), b"", "an absent message");
}
