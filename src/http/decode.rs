//! Content-Encoding decoding under the body cap: what `body` and `json` assertions see
//! (docs/behaviour.md, "Compression"). Every decoder is a streaming `Read` over the raw body,
//! read through `take(cap + 1)`: a bomb is stopped once it passes the cap, never decoded whole.

use super::MAX_BODY_BYTES;
use reqwest::header::HeaderMap;
use std::io::Read;

/// What the client offers when a check does not set `Accept-Encoding` itself.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// Largest zstd window accepted, as a power of two (16 MiB). HTTP senders keep to 8 MiB (RFC
/// 9659); a one-segment frame's window is its size, which the cap keeps near 10 MiB. A frame
/// asking for more is refused before the decoder allocates it.
const ZSTD_WINDOW_LOG_MAX: u32 = 24;

/// Input buffer of the brotli decoder.
const BROTLI_BUFFER: usize = 64 * 1024;

/// Decodes a body sent with `Content-Encoding` gzip, deflate, br or zstd (or several, applied in
/// the order listed); the cap applies to the decoded size. A body in an encoding this does not
/// know is left as it is: `body` assertions will say what they see.
pub(crate) fn decode(headers: &HeaderMap, raw: Vec<u8>) -> Result<Vec<u8>, String> {
    let codings: Vec<String> = headers
        .get_all(reqwest::header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    // An answer to HEAD, a 204 or a 304 names the coding its body would have, and has none.
    if raw.is_empty() || codings.iter().any(|c| Coding::of(c).is_none()) {
        return Ok(raw);
    }
    // The last coding listed was applied last: undo it first.
    let mut body = raw;
    for name in codings.iter().rev() {
        let coding = Coding::of(name).unwrap_or(Coding::Gzip);
        body = decode_one(coding, &body).map_err(|e| format!("cannot decode the {name} body: {e}"))?;
        if body.len() > MAX_BODY_BYTES {
            return Err(format!(
                "decoded response body larger than the {} MiB limit (stopped decoding)",
                MAX_BODY_BYTES / (1024 * 1024)
            ));
        }
    }
    Ok(body)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    fn of(name: &str) -> Option<Coding> {
        match name {
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "deflate" => Some(Coding::Deflate),
            "br" => Some(Coding::Brotli),
            "zstd" => Some(Coding::Zstd),
            _ => None,
        }
    }
}

/// At most `MAX_BODY_BYTES + 1` bytes of `input` decoded: one more than the cap tells the caller
/// the body is too large, without decoding the rest.
fn decode_one(coding: Coding, input: &[u8]) -> std::io::Result<Vec<u8>> {
    let reader: Box<dyn Read + '_> = match coding {
        Coding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        // Servers send either zlib-wrapped or raw deflate under this name.
        Coding::Deflate if is_zlib(input) => Box::new(flate2::read::ZlibDecoder::new(input)),
        Coding::Deflate => Box::new(flate2::read::DeflateDecoder::new(input)),
        Coding::Brotli => Box::new(brotli_decompressor::Decompressor::new(input, BROTLI_BUFFER)),
        Coding::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(input)?;
            decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            Box::new(decoder)
        }
    };
    let mut decoded = Vec::new();
    reader.take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut decoded)?;
    Ok(decoded)
}

/// A zlib header (RFC 1950): deflate method, and the check bits making the first two bytes a
/// multiple of 31.
fn is_zlib(input: &[u8]) -> bool {
    match input {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{CONTENT_ENCODING, HeaderValue};
    use std::io::Write;

    fn encoded(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, HeaderValue::from_str(value).unwrap());
        h
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn brotli(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
        drop(w);
        out
    }

    #[test]
    fn every_offered_coding_is_decoded() {
        let text = b"Hello World!";
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        zlib.write_all(text).unwrap();
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        raw.write_all(text).unwrap();
        for (coding, body) in [
            ("gzip", gzip(text)),
            ("x-gzip", gzip(text)),
            ("deflate", zlib.finish().unwrap()),
            ("deflate", raw.finish().unwrap()),
            ("br", brotli(text)),
            ("zstd", zstd::encode_all(&text[..], 3).unwrap()),
            ("BR", brotli(text)),
        ] {
            assert_eq!(decode(&encoded(coding), body).unwrap(), text, "{coding}");
        }
    }

    #[test]
    fn codings_applied_in_turn_are_undone_in_reverse() {
        let twice = brotli(&gzip(b"layered"));
        assert_eq!(decode(&encoded("gzip, br"), twice).unwrap(), b"layered");
        assert_eq!(decode(&encoded("identity"), b"x".to_vec()).unwrap(), b"x");
        for coding in ["gzip", "deflate", "br", "zstd"] {
            assert_eq!(
                decode(&encoded(coding), Vec::new()).unwrap(),
                b"",
                "{coding}: HEAD"
            );
        }
    }

    #[test]
    fn unknown_codings_and_broken_bodies() {
        assert_eq!(decode(&encoded("compress"), b"raw".to_vec()).unwrap(), b"raw");
        assert_eq!(decode(&encoded("br, snappy"), b"raw".to_vec()).unwrap(), b"raw");
        let err = decode(&encoded("zstd"), b"not zstd".to_vec()).unwrap_err();
        assert!(err.starts_with("cannot decode the zstd body"), "{err}");
        let err = decode(&encoded("br"), vec![0xff; 16]).unwrap_err();
        assert!(err.starts_with("cannot decode the br body"), "{err}");
    }

    #[test]
    fn the_cap_holds_for_the_decoded_size() {
        let zeros = vec![0u8; MAX_BODY_BYTES + 1];
        for (coding, body) in [
            ("br", brotli(&zeros)),
            ("zstd", zstd::encode_all(&zeros[..], 3).unwrap()),
        ] {
            let err = decode(&encoded(coding), body).unwrap_err();
            assert!(err.contains("10 MiB"), "{coding}: {err}");
        }
        let exact = vec![b'a'; MAX_BODY_BYTES];
        assert_eq!(
            decode(&encoded("zstd"), zstd::encode_all(&exact[..], 1).unwrap())
                .unwrap()
                .len(),
            MAX_BODY_BYTES
        );
    }
}
