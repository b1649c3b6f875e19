//! Putting an edited [`Document`] back on disk without ever leaving the user with a broken or
//! lost file:
//!
//! - the new text goes to a temporary file in the same directory, is `sync_all`ed and renamed
//!   over the old one, so readers see the old file or the new one, never half of one;
//! - the file keeps its permissions (a new file is 0600; a missing directory is created 0700);
//!   a symlinked config (dotfile managers) is written through to its target, the link stays;
//! - the previous content is kept beside it as `config.portico-backup` (one backup, replaced by
//!   each write), written the same careful way;
//! - writers take a per-file lock in portico's cache directory, then re-read the file: if its
//!   bytes differ from those the edit started from (the AWS CLI, an editor or another portico
//!   wrote it meanwhile), nothing is written and the user is told to re-run. Content is compared
//!   rather than the modification time, which can miss two writes within its granularity;
//! - nothing is written when the edit changed nothing.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};

use super::{Document, EditError};

/// The backup of `config`: `config.portico-backup` in the same directory.
pub fn backup_path(config: &Path) -> PathBuf {
    let mut name = config
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "config".into());
    name.push(".portico-backup");
    config.with_file_name(name)
}

/// What [`EditableFile::save`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// The edit changed nothing; the file was not touched.
    Unchanged,
    /// The file was replaced; `backup` holds the previous content (none for a new file).
    Written { backup: Option<PathBuf> },
}

/// The config file as read, and the document being edited from it.
#[derive(Debug)]
pub struct EditableFile {
    /// The path as the user knows it (used in messages).
    pub path: PathBuf,
    /// Where the bytes live: `path` with symlinks resolved.
    target: PathBuf,
    /// The bytes read; `None` when the file did not exist.
    original: Option<Vec<u8>>,
    /// Edit this, then [`EditableFile::save`].
    pub doc: Document,
}

