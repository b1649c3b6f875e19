//! The `cache-permissions` check: the token cache and portico's credential cache are private
//! (directories 0700, files 0600).

use std::path::{Path, PathBuf};

use super::{Check, Report, Status};
use crate::output::shell::quote as shell_word;
use crate::settings::Environment;

/// Permission bits other than the owner's.
fn open_to_others(mode: u32) -> bool {
    mode & 0o077 != 0
}

pub(super) fn check_cache_permissions(env: &Environment, report: &mut Report) {
    // The AWS CLI creates ~/.aws/sso/cache with the umask (0755) and its files 0600: others can
    // list the hashed file names but read nothing, so an open folder there is a warning. The
    // folders portico creates are 0700, and anything else there is a failure.
    let mut dirs: Vec<(PathBuf, &str, Status)> = Vec::new();
    if let Ok(dir) = env.sso_cache_dir() {
        dirs.push((dir, "sign-in tokens", Status::Warn));
    }
    if let Ok(dir) = env.portico_cache_dir() {
        dirs.push((dir.join("credentials"), "role credentials", Status::Fail));
    }
    for (dir, what, open_dir) in dirs {
        check_private_dir(&dir, what, open_dir, report);
    }
}

/// Checks that `dir` and its files are open to the user only; `open_dir` is the verdict for a
/// folder others can list (its files are judged on their own).
#[cfg(unix)]
fn check_private_dir(dir: &Path, what: &str, open_dir: Status, report: &mut Report) {
    use std::os::unix::fs::PermissionsExt;
    let shown = dir.display();
    let mode = match std::fs::metadata(dir) {
        Ok(meta) => meta.permissions().mode() & 0o777,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.pass(
                Check::CachePermissions,
                format!("{shown} ({what}) does not exist yet; portico creates it 0700"),
            );
            return;
        }
        Err(e) => {
            report.add(
                Check::CachePermissions,
                Status::Warn,
                format!("cannot read {shown}: {e}"),
                Some(format!("check the ownership of {shown}")),
            );
            return;
        }
    };
    let mut problems = false;
    if open_to_others(mode) {
        problems = true;
        let consequence = if open_dir == Status::Fail {
            "other users on this machine can look into it"
        } else {
            "other users on this machine can list its (hashed) file names; the AWS CLI creates it so"
        };
        report.add(
            Check::CachePermissions,
            open_dir,
            format!("{shown} ({what}) is mode {mode:04o}: {consequence}"),
            Some(format!("chmod 700 {}", shell_word(&dir.to_string_lossy()))),
        );
    }
    let mut open_files: Vec<(PathBuf, u32)> = Vec::new();
    let mut files = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            files += 1;
            let mode = meta.permissions().mode() & 0o777;
            if open_to_others(mode) {
                open_files.push((entry.path(), mode));
            }
        }
    }
    open_files.sort();
    if !open_files.is_empty() {
        problems = true;
        let listed: Vec<String> = open_files
            .iter()
            .take(3)
            .map(|(p, m)| format!("{} ({m:04o})", p.display()))
            .collect();
        let more = if open_files.len() > 3 {
            format!(" and {} more", open_files.len() - 3)
        } else {
            String::new()
        };
        let fix = if open_files.len() <= 3 {
            let quoted: Vec<String> = open_files
                .iter()
                .map(|(p, _)| shell_word(&p.to_string_lossy()))
                .collect();
            format!("chmod 600 {}", quoted.join(" "))
        } else {
            format!(
                "find {} -type f -exec chmod 600 {{}} +",
                shell_word(&dir.to_string_lossy())
            )
        };
        report.add(
            Check::CachePermissions,
            Status::Fail,
            format!(
                "{} file{} with {what} can be read by other users: {}{more}",
                open_files.len(),
                if open_files.len() == 1 { "" } else { "s" },
                listed.join(", ")
            ),
            Some(fix),
        );
    }
    if !problems {
        report.pass(
            Check::CachePermissions,
            format!(
                "{shown} ({what}) and its {files} file{} are open to you only",
                if files == 1 { "" } else { "s" }
            ),
        );
    }
}

#[cfg(not(unix))]
fn check_private_dir(_dir: &Path, _what: &str, _open_dir: Status, _report: &mut Report) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_open_to_others() {
        assert!(!open_to_others(0o600));
        assert!(!open_to_others(0o700));
        assert!(open_to_others(0o644));
        assert!(open_to_others(0o750));
    }
}
