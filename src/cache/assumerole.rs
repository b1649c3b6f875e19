//! The AWS CLI's assume-role cache (`~/.aws/cli/cache/{key}.json`, docs/protocol.md "Role
//! chaining"), read and written by portico so that a chained role assumed by either tool is not
//! assumed again by the other while its keys last.
//!
//! The key is botocore's (`BaseAssumeRoleCredentialFetcher._create_cache_key`): the AssumeRole
//! arguments the profile configures — `RoleArn`, `RoleSessionName` (only when configured),
//! `ExternalId`, `SerialNumber`, `DurationSeconds` — as Python's `json.dumps(args,
//! sort_keys=True)`, SHA-1 hex, with `:` and `/` made `_`. The file holds the AssumeRole
//! response with `Credentials.Expiration` as botocore's `JSONFileCache` writes a datetime
//! (`strftime('%Y-%m-%dT%H:%M:%S%Z')`: `2026-12-06T12:00:00UTC`).
//!
//! Beside portico's role-credential cache, an index (`chained/{key}.json`) records which sign-in
//! each chained key file was derived from, so that signing out of it deletes them (the AWS CLI's
//! files do not say where their keys came from).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cache::files::{remove_if_exists, remove_where, sha1_hex, write_private};
use crate::model::RoleCredentials;
use crate::secret::Secret;

/// A cache file larger than this is not one the AWS CLI or portico wrote.
const MAX_FILE: u64 = 64 * 1024;

/// The AssumeRole arguments that make botocore's cache key: only those the profile sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyArgs<'a> {
    pub role_arn: &'a str,
    pub role_session_name: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub serial_number: Option<&'a str>,
    pub duration_seconds: Option<i64>,
}

/// botocore's cache key for `args` (the file name without `.json`).
pub fn cache_key(args: &KeyArgs) -> String {
    // sort_keys=True: the names in byte order, which these five already are.
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some(d) = args.duration_seconds {
        fields.push(("DurationSeconds", d.to_string()));
    }
    if let Some(v) = args.external_id {
        fields.push(("ExternalId", super::token::python_json_str(v)));
    }
    fields.push(("RoleArn", super::token::python_json_str(args.role_arn)));
    if let Some(v) = args.role_session_name {
        fields.push(("RoleSessionName", super::token::python_json_str(v)));
    }
    if let Some(v) = args.serial_number {
        fields.push(("SerialNumber", super::token::python_json_str(v)));
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("\"{name}\": {value}"))
        .collect();
    let text = format!("{{{}}}", body.join(", "));
    sha1_hex(&text).replace([':', '/', std::path::MAIN_SEPARATOR], "_")
}

/// The AssumeRole answer as the cache keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assumed {
    pub creds: RoleCredentials,
    /// `AssumedRoleUser`: `AROA…:{session}` and `arn:aws:sts::{acct}:assumed-role/{role}/{session}`.
    pub assumed_role_id: String,
    pub arn: String,
    pub request_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FileCredentials {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Secret,
    expiration: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FileUser {
    assumed_role_id: String,
    arn: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FileDoc {
    credentials: FileCredentials,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assumed_role_user: Option<FileUser>,
    #[serde(
        default,
        rename = "ResponseMetadata",
        skip_serializing_if = "Option::is_none"
    )]
    response_metadata: Option<serde_json::Value>,
}

/// The AWS CLI's assume-role cache in one directory (`~/.aws/cli/cache`).
#[derive(Debug, Clone)]
pub struct AssumeRoleCache {
    dir: PathBuf,
}

