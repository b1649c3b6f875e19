//! The AWS CLI's own cache of role credentials (`~/.aws/cli/cache/*.json`), which portico never
//! reads but must clear on a sign-out: the AWS CLI, boto3 and aws-sso-util hand out the keys
//! they cached there until those expire, whether the sign-in still exists or not.
//!
//! `aws sso logout` deletes every file there whose `ProviderType` is `sso` (awscli
//! `customizations/sso/logout.py`, `SSOCredentialSweeper`); the files do not record which
//! sso-session they came from, so a sign-out of any session clears all of them, as the AWS CLI
//! does. Files of other providers (assume-role, web identity) are left alone.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::cache::files::remove_where;

/// A cache file larger than this is not one the AWS CLI wrote (they are about 1 KB).
const MAX_FILE: u64 = 64 * 1024;

/// `~/.aws/cli/cache` under `aws_dir` (`~/.aws`). The AWS CLI does not move it with
/// `AWS_CONFIG_FILE`.
pub fn cli_cache_dir(aws_dir: &Path) -> PathBuf {
    aws_dir.join("cli").join("cache")
}

/// Deletes the AWS CLI's cached Identity Center role credentials in `dir`, as `aws sso logout`
/// does. Returns the files removed; a missing directory is nothing to do. Files that cannot be
/// read as JSON are not the AWS CLI's and are left alone.
pub fn remove_sso_role_credentials(dir: &Path) -> io::Result<Vec<PathBuf>> {
    remove_where(dir, is_sso_role_credentials)
}

/// Whether `path` is a regular file holding `{"ProviderType": "sso", …}`. Links, FIFOs and
/// large files are never opened.
fn is_sso_role_credentials(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.is_file() || meta.len() > MAX_FILE {
        return false;
    }
    let mut bytes = Vec::new();
    let read = fs::File::open(path).and_then(|f| f.take(MAX_FILE).read_to_end(&mut bytes));
    if read.is_err() {
        return false;
    }
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|doc| doc.get("ProviderType")?.as_str().map(|t| t == "sso"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_only_sso_role_credentials() {
        let root = tempfile::tempdir().unwrap();
        let dir = cli_cache_dir(root.path());
        assert!(remove_sso_role_credentials(&dir).unwrap().is_empty());
        fs::create_dir_all(&dir).unwrap();
        let sso = dir.join("a.json");
        fs::write(
            &sso,
            r#"{"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIA"}}"#,
        )
        .unwrap();
        let assume = dir.join("b.json");
        fs::write(&assume, r#"{"Credentials": {"AccessKeyId": "ASIA"}}"#).unwrap();
        let other = dir.join("c.json");
        fs::write(&other, r#"{"ProviderType": "assume-role"}"#).unwrap();
        let junk = dir.join("d.json");
        fs::write(&junk, "not json").unwrap();
        assert_eq!(
            remove_sso_role_credentials(&dir).unwrap(),
            vec![sso.clone()]
        );
        assert!(!sso.exists());
        for kept in [assume, other, junk] {
            assert!(kept.exists(), "{}", kept.display());
        }
    }
}
