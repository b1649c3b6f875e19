//! The SSO token cache shared with the AWS CLI and SDKs (`~/.aws/sso/cache/{sha1(key)}.json`)
//! and the client-registration cache beside it, byte-compatible with what botocore writes and
//! reads (docs/protocol.md §3). Fields portico does not know are kept when it rewrites a file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::cache::files::{remove_if_exists, sha1_hex, write_private};
use crate::cache::secrets::{self, SplitError, TOKEN_SECRETS};
use crate::model::{SsoSession, Storage};
use crate::secret::Secret;
use crate::vault::VaultError;

/// Refresh when less than this is left on the access token (botocore's window).
pub const REFRESH_WINDOW: Duration = Duration::minutes(15);
/// A cached client registration is reused only with more than this left.
pub const REGISTRATION_MARGIN: Duration = Duration::minutes(15);

/// One token file as the AWS CLI writes it. Only `accessToken` and `expiresAt` are required.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub access_token: Secret,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Fields written by other tools, kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl TokenFile {
    /// When the access token expires; `None` if the file's timestamp cannot be read.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        parse_time(&self.expires_at)
    }

    /// Whether the access token is still usable at `now`.
    pub fn is_valid(&self, now: OffsetDateTime) -> bool {
        self.expires_at().is_some_and(|t| t > now)
    }

    /// Whether this is a keyring session's token read without its keyring item
    /// ([`TokenCache::load_token_facts`]): its secrets are empty placeholders.
    pub fn facts_only(&self) -> bool {
        self.extra.contains_key(secrets::MARK)
    }

    /// Whether the token is valid with more than the refresh window left.
    pub fn is_fresh(&self, now: OffsetDateTime) -> bool {
        self.expires_at().is_some_and(|t| t - now > REFRESH_WINDOW)
    }

    /// Why the token cannot be refreshed, or `None` if it can (botocore's conditions).
    pub fn refresh_blocker(&self, now: OffsetDateTime) -> Option<&'static str> {
        if self.refresh_token.is_none() {
            return Some("it has no refresh token");
        }
        if self.client_id.is_none() || self.client_secret.is_none() {
            return Some("it has no client registration");
        }
        match self.registration_expires_at.as_deref().and_then(parse_time) {
            Some(t) if t > now => None,
            Some(_) => Some("its client registration expired"),
            None => Some("its client registration has no expiry"),
        }
    }
}

/// A client registration as the AWS CLI caches it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub client_id: String,
    pub client_secret: Secret,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Registration {
    /// Whether it has more than [`REGISTRATION_MARGIN`] left: long enough for the tool that
    /// made it to reuse it (the AWS CLI's own rule).
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        parse_time(&self.expires_at).is_some_and(|t| t - now > REGISTRATION_MARGIN)
    }

    /// Usable for a flow that needs `grants` and `scopes`, with enough time left.
    pub fn usable_for(&self, grants: &[&str], scopes: &[String], now: OffsetDateTime) -> bool {
        let time_ok = self.is_live(now);
        let grants_ok = match &self.grant_types {
            Some(have) => grants.iter().all(|g| have.iter().any(|h| h == g)),
            // A registration without grant types is the AWS CLI's device-flow one: the service
            // gives such a client the device code and refresh tokens.
            None => grants.iter().all(|g| {
                *g == crate::consts::GRANT_DEVICE_CODE || *g == crate::consts::GRANT_REFRESH_TOKEN
            }),
        };
        // Without the scopes it asks for, a client gets no refresh token (sso:account:access).
        let have = self.scopes.as_deref().unwrap_or_default();
        let scopes_ok = scopes.iter().all(|s| have.contains(s));
        time_ok && grants_ok && scopes_ok
    }
}

/// Where the token and registration files of one session live: the AWS CLI's folder for a
/// session with `file` storage; for one whose secrets are in a keyring, `facts` (in portico's
/// own cache), holding the files without their secrets — nothing of such a session is written
/// under `~/.aws/sso/cache`.
#[derive(Debug, Clone)]
pub struct TokenCache {
    dir: PathBuf,
    facts: PathBuf,
}