impl AssumeRoleCache {
    pub fn new(dir: impl Into<PathBuf>) -> AssumeRoleCache {
        AssumeRoleCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The keys filed under `key` with more than `margin` left at `now`; `account_id` when the
    /// file has none (older botocore). A missing, foreign, corrupt or expiring file is a miss.
    pub fn load(
        &self,
        key: &str,
        account_id: &str,
        now: OffsetDateTime,
        margin: time::Duration,
    ) -> Option<RoleCredentials> {
        let path = self.path(key);
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return None;
        }
        let mut bytes = Vec::new();
        fs::File::open(&path)
            .and_then(|f| f.take(MAX_FILE).read_to_end(&mut bytes))
            .ok()?;
        let doc: FileDoc = serde_json::from_slice(&bytes).ok()?;
        let expiration = parse_expiration(&doc.credentials.expiration)?;
        let creds = RoleCredentials {
            access_key_id: doc.credentials.access_key_id,
            secret_access_key: doc.credentials.secret_access_key,
            session_token: doc.credentials.session_token,
            expiration,
            account_id: doc
                .credentials
                .account_id
                .unwrap_or_else(|| account_id.to_string()),
        };
        (creds.remaining(now) > margin).then_some(creds)
    }

    /// Files `assumed` under `key` as the AWS CLI does (0600, atomically).
    pub fn store(&self, key: &str, assumed: &Assumed) -> io::Result<PathBuf> {
        let doc = FileDoc {
            credentials: FileCredentials {
                access_key_id: assumed.creds.access_key_id.clone(),
                secret_access_key: assumed.creds.secret_access_key.clone(),
                session_token: assumed.creds.session_token.clone(),
                expiration: botocore_time(assumed.creds.expiration),
                account_id: Some(assumed.creds.account_id.clone()),
            },
            assumed_role_user: Some(FileUser {
                assumed_role_id: assumed.assumed_role_id.clone(),
                arn: assumed.arn.clone(),
            }),
            response_metadata: Some(serde_json::json!({
                "RequestId": assumed.request_id.clone().unwrap_or_default(),
                "HTTPStatusCode": 200,
                "HTTPHeaders": {},
                "RetryAttempts": 0,
            })),
        };
        let path = self.path(key);
        write_private(&path, &serde_json::to_vec(&doc)?)?;
        Ok(path)
    }

    pub fn remove(&self, key: &str) -> io::Result<bool> {
        remove_if_exists(&self.path(key))
    }
}

/// `2026-12-06T12:00:00UTC`, as botocore's JSONFileCache writes an aware UTC datetime.
fn botocore_time(t: OffsetDateTime) -> String {
    let z = crate::timefmt::rfc3339_z(t);
    format!("{}UTC", z.trim_end_matches('Z'))
}

/// `Expiration` as botocore (dateutil) reads it: `…UTC`, `…Z`, `…+00:00`, with or without
/// fractional seconds.
fn parse_expiration(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    let normal = match text
        .strip_suffix("UTC")
        .or_else(|| text.strip_suffix("GMT"))
    {
        Some(rest) => format!("{rest}Z"),
        None => text.to_string(),
    };
    OffsetDateTime::parse(&normal, &Rfc3339).ok()
}

/// Which sign-in a chained key file was derived from, kept in portico's cache
/// (`{portico cache}/chained/{key}.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Derived {
    /// The cache key of the sign-in at the bottom of the chain.
    sign_in: String,
    /// The AWS CLI cache file written.
    file: PathBuf,
}

/// portico's index of the chained key files it wrote, by the sign-in they came from.
#[derive(Debug, Clone)]
pub struct DerivedIndex {
    dir: PathBuf,
}