impl EditableFile {
    /// Reads `path` (a missing file is an empty document). Fails on a file that is not UTF-8;
    /// a file the AWS CLI cannot parse opens, but edits of it are refused.
    pub fn open(path: &Path) -> Result<EditableFile, EditError> {
        let target = resolve_links(path).map_err(|error| EditError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let original = read_target(path, &target)?;
        let text = match &original {
            None => String::new(),
            Some(bytes) => String::from_utf8(bytes.clone()).map_err(|_| EditError::NotUtf8 {
                path: path.to_path_buf(),
            })?,
        };
        Ok(EditableFile {
            path: path.to_path_buf(),
            doc: Document::parse(path, &text),
            target,
            original,
        })
    }

    /// [`open`](Self::open), refusing at once a file the AWS CLI cannot parse (every command
    /// that is about to edit wants that; only tests look inside such a file).
    pub fn open_parsed(path: &Path) -> Result<EditableFile, EditError> {
        let file = EditableFile::open(path)?;
        if let Some(problem) = file.doc.problem() {
            return Err(EditError::Unreadable {
                path: path.to_path_buf(),
                source: crate::awsconfig::LoadError::Parse(problem.clone()),
            });
        }
        Ok(file)
    }

    /// Whether the file existed when it was read.
    pub fn existed(&self) -> bool {
        self.original.is_some()
    }

    /// The text as read.
    pub fn original_text(&self) -> &str {
        self.original
            .as_deref()
            .map(|b| std::str::from_utf8(b).unwrap_or_default())
            .unwrap_or_default()
    }

    /// Whether the document differs from the file as read.
    pub fn is_changed(&self) -> bool {
        self.doc.render() != self.original_text()
    }

    /// A unified diff (2 lines of context) from the file as read to the document, with control
    /// characters made visible; empty when nothing changed.
    pub fn diff(&self) -> String {
        let old = self.original_text();
        let new = self.doc.render();
        if old == new {
            return String::new();
        }
        let diff = similar::TextDiff::from_lines(old, new.as_str());
        let path = self.path.display();
        let mut out = format!("--- {path}\n+++ {path} (after portico)\n");
        for group in diff.grouped_ops(2) {
            let (first, last) = (&group[0], &group[group.len() - 1]);
            let old_range = first.old_range().start..last.old_range().end;
            let new_range = first.new_range().start..last.new_range().end;
            // An empty range is numbered by the line before it, as in `diff -u`.
            let start = |r: &std::ops::Range<usize>| r.start + usize::from(!r.is_empty());
            out.push_str(&format!(
                "@@ -{},{} +{},{} @@\n",
                start(&old_range),
                old_range.len(),
                start(&new_range),
                new_range.len()
            ));
            for op in &group {
                for change in diff.iter_changes(op) {
                    let sign = match change.tag() {
                        similar::ChangeTag::Delete => '-',
                        similar::ChangeTag::Insert => '+',
                        similar::ChangeTag::Equal => ' ',
                    };
                    let line = change.value();
                    let text = line.trim_end_matches('\n').trim_end_matches('\r');
                    out.push(sign);
                    out.push_str(&visible(text));
                    if !line.ends_with('\n') {
                        out.push_str("  (no newline at end of file)");
                    }
                    out.push('\n');
                }
            }
        }
        out
    }

    /// Writes the document if it changed (see the module doc for how). `lock_dir` holds the
    /// lock that serialises portico processes writing the same file.
    pub fn save(&self, lock_dir: &Path) -> Result<Saved, EditError> {
        let new = self.doc.render();
        if self.original.as_deref() == Some(new.as_bytes()) {
            return Ok(Saved::Unchanged);
        }
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |error| EditError::Write { path, error }
        };
        let _lock = crate::cache::lock::acquire(lock_dir, &self.target.to_string_lossy(), || {
            crate::notice!(
                "waiting for another portico writing {}",
                self.path.display()
            )
        })
        .map_err(write_err(lock_dir))?;
        let now = read_target(&self.path, &self.target)?;
        if now != self.original {
            return Err(EditError::Changed {
                path: self.path.clone(),
            });
        }
        let dir = match self.target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.exists() && self.target != self.path {
            // A link whose target's directory is missing: creating directories where a link
            // points is the dotfile manager's business, not portico's.
            return Err(EditError::LinkTargetDirMissing {
                path: self.path.clone(),
                target: self.target.clone(),
            });
        }
        if dir.exists() {
            remove_stale_temporaries(&dir, &self.target, std::time::SystemTime::now());
        } else {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            builder.mode(0o700);
            builder.create(&dir).map_err(write_err(&dir))?;
        }
        let mode = existing_mode(&self.target);
        let backup = match &self.original {
            Some(old) => {
                let backup = backup_path(&self.target);
                replace_file(&backup, old, mode).map_err(write_err(&backup))?;
                Some(backup)
            }
            None => None,
        };
        replace_file(&self.target, new.as_bytes(), mode).map_err(write_err(&self.path))?;
        crate::info!("wrote {}", self.path.display());
        Ok(Saved::Written { backup })
    }
}

/// The bytes of `target` (what `path` points to), refusing anything but a regular file.
fn read_target(path: &Path, target: &Path) -> Result<Option<Vec<u8>>, EditError> {
    use crate::awsconfig::FileProblem;
    crate::awsconfig::read_regular(target).map_err(|problem| match problem {
        FileProblem::NotAFile(what) => EditError::NotAFile {
            path: path.to_path_buf(),
            what,
        },
        FileProblem::Io(error) => EditError::Read {
            path: path.to_path_buf(),
            error,
        },
    })
}

/// Where the bytes of `path` live: the path itself, or the file at the end of its chain of
/// symbolic links — also when that file does not exist yet (a dotfile manager's link made
/// before its target), so that a write creates the target and the link stays a link.
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    match fs::canonicalize(path) {
        Ok(real) => return Ok(real),
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let mut current = path.to_path_buf();
    // As many links as Linux follows before ELOOP.
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let next = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(
        "too many levels of symbolic links (a link that points to itself?)",
    ))
}

