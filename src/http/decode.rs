//! Content-Encoding decoding under the body cap: what `body` and `json` assertions see.

use super::MAX_BODY_BYTES;
use reqwest::header::HeaderMap;
use std::io::Read;

/// Decodes a gzip or deflate body; the cap applies to the decoded size too.
pub(crate) fn decode(headers: &HeaderMap, raw: Vec<u8>) -> Result<Vec<u8>, String> {
    let encoding = headers
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut decoded = Vec::new();
    let limit = MAX_BODY_BYTES as u64 + 1;
    let read = match encoding.as_str() {
        "" | "identity" => return Ok(raw),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&raw[..])
            .take(limit)
            .read_to_end(&mut decoded),
        "deflate" => {
            // Servers send either zlib-wrapped or raw deflate under this name.
            let zlib = flate2::read::ZlibDecoder::new(&raw[..])
                .take(limit)
                .read_to_end(&mut decoded);
            if zlib.is_err() {
                decoded.clear();
                flate2::read::DeflateDecoder::new(&raw[..])
                    .take(limit)
                    .read_to_end(&mut decoded)
            } else {
                zlib
            }
        }
        // Unknown encodings stay as they are: `body` assertions will say what they see.
        _ => return Ok(raw),
    };
    read.map_err(|e| format!("cannot decode the {encoding} body: {e}"))?;
    if decoded.len() > MAX_BODY_BYTES {
        return Err(format!(
            "decoded response body larger than the {} MiB limit",
            MAX_BODY_BYTES / (1024 * 1024)
        ));
    }
    Ok(decoded)
}
