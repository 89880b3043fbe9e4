//! Writing reports to files (docs/reports.md): whole or not at all.
//!
//! A report is rendered into a temporary file in the target's own folder (so the final rename
//! never crosses a file system), flushed and synced, then renamed onto the target. A reader, a
//! CI artifact upload or a run stopped half-way sees the old file, no file, or the complete new
//! one, never a half-written one. Everything goes through the [`Redactor`]'s writer.

use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::redact::Redactor;

/// The folder a report file lives in: its parent, or `.` for a bare file name.
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// True when the path is spelled as a folder (`out/`), whether or not it exists.
fn spelled_as_folder(path: &Path) -> bool {
    let s = path.as_os_str().to_string_lossy();
    s.ends_with('/') || s.ends_with(std::path::MAIN_SEPARATOR) || path.file_name().is_none()
}

/// Preflight for `--json PATH` / `--junit PATH`, run before any request is sent: the folder must
/// exist, be a folder and accept a new file, and the path must not be a folder. A bad path is then
/// a usage error (exit 2) up front instead of a report lost at the end of a long run.
pub fn check_writable(path: &Path) -> Result<(), String> {
    let shown = path.display();
    if path.as_os_str().is_empty() {
        return Err("report path is empty".to_string());
    }
    if spelled_as_folder(path) || path.is_dir() {
        return Err(format!(
            "cannot write report to {shown}: it is a folder, not a file"
        ));
    }
    let folder = folder_of(path);
    match fs::metadata(&folder) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!(
                "cannot write report to {shown}: folder {} does not exist",
                folder.display()
            ));
        }
        Err(e) => {
            return Err(format!(
                "cannot write report to {shown}: folder {}: {e}",
                folder.display()
            ));
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(format!(
                "cannot write report to {shown}: {} is not a folder",
                folder.display()
            ));
        }
        Ok(_) => {}
    }
    // The write at the end needs a temporary file in that folder: try one now (removed on drop).
    tempfile::Builder::new()
        .prefix(".endpoint-check-probe-")
        .tempfile_in(&folder)
        .map(drop)
        .map_err(|e| {
            format!(
                "cannot write report to {shown}: folder {} is not writable: {e}",
                folder.display()
            )
        })
}

/// Renders a report into `path` atomically, masking secrets on the way.
///
/// `render` writes into a redacting writer over a temporary file in `path`'s folder; on success
/// the file is flushed, synced and renamed onto `path`. If `render` (or any step) fails, the
/// temporary file is removed and `path` is left as it was.
///
/// A new file gets mode 0644 on Unix (the temporary file starts as 0600); a file that already
/// existed keeps its permissions.
pub fn write_atomic(
    path: &Path,
    redactor: &Redactor,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if spelled_as_folder(path) || path.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("{} is a folder, not a file", path.display()),
        ));
    }
    let folder = folder_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&folder)?;
    {
        let mut buffered = BufWriter::new(tmp.as_file_mut());
        {
            let mut masked = redactor.writer(&mut buffered);
            render(&mut masked)?;
            masked.flush()?;
        }
        buffered.flush()?;
    }
    let permissions = match fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => new_file_permissions(),
    };
    if let Some(permissions) = permissions {
        tmp.as_file().set_permissions(permissions)?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_folder(&folder);
    Ok(())
}

#[cfg(unix)]
fn new_file_permissions() -> Option<fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn new_file_permissions() -> Option<fs::Permissions> {
    None
}

/// Makes the rename itself durable. Best effort: not every platform can open a folder.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

/// Appends `text`, masked, to `path` (created if missing): for `$GITHUB_STEP_SUMMARY`, which other
/// steps share, so it is appended to rather than replaced. The text goes out in one write.
pub fn append(path: &Path, redactor: &Redactor, text: &str) -> io::Result<()> {
    let masked = redactor.mask(text);
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(masked.as_bytes())?;
    file.flush()
}