/// How old a temporary file must be before a later write takes it for the leftover of a killed
/// one. A write holds the lock for milliseconds; a minute leaves a wide margin.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Deletes temporary files of portico's own naming for `target` (`.NAME.XXXXXX.portico-tmp`
/// and `.NAME.portico-backup.XXXXXX.portico-tmp`) that a killed write left behind. Called
/// with the write lock held, so no live write of this file owns one; only files older than
/// [`STALE_AFTER`] are taken in case another program holds the same name. Failures are ignored:
/// a leftover is untidy, not harmful.
fn remove_stale_temporaries(dir: &Path, target: &Path, now: std::time::SystemTime) {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(file) = file.to_str() else {
            continue;
        };
        if !is_our_temporary(file, &name) {
            continue;
        }
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age >= STALE_AFTER);
        if meta.is_file() && old && fs::remove_file(entry.path()).is_ok() {
            crate::info!(
                "removed {}, left by an interrupted write",
                dir.join(file).display()
            );
        }
    }
}

/// Whether `file` is a name [`replace_file`] gives temporary files for `name` or its backup.
fn is_our_temporary(file: &str, name: &str) -> bool {
    let Some(middle) = file
        .strip_prefix('.')
        .and_then(|f| f.strip_prefix(name))
        .and_then(|f| f.strip_prefix('.'))
        .and_then(|f| f.strip_suffix(".portico-tmp"))
    else {
        return false;
    };
    let random = middle.strip_prefix("portico-backup.").unwrap_or(middle);
    random.len() == TEMP_RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Length of the random part of temporary names (set explicitly, so the cleanup can rely on it).
const TEMP_RANDOM_LEN: usize = 6;

/// The permission bits of `path`, or 0600 when it does not exist.
fn existing_mode(path: &Path) -> u32 {
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(path) {
        return meta.permissions().mode() & 0o7777;
    }
    let _ = path;
    0o600
}

/// Replaces `path` with `bytes` through a temporary file in the same directory.
fn replace_file(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .rand_bytes(TEMP_RANDOM_LEN)
        .prefix(&format!(".{name}."))
        .suffix(".portico-tmp")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable; not every platform lets a directory be synced.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Control characters (other than tab, shown as a space) made harmless for a terminal.
fn visible(text: &str) -> String {
    crate::sanitize::for_terminal(&text.replace('\t', "    "))
}

#[cfg(test)]
mod tests {
    use super::super::SectionId;
    use super::*;

    fn open(dir: &Path, text: Option<&str>) -> (PathBuf, EditableFile) {
        let path = dir.join("config");
        if let Some(text) = text {
            fs::write(&path, text).unwrap();
        }
        let file = EditableFile::open(&path).unwrap();
        (path, file)
    }

    #[test]
    fn writes_keep_mode_and_leave_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let locks = dir.path().join("locks");
        let (path, mut file) = open(dir.path(), Some("[default]\nregion = x\n"));
        #[cfg(unix)]
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        file.doc
            .upsert(&SectionId::profile("default"), &[("region", "y")], &[])
            .unwrap();
        assert!(
            file.diff().contains("-region = x\n+region = y\n"),
            "{}",
            file.diff()
        );
        let saved = file.save(&locks).unwrap();
        assert_eq!(
            saved,
            Saved::Written {
                backup: Some(backup_path(&fs::canonicalize(&path).unwrap()))
            }
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[default]\nregion = y\n"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("config.portico-backup")).unwrap(),
            "[default]\nregion = x\n"
        );
        #[cfg(unix)]
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // Nothing left behind but the file and its backup (and the lock directory).
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["config", "config.portico-backup", "locks"]);
    }

    #[test]
    fn new_file_is_private_in_a_new_private_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aws").join("config");
        let mut file = EditableFile::open(&path).unwrap();
        assert!(!file.existed());
        file.doc
            .upsert(
                &SectionId::sso_session("corp"),
                &[("sso_region", "eu-central-1")],
                &[],
            )
            .unwrap();
        assert_eq!(
            file.save(&dir.path().join("locks")).unwrap(),
            Saved::Written { backup: None }
        );
        #[cfg(unix)]
        {
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            let d = fs::metadata(path.parent().unwrap()).unwrap();
            assert_eq!(d.permissions().mode() & 0o777, 0o700);
        }
    }

    #[test]
    fn refuses_when_the_file_changed_since_it_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut file) = open(dir.path(), Some("[default]\nregion = x\n"));
        file.doc
            .upsert(&SectionId::profile("a"), &[("region", "y")], &[])
            .unwrap();
        fs::write(&path, "[default]\nregion = z\n").unwrap();
        let err = file.save(&dir.path().join("locks")).unwrap_err();
        assert!(matches!(err, EditError::Changed { .. }));
        assert!(err.to_string().contains("re-run"), "{err}");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[default]\nregion = z\n"
        );
        assert!(!backup_path(&path).exists());
    }

    #[test]
    fn unchanged_documents_are_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut file) = open(dir.path(), Some("[default]\nregion = x"));
        file.doc
            .upsert(&SectionId::profile("default"), &[("region", "x")], &[])
            .unwrap();
        assert!(!file.is_changed());
        assert_eq!(file.diff(), "");
        assert_eq!(
            file.save(&dir.path().join("locks")).unwrap(),
            Saved::Unchanged
        );
        assert!(!backup_path(&path).exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_config_is_written_through_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-config");
        fs::write(&real, "[default]\n").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut file = EditableFile::open(&link).unwrap();
        file.doc
            .upsert(&SectionId::profile("default"), &[("region", "x")], &[])
            .unwrap();
        file.save(&dir.path().join("locks")).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_to_string(&real).unwrap(),
            "[default]\nregion = x\n"
        );
        assert!(dir.path().join("dotfiles-config.portico-backup").exists());
    }

    #[test]
    fn non_utf8_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, b"[default]\nregion = \xff\n").unwrap();
        assert!(matches!(
            EditableFile::open(&path),
            Err(EditError::NotUtf8 { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_gets_its_target_created_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles").join("aws-config");
        fs::create_dir(dir.path().join("dotfiles")).unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink("dotfiles/aws-config", &link).unwrap();
        let mut file = EditableFile::open(&link).unwrap();
        assert!(!file.existed());
        file.doc
            .upsert(&SectionId::profile("default"), &[("region", "x")], &[])
            .unwrap();
        file.save(&dir.path().join("locks")).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_to_string(&real).unwrap(),
            "[default]\nregion = x\n"
        );
        #[cfg(unix)]
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_into_a_missing_directory_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(dir.path().join("nowhere/config"), &link).unwrap();
        let mut file = EditableFile::open(&link).unwrap();
        file.doc
            .upsert(&SectionId::profile("default"), &[("region", "x")], &[])
            .unwrap();
        let err = file.save(&dir.path().join("locks")).unwrap_err();
        assert!(
            matches!(err, EditError::LinkTargetDirMissing { .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("whose directory does not exist"),
            "{err}"
        );
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(!dir.path().join("nowhere").exists());
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_directories_are_refused_before_they_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = EditableFile::open(&fifo).unwrap_err();
            assert!(matches!(err, EditError::NotAFile { .. }), "{err}");
        }
        let err = EditableFile::open(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("is a directory, not a file"),
            "{err}"
        );
    }

    #[test]
    fn stale_temporaries_of_a_killed_write_are_removed_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut file) = open(dir.path(), Some("[default]\n"));
        let left = [
            ".config.a1B2c3.portico-tmp",
            ".config.portico-backup.Zz9yY8.portico-tmp",
        ];
        let others = [
            ".config.x.a1B2c3.portico-tmp",
            ".other.a1B2c3.portico-tmp",
            "config.a1B2c3.portico-tmp",
            ".config.toolong1.portico-tmp",
        ];
        for name in left.iter().chain(&others) {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for name in left.iter().chain(&others) {
            fs::File::options()
                .write(true)
                .open(dir.path().join(name))
                .unwrap()
                .set_modified(an_hour_ago)
                .unwrap();
        }
        fs::write(dir.path().join(".config.Fresh1.portico-tmp"), "x").unwrap();
        file.doc
            .upsert(&SectionId::profile("default"), &[("region", "x")], &[])
            .unwrap();
        file.save(&dir.path().join("locks")).unwrap();
        for name in left {
            assert!(!dir.path().join(name).exists(), "{name} was left");
        }
        for name in others.iter().chain(&[".config.Fresh1.portico-tmp"]) {
            assert!(dir.path().join(name).exists(), "{name} was removed");
        }
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[default]\nregion = x\n"
        );
    }
}