/// A cache file that exists but cannot be read as a token.
///
/// The OS error is part of the message and deliberately not the error's `source`: a chain
/// printed with `{:#}` would say it twice ("Is a directory (os error 21): Is a directory …").
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot read {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not a valid token file ({problem}); run `portico login` to replace it", path.display())]
    Corrupt { path: PathBuf, problem: String },
    /// The token's path is a directory (or another non-file): no sign-in can be written there
    /// until it is moved away.
    #[error("{} is a directory, not a token file; move it away or delete it, then run `portico login`", path.display())]
    NotAFile { path: PathBuf },
    /// The file holds a token another tool (an IDE toolkit) wrote, whose `scopes` do not cover
    /// the session's: not used, not overwritten ([`crate::cache::scopes`]).
    #[error("{} holds another tool's token for {label} (scopes {}, without {}: an IDE toolkit such as the AWS Toolkit signed in under the same name); portico neither uses nor replaces it: give this session its own name in the AWS config (another [sso-session NAME]), or run `portico login --force` to replace that token", path.display(), crate::sanitize::for_terminal(&have.join(" ")), needed.join(" "))]
    ForeignScopes {
        path: PathBuf,
        label: String,
        have: Vec<String>,
        needed: Vec<String>,
    },
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The keyring that `portico_storage` names cannot be used (locked, missing, silent).
    #[error(transparent)]
    Keyring(#[from] VaultError),
}

impl TokenCache {
    pub fn new(dir: PathBuf) -> TokenCache {
        TokenCache {
            facts: dir.clone(),
            dir,
        }
    }

    /// The cache with the files of keyring sessions in `facts` instead of `dir`.
    pub fn with_facts_dir(self, facts: PathBuf) -> TokenCache {
        TokenCache { facts, ..self }
    }

    /// The folder of `session`'s files.
    fn dir_for(&self, storage: Storage) -> &Path {
        match storage {
            Storage::File => &self.dir,
            _ => &self.facts,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `{dir}/{sha1(cache_key)}.json`.
    pub fn token_path(&self, session: &SsoSession) -> PathBuf {
        self.dir_for(session.storage)
            .join(format!("{}.json", sha1_hex(session.cache_key())))
    }

    /// Whether the session has a token file (one `stat`; the warm path's sign-in check): where
    /// its storage keeps it, or where the previous storage left it (moved here and now), so
    /// that changing `portico_storage` does not count as a sign-out.
    pub fn has_token(&self, session: &SsoSession) -> bool {
        use crate::cache::rolecreds::signed_in;
        if signed_in(&self.token_path(session)) {
            return true;
        }
        if self.dir == self.facts || !signed_in(&self.other_token_path(session)) {
            return false;
        }
        // Left where the previous storage kept it: moved now, so that the keys handed out
        // next stand on a token where the session's storage says.
        match self.load_token(session) {
            Ok(token) => token.is_some(),
            Err(e) => {
                crate::debug!("moving the token of {}: {e}", session.label());
                // Reading it again will say what is wrong.
                true
            }
        }
    }

    /// Where the token would be with the other kind of storage (file ↔ keyring), for moving it
    /// when `portico_storage` changed.
    fn other_token_path(&self, session: &SsoSession) -> PathBuf {
        let other = match session.storage {
            Storage::File => &self.facts,
            _ => &self.dir,
        };
        other.join(format!("{}.json", sha1_hex(session.cache_key())))
    }

    /// The registration file, named as the AWS CLI names it (`BaseSSOTokenFetcher.
    /// _registration_cache_key` in its botocore): sha1 of
    /// `json.dumps({"tool","startUrl","region","scopes","session_name"}, sort_keys=True)`, where
    /// `scopes` is `sso_registration_scopes` as configured — `null` when the key is absent,
    /// `[]` when it is empty — and `session_name` is `null` for a legacy profile. The device
    /// and browser flows share the name, as in the AWS CLI.
    pub fn registration_path(&self, session: &SsoSession) -> PathBuf {
        let scopes = match &session.configured_scopes {
            None => "null".to_string(),
            Some(list) => {
                let quoted: Vec<String> = list.iter().map(|s| python_json_str(s)).collect();
                format!("[{}]", quoted.join(", "))
            }
        };
        let name = session
            .name
            .as_deref()
            .map(python_json_str)
            .unwrap_or_else(|| "null".to_string());
        let key = format!(
            "{{\"region\": {}, \"scopes\": {scopes}, \"session_name\": {name}, \"startUrl\": {}, \"tool\": \"botocore\"}}",
            python_json_str(&session.region),
            python_json_str(&session.start_url),
        );
        self.dir_for(session.storage)
            .join(format!("{}.json", sha1_hex(&key)))
    }

    /// The session's token, `None` when there is none. A token left where the session's
    /// previous `portico_storage` kept it is moved first (into the keyring, or back to the
    /// AWS CLI's file), and its old file and item deleted. Another tool's token that is not
    /// for this session is [`CacheError::ForeignScopes`].
    pub fn load_token(&self, session: &SsoSession) -> Result<Option<TokenFile>, CacheError> {
        let token = self.load_or_move_token(session)?;
        match token
            .as_ref()
            .and_then(|t| super::scopes::clash(t, &session.scopes))
        {
            None => Ok(token),
            Some(have) => Err(CacheError::ForeignScopes {
                path: self.token_path(session),
                label: session.label(),
                have,
                needed: super::scopes::needed(&session.scopes),
            }),
        }
    }

    fn load_or_move_token(&self, session: &SsoSession) -> Result<Option<TokenFile>, CacheError> {
        let path = self.token_path(session);
        let token = load_json(&path)?;
        if token.is_some() || self.dir == self.facts {
            return Ok(token);
        }
        let old = self.other_token_path(session);
        let Some(moved) = load_json::<TokenFile>(&old)? else {
            return Ok(None);
        };
        self.store_token(session, &moved)?;
        remove_split(&old).map_err(|error| CacheError::Write {
            path: old.clone(),
            error,
        })?;
        self.move_registration(session)?;
        crate::debug!(
            "moved the token of {} from {} to {}",
            session.label(),
            old.display(),
            session.storage.backend()
        );
        Ok(Some(moved))
    }

    /// What `status` and the portal show of the session's token — expiry, whether a refresh
    /// token and a client registration exist — without opening the Secret Service (which may
    /// be locked, or prompt): its secrets are empty placeholders ([`TokenFile::facts_only`]);
    /// never store it.
    pub fn load_token_facts(&self, session: &SsoSession) -> Result<Option<TokenFile>, CacheError> {
        // The kernel keyring answers at once and never prompts: its item is read, so that a
        // token whose item a reboot took shows as signed out.
        if session.storage != Storage::Keyring {
            return self.load_token(session);
        }
        let path = self.token_path(session);
        let bytes = match secrets::read_facts(&path) {
            Ok(Some(bytes)) => bytes,
            // A token the previous storage kept is moved by a full load.
            Ok(None) => return self.load_token(session),
            Err(SplitError::Io(error)) => return Err(CacheError::Io { path, error }),
            Err(SplitError::Vault(e)) => return Err(CacheError::Keyring(e)),
            Err(SplitError::ItemGone(_)) => return Ok(None),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CacheError::Corrupt {
                path,
                problem: e.to_string(),
            })
    }

    /// Writes the token atomically (0600, in a 0700 directory), its secrets into the keyring
    /// when the session's storage is one.
    pub fn store_token(&self, session: &SsoSession, token: &TokenFile) -> Result<(), CacheError> {
        debug_assert!(
            !token.facts_only(),
            "a token read for its facts is never stored"
        );
        store_json(&self.token_path(session), token, session.storage)
    }

    /// Deletes the token file (and its keyring item); returns its path if there was one.
    pub fn remove_token(&self, session: &SsoSession) -> Result<Option<PathBuf>, CacheError> {
        let path = self.token_path(session);
        if self.dir != self.facts {
            // A token the previous storage kept goes too: signing out means out of both.
            let old = self.other_token_path(session);
            remove_split(&old).map_err(|error| CacheError::Write { path: old, error })?;
        }
        match remove_split(&path) {
            Ok(true) => Ok(Some(path)),
            Ok(false) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
                Err(CacheError::NotAFile { path })
            }
            Err(error) => Err(CacheError::Write { path, error }),
        }
    }

    /// The client registration the previous storage kept, moved with the token: its client
    /// secret must not stay in the AWS CLI's folder once the session's secrets are in a
    /// keyring (nor in the keyring once they are back in files).
    fn move_registration(&self, session: &SsoSession) -> Result<(), CacheError> {
        let here = self.registration_path(session);
        let Some(name) = here.file_name() else {
            return Ok(());
        };
        let other = match session.storage {
            Storage::File => &self.facts,
            _ => &self.dir,
        };
        let old = other.join(name);
        if old == here {
            return Ok(());
        }
        // A corrupt or unreadable old registration is only a cache: it goes all the same.
        if let Ok(Some(registration)) = load_json::<Registration>(&old) {
            if self.load_registration(session).is_none() {
                self.store_registration(session, &registration)?;
            }
        }
        remove_split(&old).map_err(|error| CacheError::Write { path: old, error })?;
        Ok(())
    }

    /// The cached registration; a corrupt one is treated as absent (it is only a cache).
    pub fn load_registration(&self, session: &SsoSession) -> Option<Registration> {
        load_json(&self.registration_path(session)).ok().flatten()
    }

    pub fn store_registration(
        &self,
        session: &SsoSession,
        registration: &Registration,
    ) -> Result<(), CacheError> {
        store_json(
            &self.registration_path(session),
            registration,
            session.storage,
        )
    }
}

/// Deletes a token or registration file and its keyring item, if it had one.
fn remove_split(path: &Path) -> Result<bool, std::io::Error> {
    match secrets::remove(path) {
        Ok(existed) => Ok(existed),
        Err(SplitError::Io(error)) => Err(error),
        // The item is gone or the keyring refuses: the file still goes (a sign-out must not
        // be held up by a keyring that lost the secret anyway).
        Err(e) => {
            crate::debug!("{}: {e}", path.display());
            remove_if_exists(path)
        }
    }
}

fn load_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, CacheError> {
    let bytes = match secrets::read(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(SplitError::Io(e)) if e.kind() == std::io::ErrorKind::IsADirectory => {
            return Err(CacheError::NotAFile {
                path: path.to_path_buf(),
            })
        }
        Err(SplitError::Io(error)) => {
            return Err(CacheError::Io {
                path: path.to_path_buf(),
                error,
            })
        }
        Err(SplitError::Vault(e)) => return Err(CacheError::Keyring(e)),
        // The keyring lost the secrets (a reboot empties the kernel keyring): no sign-in.
        Err(SplitError::ItemGone(storage)) => {
            crate::debug!(
                "{}: its secrets are no longer in {}; treating it as signed out",
                path.display(),
                storage.backend()
            );
            return Ok(None);
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        // serde_json's messages name the field and position, never the value.
        .map_err(|e| CacheError::Corrupt {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })
}

fn store_json<T: Serialize>(path: &Path, value: &T, storage: Storage) -> Result<(), CacheError> {
    if !storage.is_file() {
        let value = serde_json::to_value(value).expect("cache types always serialize");
        return secrets::write(path, &value, TOKEN_SECRETS, storage).map_err(|e| match e {
            SplitError::Vault(e) => CacheError::Keyring(e),
            SplitError::Io(error) => CacheError::Write {
                path: path.to_path_buf(),
                error,
            },
            SplitError::ItemGone(_) => unreachable!("writing reads no item"),
        });
    }
    let mut text = serde_json::to_vec(value).expect("cache types always serialize");
    text.push(b'\n');
    write_private(path, &text).map_err(|error| match error.kind() {
        std::io::ErrorKind::IsADirectory => CacheError::NotAFile {
            path: path.to_path_buf(),
        },
        _ => CacheError::Write {
            path: path.to_path_buf(),
            error,
        },
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the only form every SDK reads (the Rust SDK insists on the `Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .expect("formatting a UTC time cannot fail")
}

/// Reads the timestamps botocore and others have written over the years: RFC 3339 (`Z` or an
/// offset, with or without fractions) and the older `…UTC` suffix.
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let bare = text
        .strip_suffix("UTC")
        .or_else(|| text.strip_suffix('Z'))?;
    let bare = bare.split('.').next().unwrap_or(bare);
    PrimitiveDateTime::parse(
        bare,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    )
    .ok()
    .map(PrimitiveDateTime::assume_utc)
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii=True`): hand-written
/// because serde_json leaves non-ASCII characters as they are, and botocore's cache keys (the
/// token cache's and the assume-role cache's) must match byte for byte.
pub(super) fn python_json_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn session(name: Option<&str>) -> SsoSession {
        with_scopes(name, name.map(|_| vec!["sso:account:access"]))
    }

    /// A session whose config says `sso_registration_scopes` = `configured` (`None`: absent).
    fn with_scopes(name: Option<&str>, configured: Option<Vec<&str>>) -> SsoSession {
        let configured: Option<Vec<String>> =
            configured.map(|list| list.into_iter().map(String::from).collect());
        SsoSession {
            name: name.map(String::from),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "eu-central-1".into(),
            scopes: match (&configured, name) {
                (Some(list), _) => list.clone(),
                (None, Some(_)) => vec!["sso:account:access".into()],
                (None, None) => vec![],
            },
            configured_scopes: configured,
            oidc_endpoint: "http://x".into(),
            portal_endpoint: "http://x".into(),
            storage: Storage::File,
        }
    }

    #[test]
    fn file_names_match_botocore() {
        let cache = TokenCache::new("/c".into());
        // hashlib.sha1(b"corp").hexdigest()
        assert_eq!(
            cache.token_path(&session(Some("corp"))),
            PathBuf::from("/c/ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
        );
        // hashlib.sha1(json.dumps({"tool": "botocore", "startUrl": "https://d-1234567890.awsapps.com/start",
        //   "region": "eu-central-1", "scopes": ["sso:account:access"], "session_name": "corp"},
        //   sort_keys=True).encode()).hexdigest()
        assert_eq!(
            cache.registration_path(&session(Some("corp"))),
            PathBuf::from("/c/d6aad4b77707b07be3be31c5ba7f0c18de33b4e9.json")
        );
    }

    /// Every combination of sso_registration_scopes and session, against the names the AWS
    /// CLI's own algorithm gives. Each expected name was computed with Python 3:
    /// `hashlib.sha1(json.dumps({"tool": "botocore", "startUrl":
    /// "https://d-1234567890.awsapps.com/start", "region": "eu-central-1", "scopes": S,
    /// "session_name": N}, sort_keys=True).encode()).hexdigest()`.
    #[test]
    fn registration_names_match_the_aws_cli_for_every_scope_setting() {
        let cache = TokenCache::new("/c".into());
        /// Session name, configured scopes, expected sha1.
        type Case = (
            Option<&'static str>,
            Option<Vec<&'static str>>,
            &'static str,
        );
        let cases: [Case; 6] = [
            // Key absent: S = None (the AWS CLI passes None, not the default scope).
            (
                Some("corp"),
                None,
                "a04d112de715abe8e35a3a45f82b53da4ddde021",
            ),
            // `sso_registration_scopes =` (empty): S = [].
            (
                Some("corp"),
                Some(vec![]),
                "175b1f1be47987cfd57ce55037dcb0103a54011c",
            ),
            // One scope.
            (
                Some("corp"),
                Some(vec!["sso:account:access"]),
                "d6aad4b77707b07be3be31c5ba7f0c18de33b4e9",
            ),
            // Several, in the order configured.
            (
                Some("corp"),
                Some(vec!["sso:account:access", "codewhisperer:completions"]),
                "b6c4b9bbe690d5dfaad31cc7a652e656d2300ffd",
            ),
            // A legacy profile: N = None, S = None.
            (None, None, "4c8f82151c58a0b5f8a2d2aff7c872b197674e8d"),
            // A session name outside ASCII: json.dumps escapes it (ensure_ascii).
            (
                Some("ünï"),
                None,
                "ba848586a2d912dbd5279e8bc2f2b83a14e84349",
            ),
        ];
        for (name, scopes, hex) in cases {
            assert_eq!(
                cache.registration_path(&with_scopes(name, scopes.clone())),
                PathBuf::from(format!("/c/{hex}.json")),
                "{name:?} {scopes:?}"
            );
        }
    }

    #[test]
    fn python_json_strings() {
        assert_eq!(python_json_str("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(python_json_str("ünï😀"), r#""\u00fcn\u00ef\ud83d\ude00""#);
    }

    #[test]
    fn times_round_trip_with_z_and_old_forms_parse() {
        let t = datetime!(2026-11-22 18:00:00 UTC);
        assert_eq!(format_time(t), "2026-11-22T18:00:00Z");
        assert_eq!(parse_time("2026-11-22T18:00:00Z"), Some(t));
        assert_eq!(parse_time("2026-11-22T18:00:00UTC"), Some(t));
        assert_eq!(parse_time("2026-11-22T19:00:00+01:00"), Some(t));
        assert_eq!(
            parse_time("2026-11-22T18:00:00.123Z").map(|x| x.unix_timestamp()),
            Some(t.unix_timestamp())
        );
        assert_eq!(parse_time("tomorrow"), None);
    }

    #[test]
    fn reads_a_botocore_file_and_keeps_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path().join("sso/cache"));
        let s = session(Some("corp"));
        let path = cache.token_path(&s);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            r#"{"startUrl": "https://d-1234567890.awsapps.com/start", "region": "eu-central-1", "accessToken": "aoa-secret", "expiresAt": "2026-11-22T18:00:00Z", "clientId": "cid", "clientSecret": "csecret", "registrationExpiresAt": "2027-02-20T18:00:00Z", "refreshToken": "rt", "futureField": {"x": 1}}"#,
        )
        .unwrap();
        let token = cache.load_token(&s).unwrap().unwrap();
        let now = datetime!(2026-11-22 17:50:00 UTC);
        assert!(token.is_valid(now));
        assert!(
            !token.is_fresh(now),
            "10 minutes left is inside the refresh window"
        );
        assert_eq!(token.refresh_blocker(now), None);
        cache.store_token(&s, &token).unwrap();
        let again: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(again["futureField"]["x"], 1);
        assert_eq!(again["accessToken"], "aoa-secret");
        assert!(
            format!("{token:?}").contains("<redacted>")
                && !format!("{token:?}").contains("aoa-secret")
        );
    }

    #[test]
    fn minimal_and_corrupt_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path().to_path_buf());
        let s = session(None);
        assert!(cache.load_token(&s).unwrap().is_none());
        std::fs::write(
            cache.token_path(&s),
            r#"{"accessToken":"a","expiresAt":"2026-11-22T18:00:00Z"}"#,
        )
        .unwrap();
        let token = cache.load_token(&s).unwrap().unwrap();
        assert_eq!(
            token.refresh_blocker(datetime!(2026-11-22 17:00:00 UTC)),
            Some("it has no refresh token")
        );
        std::fs::write(cache.token_path(&s), "{\"accessToken\": \"secret-value\", ").unwrap();
        let err = cache.load_token(&s).unwrap_err().to_string();
        assert!(
            err.contains("not a valid token file") && !err.contains("secret-value"),
            "{err}"
        );
    }

    #[test]
    fn registration_reuse_rules() {
        let now = datetime!(2026-11-22 12:00:00 UTC);
        let reg = |expires: &str, grants: Option<Vec<&str>>| Registration {
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            expires_at: expires.into(),
            scopes: None,
            grant_types: grants.map(|g| g.into_iter().map(String::from).collect()),
            extra: Default::default(),
        };
        let pkce = ["authorization_code", "refresh_token"];
        let device = [crate::consts::GRANT_DEVICE_CODE, "refresh_token"];
        let none: [String; 0] = [];
        assert!(reg("2026-11-22T12:30:00Z", Some(pkce.to_vec())).usable_for(&pkce, &none, now));
        assert!(!reg("2026-11-22T12:10:00Z", Some(pkce.to_vec())).usable_for(&pkce, &none, now));
        assert!(!reg("2026-11-23T12:00:00Z", None).usable_for(&pkce, &none, now));
        // The AWS CLI's device registration (no grantTypes) serves portico's device flow.
        assert!(reg("2026-11-23T12:00:00Z", None).usable_for(&device, &none, now));
        // …but only with the scopes portico asks for (else no refresh token comes).
        let access = ["sso:account:access".to_string()];
        assert!(!reg("2026-11-23T12:00:00Z", None).usable_for(&device, &access, now));
        let mut scoped = reg("2026-11-23T12:00:00Z", None);
        scoped.scopes = Some(access.to_vec());
        assert!(scoped.usable_for(&device, &access, now));
        assert!(!scoped.usable_for(&pkce, &access, now));
    }
}
