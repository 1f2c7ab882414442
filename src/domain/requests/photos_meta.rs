//! Removing location and other metadata from photos, losslessly, at the container level,
//! and refusing files that end early.
//!
//! Why not re-encode with the `image` crate: it cannot read HEIC (what iPhones send),
//! re-encoding a 12-megapixel photo costs seconds of CPU on a 2-core server and loses
//! quality, and a decoder that tolerates a cut-off JPEG would let truncated files in.
//! Walking the container is small, exact and checks that the file is whole:
//! - JPEG: APP1 (EXIF, XMP), APP13 (IPTC) and COM segments are dropped (an EXIF
//!   orientation other than upright is written back alone, so the photo is not shown
//!   sideways); the file must reach its EOI marker; anything after EOI is dropped.
//! - PNG: eXIf, tEXt, zTXt and iTXt chunks are dropped; every chunk must fit and IEND
//!   must come.
//! - WebP: EXIF and XMP chunks are dropped and their VP8X flags cleared; the RIFF size
//!   must fit the file.
//! - HEIC: the Exif and XMP items named in `meta/iinf` are overwritten with zeros where
//!   `meta/iloc` places them (offsets stay valid); every item must lie inside the file.

/// What is wrong with a file.
#[derive(Debug, PartialEq, Eq)]
pub enum Bad {
    /// It ends before its structure does.
    Truncated,
    /// Its structure is not what the format requires.
    Malformed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Heic,
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Heic => "image/heic",
        }
    }
}

/// The format by content alone.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    match infer::get(bytes)?.mime_type() {
        "image/jpeg" => Some(Format::Jpeg),
        "image/png" => Some(Format::Png),
        "image/webp" => Some(Format::Webp),
        "image/heif" | "image/heic" => Some(Format::Heic),
        _ => None,
    }
}

/// The photo without metadata, or why it cannot be taken.
pub fn strip(format: Format, bytes: &[u8]) -> Result<Vec<u8>, Bad> {
    match format {
        Format::Jpeg => jpeg(bytes),
        Format::Png => png(bytes),
        Format::Webp => webp(bytes),
        Format::Heic => heic(bytes),
    }
}

fn be16(b: &[u8], at: usize) -> Result<usize, Bad> {
    b.get(at..at + 2)
        .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
        .ok_or(Bad::Truncated)
}

fn be32(b: &[u8], at: usize) -> Result<usize, Bad> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or(Bad::Truncated)
}

fn jpeg(b: &[u8]) -> Result<Vec<u8>, Bad> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err(Bad::Malformed);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut pos = 2;
    let mut scanned = false;
    loop {
        if *b.get(pos).ok_or(Bad::Truncated)? != 0xFF {
            return Err(Bad::Malformed);
        }
        while b.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *b.get(pos + 1).ok_or(Bad::Truncated)?;
        match marker {
            0xD9 => {
                if !scanned {
                    return Err(Bad::Malformed);
                }
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&b[pos..pos + 2]);
                pos += 2;
                continue;
            }
            _ => {}
        }
        let len = be16(b, pos + 2)?;
        if len < 2 {
            return Err(Bad::Malformed);
        }
        let end = pos + 2 + len;
        let segment = b.get(pos..end).ok_or(Bad::Truncated)?;
        if !matches!(marker, 0xE1 | 0xED | 0xFE) {
            out.extend_from_slice(segment);
        } else if let Some(turn) = exif_orientation(&segment[4..]) {
            // Keep which way up the picture is, and nothing else.
            out.extend_from_slice(&orientation_segment(turn));
        }
        pos = end;
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or
            // a restart marker.
            scanned = true;
            let start = pos;
            loop {
                let ff = b[pos..]
                    .iter()
                    .position(|&x| x == 0xFF)
                    .ok_or(Bad::Truncated)?;
                pos += ff;
                match b.get(pos + 1) {
                    None => return Err(Bad::Truncated),
                    Some(0x00 | 0xD0..=0xD7) => pos += 2,
                    Some(0xFF) => pos += 1,
                    Some(_) => break,
                }
            }
            out.extend_from_slice(&b[start..pos]);
        }
    }
}