impl DerivedIndex {
    /// The index under portico's cache directory.
    pub fn under(cache_root: &Path) -> DerivedIndex {
        DerivedIndex {
            dir: cache_root.join("chained"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records that `file` (filed under `key`) was derived from the sign-in `sign_in`.
    pub fn record(&self, key: &str, sign_in: &str, file: &Path) -> io::Result<()> {
        let entry = Derived {
            sign_in: sign_in.to_string(),
            file: file.to_path_buf(),
        };
        write_private(
            &self.dir.join(format!("{key}.json")),
            &serde_json::to_vec(&entry)?,
        )
    }

    /// Deletes the chained key files derived from `sign_in`, and their index entries. Returns
    /// the key files deleted.
    pub fn remove_derived(&self, sign_in: &str) -> io::Result<Vec<PathBuf>> {
        let mut gone = Vec::new();
        let entries = remove_where(&self.dir, |path| {
            let Ok(bytes) = fs::read(path) else {
                return false;
            };
            match serde_json::from_slice::<Derived>(&bytes) {
                Ok(entry) if entry.sign_in == sign_in => {
                    if let Ok(true) = remove_if_exists(&entry.file) {
                        crate::debug!("deleted {}", entry.file.display());
                    }
                    true
                }
                _ => false,
            }
        })?;
        for entry in entries {
            if let Some(stem) = entry.file_stem() {
                gone.push(PathBuf::from(stem));
            }
        }
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_botocores() {
        // python3 -c 'import json,hashlib;print(hashlib.sha1(json.dumps({"RoleArn":
        // "arn:aws:iam::444455556666:role/Deploy"}, sort_keys=True).encode()).hexdigest())'
        let only_arn = KeyArgs {
            role_arn: "arn:aws:iam::444455556666:role/Deploy",
            ..KeyArgs::default()
        };
        assert_eq!(
            cache_key(&only_arn),
            sha1_hex("{\"RoleArn\": \"arn:aws:iam::444455556666:role/Deploy\"}")
        );
        let all = KeyArgs {
            role_arn: "arn:aws:iam::444455556666:role/Deploy",
            role_session_name: Some("alice"),
            external_id: Some("k7-é"),
            serial_number: Some("arn:aws:iam::111122223333:mfa/alice"),
            duration_seconds: Some(3600),
        };
        assert_eq!(
            cache_key(&all),
            sha1_hex("{\"DurationSeconds\": 3600, \"ExternalId\": \"k7-\\u00e9\", \"RoleArn\": \"arn:aws:iam::444455556666:role/Deploy\", \"RoleSessionName\": \"alice\", \"SerialNumber\": \"arn:aws:iam::111122223333:mfa/alice\"}")
        );
    }

    #[test]
    fn reads_what_botocore_writes_and_writes_what_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AssumeRoleCache::new(dir.path().join("cli/cache"));
        std::fs::create_dir_all(cache.dir()).unwrap();
        let now = OffsetDateTime::now_utc();
        let later = now + time::Duration::hours(1);
        let botocore = format!(
            "{{\"Credentials\": {{\"AccessKeyId\": \"ASIAEXAMPLE\", \"SecretAccessKey\": \"s\", \"SessionToken\": \"t\", \"Expiration\": \"{}\"}}, \"AssumedRoleUser\": {{\"AssumedRoleId\": \"AROA:x\", \"Arn\": \"arn:aws:sts::444455556666:assumed-role/Deploy/x\"}}}}",
            botocore_time(later)
        );
        std::fs::write(cache.path("k"), botocore).unwrap();
        let creds = cache
            .load("k", "444455556666", now, time::Duration::minutes(15))
            .expect("read");
        assert_eq!(creds.access_key_id, "ASIAEXAMPLE");
        assert_eq!(creds.account_id, "444455556666");
        // Under 15 minutes left: a miss, as for botocore.
        assert!(cache
            .load(
                "k",
                "444455556666",
                later - time::Duration::minutes(14),
                time::Duration::minutes(15)
            )
            .is_none());
        let assumed = Assumed {
            creds: creds.clone(),
            assumed_role_id: "AROA:x".into(),
            arn: "arn:aws:sts::444455556666:assumed-role/Deploy/x".into(),
            request_id: None,
        };
        let path = cache.store("w", &assumed).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(&format!("\"Expiration\":\"{}\"", botocore_time(later))),
            "{text}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let index = DerivedIndex::under(dir.path());
        index.record("w", "corp", &path).unwrap();
        index
            .record("other", "elsewhere", &cache.path("other"))
            .unwrap();
        assert_eq!(index.remove_derived("corp").unwrap().len(), 1);
        assert!(!path.exists());
    }
}
