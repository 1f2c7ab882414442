//! Test images built byte by byte, each carrying a fake GPS tag in its metadata.

use super::*;

pub const GPS: &[u8] = b"GPSLatitude=55.7558";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A JPEG: JFIF, EXIF with GPS, a table, one scan with stuffed bytes and a restart
/// marker, EOI.
pub fn jpeg() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8];
    b.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(GPS);
    b.extend(segment(0xE1, &exif));
    b.extend(segment(0xDB, &[0u8; 65]));
    b.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    b.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0x78]);
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}

fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(body);
    c.extend_from_slice(&[0, 0, 0, 0]);
    c
}

pub fn png() -> Vec<u8> {
    let mut b = PNG_SIGNATURE.to_vec();
    b.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
    b.extend(chunk(b"eXIf", GPS));
    b.extend(chunk(b"IDAT", &[0x78, 0x9C, 0x63, 0x60, 0, 0, 0, 4, 0, 1]));
    b.extend(chunk(b"IEND", &[]));
    b
}

fn riff_chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = kind.to_vec();
    c.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

pub fn webp() -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &[0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    body.extend(riff_chunk(
        b"VP8 ",
        &[0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A, 1, 0, 1],
    ));
    body.extend(riff_chunk(b"EXIF", GPS));
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    b.extend(body);
    b
}

fn bmff(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = u32::try_from(body.len() + 8)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(body);
    c
}

/// A HEIC with an image item (1) and an Exif item (2), both in `mdat`.
pub fn heic() -> Vec<u8> {
    let ftyp = bmff(b"ftyp", b"heic\0\0\0\0mif1heic");
    let infe = |id: u8, kind: &[u8; 4]| {
        let mut body = vec![2, 0, 0, 0, 0, id, 0, 0];
        body.extend_from_slice(kind);
        body.push(0);
        bmff(b"infe", &body)
    };
    let mut iinf = vec![0, 0, 0, 0, 0, 2];
    iinf.extend(infe(1, b"hvc1"));
    iinf.extend(infe(2, b"Exif"));
    let image = [0xAAu8; 16];
    let mut exif = b"\0\0\0\0Exif\0\0".to_vec();
    exif.extend_from_slice(GPS);

    // The iloc size depends on nothing variable, so offsets can be computed after.
    let iloc_len = 8 + 4 + 2 + 2 + 2 * (2 + 2 + 2 + 4 + 4);
    let meta_len = 8 + 4 + 8 + (8 + iinf.len()) + iloc_len;
    let mdat_data = ftyp.len() + meta_len + 8;
    let mut iloc = vec![0, 0, 0, 0, 0x44, 0x00, 0, 2];
    for (id, offset, len) in [
        (1u16, mdat_data, image.len()),
        (2u16, mdat_data + image.len(), exif.len()),
    ] {
        iloc.extend_from_slice(&id.to_be_bytes());
        iloc.extend_from_slice(&[0, 0, 0, 1]);
        iloc.extend_from_slice(&u32::try_from(offset).unwrap().to_be_bytes());
        iloc.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
    }
    let mut meta = vec![0, 0, 0, 0];
    meta.extend(bmff(b"hdlr", &[0; 0]));
    meta.extend(bmff(b"iinf", &iinf));
    meta.extend(bmff(b"iloc", &iloc));
    let mut mdat = image.to_vec();
    mdat.extend(exif);

    let mut b = ftyp;
    b.extend(bmff(b"meta", &meta));
    assert_eq!(b.len() + 8, mdat_data);
    b.extend(bmff(b"mdat", &mdat));
    b
}

#[test]
fn content_decides_the_format() {
    assert_eq!(sniff(&jpeg()), Some(Format::Jpeg));
    assert_eq!(sniff(&png()), Some(Format::Png));
    assert_eq!(sniff(&webp()), Some(Format::Webp));
    assert_eq!(sniff(&heic()), Some(Format::Heic));
    assert_eq!(sniff(b"%PDF-1.7\n"), None);
    assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), None);
}

#[test]
fn location_is_gone_and_the_picture_stays() {
    for (format, original) in [
        (Format::Jpeg, jpeg()),
        (Format::Png, png()),
        (Format::Webp, webp()),
        (Format::Heic, heic()),
    ] {
        assert!(contains(&original, GPS));
        let clean = strip(format, &original).unwrap();
        assert!(!contains(&clean, GPS), "{format:?} still has GPS");
        assert_eq!(sniff(&clean), Some(format));
    }
    let clean = strip(Format::Jpeg, &jpeg()).unwrap();
    assert!(contains(
        &clean,
        &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]
    ));
    assert!(contains(&clean, b"JFIF"));
    assert!(clean.ends_with(&[0xFF, 0xD9]));
    let clean = strip(Format::Webp, &webp()).unwrap();
    assert_eq!(clean[20] & 0x08, 0, "VP8X EXIF flag cleared");
    assert_eq!(clean.len(), le32(&clean, 4).unwrap() + 8);
    let clean = strip(Format::Heic, &heic()).unwrap();
    assert_eq!(clean.len(), heic().len());
    assert!(contains(&clean, &[0xAA; 16]));
}

#[test]
fn a_file_cut_short_is_truncated() {
    for (format, original) in [
        (Format::Jpeg, jpeg()),
        (Format::Png, png()),
        (Format::Webp, webp()),
        (Format::Heic, heic()),
    ] {
        for keep in [original.len() / 2, original.len() - 2] {
            let cut = &original[..keep];
            assert_eq!(
                strip(format, cut),
                Err(Bad::Truncated),
                "{format:?} cut at {keep}"
            );
        }
    }
}

#[test]
fn wrong_insides_are_malformed() {
    assert_eq!(
        strip(Format::Jpeg, b"\xFF\xD8\x00\x00"),
        Err(Bad::Malformed)
    );
    assert_eq!(
        strip(Format::Png, b"\x89PNG\r\n\x1a\n\0\0\0\0IEND\0\0\0\0"),
        Err(Bad::Malformed)
    );
}

#[test]
fn jpeg_orientation_survives_alone() {
    // Little-endian TIFF: IFD0 with Orientation = 6 and a GPS IFD pointer.
    let mut exif = b"Exif\0\0II\x2A\0\x08\0\0\0\x02\0".to_vec();
    exif.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    exif.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    exif.extend_from_slice(&[0, 0, 0, 0]);
    exif.extend_from_slice(GPS);
    let mut b = vec![0xFF, 0xD8];
    b.extend(segment(0xE1, &exif));
    b.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    b.extend_from_slice(&[0x12, 0xFF, 0xD9]);

    let clean = strip(Format::Jpeg, &b).unwrap();
    assert!(!contains(&clean, GPS));
    assert_eq!(exif_orientation(&clean[6..]), Some(6));
    assert_eq!(u16::from_be_bytes([clean[4], clean[5]]) as usize, 0x22);
    assert_eq!(&clean[4 + 0x22..4 + 0x22 + 2], &[0xFF, 0xDA]);
    // Upright photos get no EXIF at all.
    assert_eq!(exif_orientation(&jpeg()[4 + 16 + 4..]), None);
}