/// The EXIF Orientation (tag 0x0112 of IFD0) of an APP1 body, when it is not «upright».
fn exif_orientation(body: &[u8]) -> Option<u16> {
    let tiff = body.strip_prefix(b"Exif\0\0")?;
    let big = match tiff.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        let b = tiff.get(at..at + 2)?;
        Some(if big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| {
        let b = tiff.get(at..at + 4)?;
        Some(if big {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })
    };
    let ifd = u32_at(4)? as usize;
    let entries = usize::from(u16_at(ifd)?);
    (0..entries)
        .map(|i| ifd + 2 + i * 12)
        .find(|&entry| u16_at(entry) == Some(0x0112))
        .and_then(|entry| u16_at(entry + 8))
        .filter(|turn| (2..=8).contains(turn))
}

/// An APP1 segment holding only an Orientation tag.
fn orientation_segment(turn: u16) -> Vec<u8> {
    let mut s = vec![0xFF, 0xE1, 0x00, 0x22];
    s.extend_from_slice(b"Exif\0\0MM\0\x2A\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01");
    s.extend_from_slice(&turn.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    s
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn png(b: &[u8]) -> Result<Vec<u8>, Bad> {
    if !b.starts_with(PNG_SIGNATURE) {
        return Err(Bad::Malformed);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut pos = PNG_SIGNATURE.len();
    let mut first = true;
    loop {
        let len = be32(b, pos)?;
        let kind = b.get(pos + 4..pos + 8).ok_or(Bad::Truncated)?;
        let end = pos
            .checked_add(12)
            .and_then(|p| p.checked_add(len))
            .ok_or(Bad::Malformed)?;
        let chunk = b.get(pos..end).ok_or(Bad::Truncated)?;
        if first && kind != b"IHDR" {
            return Err(Bad::Malformed);
        }
        first = false;
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            out.extend_from_slice(chunk);
        }
        if kind == b"IEND" {
            return Ok(out);
        }
        pos = end;
    }
}

fn le32(b: &[u8], at: usize) -> Result<usize, Bad> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or(Bad::Truncated)
}

fn webp(b: &[u8]) -> Result<Vec<u8>, Bad> {
    if b.get(0..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WEBP") {
        return Err(Bad::Malformed);
    }
    let riff_end = le32(b, 4)?.checked_add(8).ok_or(Bad::Malformed)?;
    if riff_end > b.len() {
        return Err(Bad::Truncated);
    }
    let mut chunks = Vec::new();
    let mut pos = 12;
    let mut has_image = false;
    while pos < riff_end {
        let kind = b.get(pos..pos + 4).ok_or(Bad::Truncated)?;
        let len = le32(b, pos + 4)?;
        let end = (pos + 8).checked_add(len).ok_or(Bad::Malformed)?;
        if end > riff_end {
            return Err(Bad::Truncated);
        }
        has_image |= matches!(kind, b"VP8 " | b"VP8L" | b"ANMF");
        if !matches!(kind, b"EXIF" | b"XMP ") {
            let mut chunk = b[pos..end].to_vec();
            if kind == b"VP8X" && chunk.len() > 8 {
                chunk[8] &= !(0x08 | 0x04);
            }
            if len % 2 == 1 {
                chunk.push(0);
            }
            chunks.push(chunk);
        }
        pos = end + len % 2;
    }
    if !has_image {
        return Err(Bad::Malformed);
    }
    let body: usize = chunks.iter().map(Vec::len).sum();
    let size = u32::try_from(body + 4).map_err(|_| Bad::Malformed)?;
    let mut out = Vec::with_capacity(body + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    for chunk in chunks {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// ISOBMFF boxes of `b[from..to]`: (type, content start, end).
fn boxes(b: &[u8], from: usize, to: usize) -> Result<Vec<([u8; 4], usize, usize)>, Bad> {
    let mut out = Vec::new();
    let mut pos = from;
    while pos < to {
        let size = be32(b, pos)?;
        let kind: [u8; 4] = b
            .get(pos + 4..pos + 8)
            .and_then(|s| s.try_into().ok())
            .ok_or(Bad::Truncated)?;
        let (header, total) = match size {
            0 => (8, to - pos),
            1 => {
                let high = be32(b, pos + 8)?;
                let low = be32(b, pos + 12)?;
                let total = high
                    .checked_mul(1 << 32)
                    .and_then(|h| h.checked_add(low))
                    .ok_or(Bad::Malformed)?;
                (16, total)
            }
            n => (8, n),
        };
        if total < header {
            return Err(Bad::Malformed);
        }
        let end = pos.checked_add(total).ok_or(Bad::Malformed)?;
        if end > to {
            return Err(Bad::Truncated);
        }
        out.push((kind, pos + header, end));
        pos = end;
    }
    Ok(out)
}

/// Reads an unsigned big-endian number of `size` bytes (0, 4 or 8).
fn uint(b: &[u8], at: &mut usize, size: usize) -> Result<usize, Bad> {
    let mut v: usize = 0;
    for i in 0..size {
        let byte = *b.get(*at + i).ok_or(Bad::Truncated)?;
        v = v.checked_mul(256).ok_or(Bad::Malformed)? + usize::from(byte);
    }
    *at += size;
    Ok(v)
}

/// Items of type Exif, or XMP stored as a `mime` item.
fn metadata_items(b: &[u8], start: usize, end: usize) -> Result<Vec<usize>, Bad> {
    let version = *b.get(start).ok_or(Bad::Truncated)?;
    let first = start + 4 + if version == 0 { 2 } else { 4 };
    let mut ids = Vec::new();
    for (kind, s, e) in boxes(b, first, end)? {
        let infe_version = *b.get(s).ok_or(Bad::Truncated)?;
        if &kind != b"infe" || infe_version < 2 {
            continue;
        }
        let mut at = s + 4;
        let id = uint(b, &mut at, if infe_version == 2 { 2 } else { 4 })?;
        at += 2;
        let item_type = b.get(at..at + 4).ok_or(Bad::Truncated)?;
        let rest = b.get(at + 4..e).unwrap_or_default();
        let is_xmp =
            item_type == b"mime" && String::from_utf8_lossy(rest).to_lowercase().contains("xmp");
        if item_type == b"Exif" || is_xmp {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn heic(b: &[u8]) -> Result<Vec<u8>, Bad> {
    let top = boxes(b, 0, b.len())?;
    if top.first().map(|t| &t.0) != Some(b"ftyp") {
        return Err(Bad::Malformed);
    }
    let (_, meta_start, meta_end) = *top.iter().find(|t| &t.0 == b"meta").ok_or(Bad::Malformed)?;
    let inner = boxes(b, meta_start + 4, meta_end)?;
    let find = |name: &[u8; 4]| inner.iter().find(|t| &t.0 == name).copied();
    let (_, iloc, iloc_end) = find(b"iloc").ok_or(Bad::Malformed)?;
    let strip_ids = match find(b"iinf") {
        Some((_, s, e)) => metadata_items(b, s, e)?,
        None => Vec::new(),
    };
    let idat = find(b"idat").map(|(_, s, _)| s);

    let mut out = b.to_vec();
    let version = *b.get(iloc).ok_or(Bad::Truncated)?;
    let mut at = iloc + 4;
    let sizes = uint(b, &mut at, 2)?;
    let (offset_size, length_size) = (sizes >> 12, (sizes >> 8) & 0xF);
    let (base_size, index_size) = ((sizes >> 4) & 0xF, sizes & 0xF);
    let wide = version >= 2;
    let count = uint(b, &mut at, if wide { 4 } else { 2 })?;
    for _ in 0..count {
        let id = uint(b, &mut at, if wide { 4 } else { 2 })?;
        let method = if version >= 1 {
            uint(b, &mut at, 2)? & 0xF
        } else {
            0
        };
        at += 2;
        let base = uint(b, &mut at, base_size)?;
        let extents = uint(b, &mut at, 2)?;
        for _ in 0..extents {
            if version >= 1 && index_size > 0 {
                uint(b, &mut at, index_size)?;
            }
            let offset = uint(b, &mut at, offset_size)?;
            let length = uint(b, &mut at, length_size)?;
            let origin = match method {
                0 => 0,
                1 => idat.ok_or(Bad::Malformed)?,
                _ => continue,
            };
            let start = origin
                .checked_add(base)
                .and_then(|s| s.checked_add(offset))
                .ok_or(Bad::Malformed)?;
            let end = start.checked_add(length).ok_or(Bad::Malformed)?;
            if end > b.len() {
                return Err(Bad::Truncated);
            }
            if strip_ids.contains(&id) {
                out[start..end].fill(0);
            }
        }
        if at > iloc_end {
            return Err(Bad::Malformed);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "photos_meta_tests.rs"]
mod tests;
