//! Resolving what the user asked for (flags) against the environment and `~/.aws/config` into
//! one value the rest of portico takes: which Identity Center session, which endpoints, which
//! account and role. All validation of docs/protocol.md §3 lives here, with messages that say
//! how to fix the file.

use std::path::PathBuf;

use crate::awsconfig::{ConfigFile, LoadError, Section, SectionKind};
use crate::consts as keys;
use crate::model::id::{is_account_id, is_region};
use crate::sanitize::for_terminal;

pub mod storage;

/// The environment variables portico reads, captured once so that resolution is a pure function.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub home: Option<PathBuf>,
    /// The user's cache directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux).
    pub cache_home: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
    pub profile: Option<String>,
    pub default_profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub endpoint_url_sso: Option<String>,
    pub endpoint_url_sso_oidc: Option<String>,
    /// `AWS_ENDPOINT_URL_STS`, for SAML sessions' AssumeRoleWithSAML.
    pub endpoint_url_sts: Option<String>,
    /// `PORTICO_BROWSER` and `BROWSER`, for [`Context::browser_setting`].
    pub portico_browser: Option<String>,
    pub browser: Option<String>,
}

impl Environment {
    /// Reads the process environment. Empty variables count as unset, as in botocore.
    pub fn from_process() -> Environment {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Environment {
            home: dirs::home_dir(),
            cache_home: dirs::cache_dir(),
            config_file: var("AWS_CONFIG_FILE").map(PathBuf::from),
            profile: var("AWS_PROFILE"),
            default_profile: var("AWS_DEFAULT_PROFILE"),
            endpoint_url: var("AWS_ENDPOINT_URL"),
            endpoint_url_sso: var("AWS_ENDPOINT_URL_SSO"),
            endpoint_url_sso_oidc: var("AWS_ENDPOINT_URL_SSO_OIDC"),
            endpoint_url_sts: var("AWS_ENDPOINT_URL_STS"),
            portico_browser: var("PORTICO_BROWSER"),
            browser: var("BROWSER"),
        }
    }

    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub fn config_path(&self) -> Result<PathBuf, SettingsError> {
        if let Some(path) = &self.config_file {
            return Ok(expand_tilde(path, self.home.as_deref()));
        }
        Ok(self.aws_dir()?.join("config"))
    }

    /// `~/.aws`, where the AWS CLI keeps its caches.
    pub fn aws_dir(&self) -> Result<PathBuf, SettingsError> {
        self.home
            .as_ref()
            .map(|h| h.join(".aws"))
            .ok_or(SettingsError::NoHome)
    }

    /// `~/.aws/sso/cache`, the token cache shared with the AWS CLI and SDKs.
    pub fn sso_cache_dir(&self) -> Result<PathBuf, SettingsError> {
        Ok(self.aws_dir()?.join("sso").join("cache"))
    }

    /// portico's own cache directory (role credentials, account lists, locks).
    pub fn portico_cache_dir(&self) -> Result<PathBuf, SettingsError> {
        self.cache_home
            .as_ref()
            .map(|c| c.join("portico"))
            .ok_or(SettingsError::NoHome)
    }

    /// The profile named by `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`.
    pub fn profile_from_env(&self) -> Option<&str> {
        self.profile.as_deref().or(self.default_profile.as_deref())
    }

    /// The profile a command uses and where its name came from: `flag` (`--profile`), else
    /// `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default` — botocore's order.
    pub fn pick_profile(&self, flag: Option<&str>) -> (String, ProfileSource) {
        match (flag, &self.profile, &self.default_profile) {
            (Some(name), _, _) => (name.to_string(), ProfileSource::Flag),
            (None, Some(name), _) => (name.clone(), ProfileSource::AwsProfile),
            (None, None, Some(name)) => (name.clone(), ProfileSource::AwsDefaultProfile),
            (None, None, None) => ("default".to_string(), ProfileSource::Default),
        }
    }
}

/// Where a profile name came from, so that an unknown one can be traced back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSource {
    /// `--profile NAME` on the command line.
    Flag,
    /// The `AWS_PROFILE` variable.
    AwsProfile,
    /// The `AWS_DEFAULT_PROFILE` variable.
    AwsDefaultProfile,
    /// Nothing named one, so `default` was used.
    Default,
    /// A credential server's request path (`/role/NAME`).
    Request,
    /// Another profile's `credential_process = portico credentials --profile NAME`.
    CredentialProcess,
}

fn expand_tilde(path: &std::path::Path, home: Option<&std::path::Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// How the user picked the Identity Center session on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub profile: Option<String>,
    pub sso_session: Option<String>,
    pub start_url: Option<String>,
    pub region: Option<String>,
    /// Whether the command takes `--start-url`/`--region`, so that hints may suggest them.
    pub takes_start_url: bool,
}

/// An Identity Center instance and how portico talks to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    /// The `[sso-session NAME]`; `None` for a legacy profile or a bare `--start-url`.
    pub name: Option<String>,
    pub start_url: String,
    pub region: String,
    /// Scopes to register with; empty for legacy set-ups (which then get no refresh token).
    pub scopes: Vec<String>,
    /// `sso_registration_scopes` as configured, `None` when the key is absent. The AWS CLI
    /// names the client-registration cache file after exactly this (`"scopes": null` when
    /// absent), so sharing that file needs the difference between absent and the default.
    pub configured_scopes: Option<Vec<String>>,
    pub oidc_endpoint: String,
    pub portal_endpoint: String,
    /// `portico_storage` (or `PORTICO_STORAGE`): where the session's secrets are kept.
    pub storage: crate::vault::Storage,
}

impl SsoSession {
    /// The token-cache key: the session name, or the start URL for legacy set-ups.
    pub fn cache_key(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.start_url)
    }

    /// How messages name this session, cleaned for a terminal (the name comes from a file).
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("sso-session {}", for_terminal(name)),
            None => format!("start URL {}", for_terminal(&self.start_url)),
        }
    }

    /// The flags that select this session again, for "run this next" hints; cleaned for a
    /// terminal like [`label`](Self::label).
    pub fn selector_flags(&self) -> String {
        match &self.name {
            Some(name) => format!("--sso-session {}", for_terminal(name)),
            None => format!(
                "--start-url {} --region {}",
                for_terminal(&self.start_url),
                for_terminal(&self.region)
            ),
        }
    }
}

/// A profile that names an account and role (what credentials are issued for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleProfile {
    pub profile: String,
    pub session: SsoSession,
    pub account_id: String,
    pub role_name: String,
    /// The profile's `region`, handed to programs as `AWS_REGION`.
    pub region: Option<String>,
}

/// Why the settings could not be resolved. Each message names the file or profile and the fix;
/// every name in it is cleaned for the terminal (it may come from the file or the environment).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("HOME is not set, so ~/.aws cannot be found; set HOME or AWS_CONFIG_FILE")]
    NoHome,
    #[error(transparent)]
    Config(#[from] LoadError),
    #[error(transparent)]
    Storage(#[from] storage::BadStorage),
    #[error("{}", profile_not_found(profile, *origin, path, suggestions, *count))]
    ProfileNotFound {
        profile: String,
        origin: ProfileSource,
        path: String,
        /// The closest profile names, best first.
        suggestions: Vec<String>,
        /// How many profiles the file has.
        count: usize,
    },
    #[error("sso-session \"{}\" is not in {path}{}; add a [sso-session {}] section or run `portico configure`", t(name), known("sso-sessions", available), t(name))]
    SessionNotFound {
        name: String,
        path: String,
        available: Vec<String>,
    },
    #[error("[{}] in {path} has no {key}; add `{key} = …` to it", t(section))]
    MissingKey {
        section: String,
        path: String,
        key: &'static str,
    },
    #[error(
        "profile \"{}\" in {path} sets {}; remove {key} from [profile {}]",
        t(profile),
        t(detail),
        t(profile)
    )]
    Mismatch {
        profile: String,
        path: String,
        key: &'static str,
        /// `KEY = VALUE but its sso-session NAME says OTHER`.
        detail: String,
    },
    #[error(
        "profile \"{}\" in {path} asks for its own keys: its credential_process leads back to it ({}); point it at a profile with sso_session, or at --account/--role/--sso-session",
        t(profile),
        t(&chain.join(" → "))
    )]
    ProcessLoop {
        profile: String,
        path: String,
        /// The profiles in the order their credential_process lines named them.
        chain: Vec<String>,
    },
    #[error("profile \"{}\" in {path} has no Identity Center settings; give it `sso_session = NAME` (or run `portico configure`)", t(profile))]
    NotSso { profile: String, path: String },
    #[error(
        "profile \"{}\" in {path} has no {key}; add `{key} = …` or pass --account and --role",
        t(profile)
    )]
    NoRole {
        profile: String,
        path: String,
        key: &'static str,
    },
    #[error("{what} \"{}\" is not a valid start URL; it looks like https://d-1234567890.awsapps.com/start", t(value))]
    BadStartUrl { what: String, value: String },
    #[error("{what} \"{}\" is not an AWS region name like eu-central-1", t(value))]
    BadRegion { what: String, value: String },
    #[error(
        "{what} \"{}\" is not an AWS account ID: account IDs are 12 digits, like 111122223333",
        t(value)
    )]
    BadAccount { what: String, value: String },
    #[error("--start-url needs --region (the region your Identity Center lives in)")]
    StartUrlWithoutRegion,
    #[error("{} is not an http(s) URL; fix the variable or unset it", t(.0))]
    BadEndpoint(String),
    #[error("no Identity Center session is configured in {path}; run `portico configure`{}", if *takes_start_url { ", or pass --start-url URL --region REGION" } else { " first" })]
    NothingConfigured { path: String, takes_start_url: bool },
    #[error("{path} has several sso-sessions ({}); pick one with --sso-session or --profile", t(&names.join(", ")))]
    Ambiguous { path: String, names: Vec<String> },
    #[error("saml-session \"{}\" is not in {path}{}; add a [saml-session {}] section or run `portico configure --saml-session {} --idp-url URL`", t(name), known("saml-sessions", available), t(name), t(name))]
    SamlSessionNotFound {
        name: String,
        path: String,
        available: Vec<String>,
    },
    #[error(
        "{key} \"{}\" of [saml-session {}] in {path} {why}",
        t(value),
        t(session)
    )]
    BadSamlSetting {
        session: String,
        path: String,
        key: &'static str,
        value: String,
        /// What is wrong and the fix, e.g. `is not an https URL; use …`.
        why: &'static str,
    },
}

fn t(text: &str) -> String {
    crate::sanitize::for_terminal(text)
}

fn known(what: &str, names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (known {what}: {})", t(&names.join(", ")))
    }
}

/// The one line for an unknown profile: where the name came from, the closest names, and the
/// commands that show or write profiles (never the whole list: a sync writes hundreds).
fn profile_not_found(
    profile: &str,
    source: ProfileSource,
    path: &str,
    suggestions: &[String],
    count: usize,
) -> String {
    let name = t(profile);
    let mut text = match source {
        ProfileSource::Flag => format!("profile \"{name}\" is not in {path} (named by --profile)"),
        ProfileSource::AwsProfile => {
            format!("profile \"{name}\" is not in {path} (named by AWS_PROFILE)")
        }
        ProfileSource::AwsDefaultProfile => {
            format!("profile \"{name}\" is not in {path} (named by AWS_DEFAULT_PROFILE)")
        }
        ProfileSource::Default => format!(
            "no profile was named (no --profile, AWS_PROFILE or AWS_DEFAULT_PROFILE) and {path} has no [default] profile"
        ),
        ProfileSource::Request => {
            format!("profile \"{name}\" is not in {path} (named by the request's path)")
        }
        ProfileSource::CredentialProcess => format!(
            "profile \"{name}\" is not in {path} (named by another profile's credential_process)"
        ),
    };
    match suggestions {
        [] => {}
        [one] => text.push_str(&format!("; did you mean {}?", t(one))),
        many => {
            let names: Vec<String> = many.iter().map(|n| t(n)).collect();
            let (last, rest) = names.split_last().expect("two or more");
            text.push_str(&format!("; did you mean {} or {last}?", rest.join(", ")));
        }
    }
    let fix = match source {
        ProfileSource::Default => "pass --profile NAME",
        ProfileSource::Flag => "pass the name of a profile in the file",
        ProfileSource::AwsProfile => "set AWS_PROFILE to a profile in the file, or pass --profile",
        ProfileSource::AwsDefaultProfile => {
            "set AWS_DEFAULT_PROFILE to a profile in the file, or pass --profile"
        }
        ProfileSource::Request => "ask for /role/PROFILE with a profile in the file",
        ProfileSource::CredentialProcess => {
            "point that credential_process at a profile in the file"
        }
    };
    if count == 0 {
        text.push_str(
            "; it has no profiles yet: `portico profiles sync` writes one per role assigned to you (or `portico configure` one)",
        );
    } else {
        text.push_str(&format!(
            "; {fix} (`portico list` shows your roles, `portico profiles sync` writes a profile for each)"
        ));
    }
    text
}

/// The profile names closest to `wanted`, best first: the same text in another case, names
/// within a small edit distance, then names that contain it.
pub fn closest_names<'a>(wanted: &str, names: &[&'a str]) -> Vec<&'a str> {
    let lower = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .filter_map(|&name| {
            let other = name.to_lowercase();
            let distance = strsim::damerau_levenshtein(&lower, &other);
            if distance <= limit {
                Some((distance, name))
            } else if lower.chars().count() >= 3 && other.contains(&lower) {
                Some((limit + 1 + other.len() - lower.len(), name))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// The config file plus the environment: everything resolution reads.
#[derive(Clone)]
pub struct Context {
    pub env: Environment,
    pub config: ConfigFile,
}

impl Context {
    /// Loads the config file named by the environment.
    pub fn load(env: Environment) -> Result<Context, SettingsError> {
        let path = env.config_path()?;
        let config = ConfigFile::load(&path)?;
        Ok(Context { env, config })
    }

    /// [`load`](Self::load) for the warm path, which reads one profile and its sso-session:
    /// only the profile `profile_flag` selects (or the environment's, or `default`), `default`
    /// and the sso-sessions are kept, and only what is read is checked (see
    /// [`ConfigFile::load_only`]).
    pub fn load_lazy(
        env: Environment,
        profile_flag: Option<&str>,
    ) -> Result<Context, SettingsError> {
        let path = env.config_path()?;
        let (profile, _) = env.pick_profile(profile_flag);
        let keep = |kind: SectionKind, name: &str| match kind {
            SectionKind::Profile => name == profile || name == "default",
            SectionKind::SsoSession => true,
            SectionKind::Other => name.starts_with(SAML_SESSION_PREFIX),
            _ => false,
        };
        let config = ConfigFile::load_only(&path, &keep)?;
        Ok(Context { env, config })
    }

    fn path(&self) -> String {
        self.config.path.display().to_string()
    }

    /// A section just read, or the unreadable line in it (a lazily loaded file is checked as it
    /// is read).
    fn checked<'a>(
        &self,
        section: Option<&'a Section>,
    ) -> Result<Option<&'a Section>, SettingsError> {
        match self.config.read_problem() {
            Some(problem) => Err(SettingsError::Config(LoadError::Parse(problem))),
            None => Ok(section),
        }
    }

    /// The session the selector names. With nothing selected: the session of the profile from
    /// the environment (or `default`) if it has one, else the only sso-session in the file.
    pub fn session(&self, selector: &Selector) -> Result<SsoSession, SettingsError> {
        // The profile a command runs under lends its ca_bundle, as in botocore.
        self.note_ca_bundle(&self.env.pick_profile(selector.profile.as_deref()).0);
        if let Some(start_url) = &selector.start_url {
            let region = selector
                .region
                .as_deref()
                .ok_or(SettingsError::StartUrlWithoutRegion)?;
            check_start_url("--start-url", start_url)?;
            check_region("--region", region)?;
            // A configured session with this start URL keeps its name (and so its cache file).
            let named = self.config.sso_session_names().into_iter().find(|name| {
                self.config.sso_session(name).is_some_and(|s| {
                    s.get(keys::SSO_START_URL) == Some(start_url.as_str())
                        && s.get(keys::SSO_REGION) == Some(region)
                })
            });
            if let Some(name) = named {
                return self.named_session(name);
            }
            return self.build_session(None, start_url, region, Vec::new());
        }
        if let Some(name) = &selector.sso_session {
            return self.named_session(name);
        }
        let (profile, origin) = self.env.pick_profile(selector.profile.as_deref());
        if origin != ProfileSource::Default {
            return self.profile_session_from(&profile, origin);
        }
        if let Some(default) = self.config.profile("default") {
            if default.get(keys::SSO_SESSION).is_some()
                || default.get(keys::SSO_START_URL).is_some()
            {
                return self.profile_session("default");
            }
        }
        match self.config.sso_session_names().as_slice() {
            [] => Err(SettingsError::NothingConfigured {
                path: self.path(),
                takes_start_url: selector.takes_start_url,
            }),
            [only] => self.named_session(only),
            many => Err(SettingsError::Ambiguous {
                path: self.path(),
                names: many.iter().map(|s| s.to_string()).collect(),
            }),
        }
    }

    /// Every configured session (named ones, then legacy start URLs), for `status`.
    pub fn all_sessions(&self) -> Vec<Result<SsoSession, SettingsError>> {
        let mut out: Vec<Result<SsoSession, SettingsError>> = self
            .config
            .sso_session_names()
            .into_iter()
            .map(|name| self.named_session(name))
            .collect();
        for profile in self.config.profile_names() {
            let Some(section) = self.config.profile(profile) else {
                continue;
            };
            if section.get(keys::SSO_SESSION).is_none()
                && section.get(keys::SSO_START_URL).is_some()
            {
                let session = self.profile_session(profile);
                let seen = out.iter().any(|s| match (s, &session) {
                    (Ok(a), Ok(b)) => a.cache_key() == b.cache_key(),
                    _ => false,
                });
                if !seen {
                    out.push(session);
                }
            }
        }
        out
    }

    /// The `[sso-session NAME]` section, validated.
    pub fn named_session(&self, name: &str) -> Result<SsoSession, SettingsError> {
        let section = self
            .checked(self.config.sso_session(name))?
            .ok_or_else(|| SettingsError::SessionNotFound {
                name: name.to_string(),
                path: self.path(),
                available: names(self.config.sso_session_names()),
            })?;
        let header = format!("sso-session {name}");
        let start_url = self.require(section, &header, keys::SSO_START_URL)?;
        let region = self.require(section, &header, keys::SSO_REGION)?;
        check_start_url(&format!("sso_start_url of [{header}]"), start_url)?;
        check_region(&format!("sso_region of [{header}]"), region)?;
        let configured: Option<Vec<String>> =
            section.get(keys::SSO_REGISTRATION_SCOPES).map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            });
        let scopes = configured
            .clone()
            .unwrap_or_else(|| vec![keys::SCOPE_ACCOUNT_ACCESS.to_string()]);
        let mut session = self.build_session(Some(name.to_string()), start_url, region, scopes)?;
        session.configured_scopes = configured;
        let stored = section.get(keys::PORTICO_STORAGE);
        session.storage = storage::resolve(stored, &header, &self.path())?;
        Ok(session)
    }

    /// Notes the `ca_bundle` of `profile` (botocore's key) for this process's requests: the
    /// HTTP stack adds its certificates to the system's roots at the first request (see
    /// `crate::http::tls`). `~/` is the home directory.
    pub fn note_ca_bundle(&self, profile: &str) {
        let Some(path) = self
            .config
            .profile(profile)
            .and_then(|section| section.get(keys::CA_BUNDLE))
            .filter(|p| !p.trim().is_empty())
        else {
            return;
        };
        let path = match (path.strip_prefix("~/"), &self.env.home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(path),
        };
        crate::http::tls::note_profile_bundle(profile, &path);
    }

    /// The session a profile uses (through `sso_session`, or legacy keys in the profile).
    pub fn profile_session(&self, profile: &str) -> Result<SsoSession, SettingsError> {
        self.profile_session_from(profile, ProfileSource::Flag)
    }

    /// [`profile_session`](Self::profile_session) for a name that came from `origin`.
    pub fn profile_session_from(
        &self,
        profile: &str,
        origin: ProfileSource,
    ) -> Result<SsoSession, SettingsError> {
        let section = self.find_profile(profile, origin)?;
        self.note_ca_bundle(profile);
        if let Some(name) = section.get(keys::SSO_SESSION) {
            let session = self.named_session(name)?;
            for (key, value) in [
                (keys::SSO_START_URL, &session.start_url),
                (keys::SSO_REGION, &session.region),
            ] {
                if let Some(own) = section.get(key) {
                    if own != value {
                        return Err(SettingsError::Mismatch {
                            profile: profile.to_string(),
                            path: self.path(),
                            key,
                            detail: format!(
                                "{key} = {own} but its sso-session \"{name}\" says {value}"
                            ),
                        });
                    }
                }
            }
            return Ok(session);
        }
        if let Some(start_url) = section.get(keys::SSO_START_URL) {
            let header = format!("profile {profile}");
            let region = self.require(section, &header, keys::SSO_REGION)?;
            check_start_url(&format!("sso_start_url of [{header}]"), start_url)?;
            check_region(&format!("sso_region of [{header}]"), region)?;
            return self.build_session(None, start_url, region, Vec::new());
        }
        Err(SettingsError::NotSso {
            profile: profile.to_string(),
            path: self.path(),
        })
    }

    /// A profile that names an account and role, validated.
    pub fn role_profile(&self, profile: &str) -> Result<RoleProfile, SettingsError> {
        self.role_profile_from(profile, ProfileSource::Flag)
    }

    /// The role profile a command uses: `--profile` (`flag`), else `AWS_PROFILE`, else
    /// `AWS_DEFAULT_PROFILE`, else `default`; an error says which it was.
    pub fn selected_role_profile(&self, flag: Option<&str>) -> Result<RoleProfile, SettingsError> {
        let (profile, origin) = self.env.pick_profile(flag);
        self.role_profile_from(&profile, origin)
    }

    /// [`role_profile`](Self::role_profile) for a name that came from `origin`.
    pub fn role_profile_from(
        &self,
        profile: &str,
        origin: ProfileSource,
    ) -> Result<RoleProfile, SettingsError> {
        let session = self.profile_session_from(profile, origin)?;
        let section = self.find_profile(profile, origin)?;
        let need = |key: &'static str| {
            section
                .get(key)
                .map(String::from)
                .ok_or_else(|| SettingsError::NoRole {
                    profile: profile.to_string(),
                    path: self.path(),
                    key,
                })
        };
        let region = section.get(keys::REGION).map(String::from);
        if let Some(region) = &region {
            check_region(&format!("region of [profile {profile}]"), region)?;
        }
        let account_id = need(keys::SSO_ACCOUNT_ID)?;
        check_account_id(
            &format!("sso_account_id of [profile {profile}]"),
            &account_id,
        )?;
        Ok(RoleProfile {
            profile: profile.to_string(),
            account_id,
            role_name: need(keys::SSO_ROLE_NAME)?,
            region,
            session,
        })
    }

    fn find_profile(
        &self,
        profile: &str,
        origin: ProfileSource,
    ) -> Result<&Section, SettingsError> {
        self.checked(self.config.profile(profile))?.ok_or_else(|| {
            // Only some sections were loaded (the warm path): the suggestions need them all.
            let full;
            let config = match self.config.is_partial() {
                true => match ConfigFile::load(&self.config.path) {
                    Ok(loaded) => {
                        full = loaded;
                        &full
                    }
                    Err(_) => &self.config,
                },
                false => &self.config,
            };
            let all = config.profile_names();
            SettingsError::ProfileNotFound {
                profile: profile.to_string(),
                origin,
                path: self.path(),
                suggestions: names(closest_names(profile, &all)),
                count: all.len(),
            }
        })
    }

    fn require<'a>(
        &self,
        section: &'a Section,
        header: &str,
        key: &'static str,
    ) -> Result<&'a str, SettingsError> {
        section.get(key).ok_or_else(|| SettingsError::MissingKey {
            section: header.to_string(),
            path: self.path(),
            key,
        })
    }

    fn build_session(
        &self,
        name: Option<String>,
        start_url: &str,
        region: &str,
        scopes: Vec<String>,
    ) -> Result<SsoSession, SettingsError> {
        let endpoint = |specific: &Option<String>, name: &str, default: String| match specific
            .as_ref()
            .or(self.env.endpoint_url.as_ref())
        {
            Some(url) => {
                if url.starts_with("http://") || url.starts_with("https://") {
                    Ok(url.trim_end_matches('/').to_string())
                } else {
                    Err(SettingsError::BadEndpoint(format!("{name}={url}")))
                }
            }
            None => Ok(default),
        };
        Ok(SsoSession {
            name,
            start_url: start_url.to_string(),
            region: region.to_string(),
            scopes,
            configured_scopes: None,
            // Legacy profiles and a bare --start-url have no section to say it: the variable,
            // else files.
            storage: storage::resolve(None, "", &self.path())?,
            oidc_endpoint: endpoint(
                &self.env.endpoint_url_sso_oidc,
                "AWS_ENDPOINT_URL_SSO_OIDC",
                format!("https://oidc.{region}.amazonaws.com"),
            )?,
            portal_endpoint: endpoint(
                &self.env.endpoint_url_sso,
                "AWS_ENDPOINT_URL_SSO",
                format!("https://portal.sso.{region}.amazonaws.com"),
            )?,
        })
    }
}

fn names(list: Vec<&str>) -> Vec<String> {
    list.into_iter().map(String::from).collect()
}

/// A start URL must be an https URL with a host (`https://d-1234567890.awsapps.com/start`), or
/// http to this machine for a local emulator; the rule is [`crate::awsconfig::start_url::check`].
pub fn check_start_url(what: &str, value: &str) -> Result<(), SettingsError> {
    match crate::awsconfig::start_url::check(value) {
        Ok(_) => Ok(()),
        Err(_) => Err(SettingsError::BadStartUrl {
            what: what.to_string(),
            value: value.to_string(),
        }),
    }
}

/// An AWS account ID: exactly 12 digits (the rule is [`is_account_id`]). Checked before any
/// request, so that a mistyped ID is named as such instead of coming back from Identity Center
/// as "no access".
pub fn check_account_id(what: &str, value: &str) -> Result<(), SettingsError> {
    if is_account_id(value) {
        Ok(())
    } else {
        Err(SettingsError::BadAccount {
            what: what.to_string(),
            value: value.to_string(),
        })
    }
}

/// A region name: `eu-central-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1` (the rule is
/// [`is_region`]).
pub fn check_region(what: &str, value: &str) -> Result<(), SettingsError> {
    if is_region(value) {
        Ok(())
    } else {
        Err(SettingsError::BadRegion {
            what: what.to_string(),
            value: value.to_string(),
        })
    }
}

/// The config key that names the browser for a profile or an sso-session (botocore and the
/// AWS SDKs ignore keys they do not know).
pub const BROWSER_KEY: &str = keys::PORTICO_BROWSER;

/// Where the browser setting came from, for messages and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserOrigin {
    Flag,
    /// `PORTICO_BROWSER`.
    Variable,
    Profile(String),
    SsoSession(String),
    /// `portico_browser` of a `[saml-session NAME]`.
    SamlSession(String),
    /// `BROWSER`.
    BrowserVariable,
    SystemDefault,
}

impl std::fmt::Display for BrowserOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrowserOrigin::Flag => f.write_str("--browser"),
            BrowserOrigin::Variable => f.write_str("PORTICO_BROWSER"),
            BrowserOrigin::Profile(p) => {
                write!(f, "{BROWSER_KEY} of [profile {}]", for_terminal(p))
            }
            BrowserOrigin::SsoSession(s) => {
                write!(f, "{BROWSER_KEY} of [sso-session {}]", for_terminal(s))
            }
            BrowserOrigin::SamlSession(s) => {
                write!(f, "{BROWSER_KEY} of [saml-session {}]", for_terminal(s))
            }
            BrowserOrigin::BrowserVariable => f.write_str("BROWSER"),
            BrowserOrigin::SystemDefault => f.write_str("the system default"),
        }
    }
}

/// The browser setting in force (unparsed: `identity::Browser` reads it) and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSetting {
    pub value: Option<String>,
    pub origin: BrowserOrigin,
}

impl Context {
    /// The browser for a command: `--browser`, then `PORTICO_BROWSER`, then `portico_browser`
    /// of `profile`, then of `sso_session`, then `BROWSER`, then the system default. Empty
    /// values count as unset.
    pub fn browser_setting(
        &self,
        flag: Option<&str>,
        profile: Option<&str>,
        sso_session: Option<&str>,
    ) -> BrowserSetting {
        let found = |value: Option<&str>, origin: BrowserOrigin| {
            value
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| BrowserSetting {
                    value: Some(v.to_string()),
                    origin,
                })
        };
        found(flag, BrowserOrigin::Flag)
            .or_else(|| found(self.env.portico_browser.as_deref(), BrowserOrigin::Variable))
            .or_else(|| {
                let p = profile?;
                let value = self.config.profile(p)?.get(BROWSER_KEY);
                found(value, BrowserOrigin::Profile(p.to_string()))
            })
            .or_else(|| {
                let s = sso_session?;
                let value = self.config.sso_session(s)?.get(BROWSER_KEY);
                found(value, BrowserOrigin::SsoSession(s.to_string()))
            })
            .or_else(|| found(self.env.browser.as_deref(), BrowserOrigin::BrowserVariable))
            .unwrap_or(BrowserSetting {
                value: None,
                origin: BrowserOrigin::SystemDefault,
            })
    }

    /// The profile of `sso_session` that names this account and role, if one does (for the
    /// portal's console: its `portico_browser` and its container name).
    pub fn profile_for_role(
        &self,
        sso_session: Option<&str>,
        account_id: &str,
        role_name: &str,
    ) -> Option<String> {
        let session = sso_session?;
        self.config
            .profile_names()
            .into_iter()
            .find(|name| {
                self.config.profile(name).is_some_and(|p| {
                    p.get(keys::SSO_SESSION) == Some(session)
                        && p.get(keys::SSO_ACCOUNT_ID) == Some(account_id)
                        && p.get(keys::SSO_ROLE_NAME) == Some(role_name)
                })
            })
            .map(String::from)
    }

    /// The browser for a command that works on a session picked by `selector` (`login`, the
    /// portal): the profile is `--profile`, else the one from the environment (or `default`)
    /// when the session was not named directly.
    pub fn browser_for_session(
        &self,
        flag: Option<&str>,
        selector: &Selector,
        session: &SsoSession,
    ) -> BrowserSetting {
        let profile = selector.profile.clone().or_else(|| {
            if selector.sso_session.is_some() || selector.start_url.is_some() {
                return None;
            }
            Some(self.env.profile_from_env().unwrap_or("default").to_string())
        });
        self.browser_setting(flag, profile.as_deref(), session.name.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const CONFIG: &str = "\
[default]
region = us-east-1

[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = eu-central-1
sso_registration_scopes = sso:account:access

[profile dev-admin]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = AdministratorAccess
region = eu-west-1

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-west-2
sso_account_id = 222233334444
sso_role_name = ReadOnlyAccess

[profile plain]
region = us-east-1

[profile matching]
sso_session = corp
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = eu-central-1

[profile clash]
sso_session = corp
sso_region = us-east-1

[profile dangling]
sso_session = nope

[profile half]
sso_session = corp
sso_account_id = 111122223333
";

    fn ctx_with(text: &str, env: Environment) -> Context {
        Context {
            env,
            config: ConfigFile::parse(Path::new("/home/u/.aws/config"), text).unwrap(),
        }
    }

    fn ctx() -> Context {
        ctx_with(CONFIG, Environment::default())
    }

    #[test]
    fn a_resolved_profiles_ca_bundle_is_noted_for_the_http_stack() {
        let text = format!(
            "{CONFIG}\n[profile bundled]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = R\nca_bundle = ~/certs/corp.pem\n"
        );
        let env = Environment {
            home: Some(PathBuf::from("/home/u")),
            ..Environment::default()
        };
        let c = ctx_with(&text, env);
        c.role_profile("bundled").unwrap();
        let noted = crate::http::tls::bundles();
        crate::http::tls::forget_profile_bundle(Path::new("/home/u/certs/corp.pem"));
        assert!(
            noted
                .iter()
                .any(|b| b.path == Path::new("/home/u/certs/corp.pem")
                    && b.source.to_string() == "ca_bundle of profile bundled"),
            "{noted:?}"
        );
    }

    #[test]
    fn named_session_with_defaults_for_endpoints() {
        let s = ctx().named_session("corp").unwrap();
        assert_eq!(s.cache_key(), "corp");
        assert_eq!(s.region, "eu-central-1");
        assert_eq!(s.scopes, vec!["sso:account:access"]);
        assert_eq!(s.oidc_endpoint, "https://oidc.eu-central-1.amazonaws.com");
        assert_eq!(
            s.portal_endpoint,
            "https://portal.sso.eu-central-1.amazonaws.com"
        );
    }

    #[test]
    fn service_specific_endpoint_variables_win_over_the_global_one() {
        let env = Environment {
            endpoint_url: Some("http://127.0.0.1:9/".into()),
            endpoint_url_sso_oidc: Some("http://127.0.0.1:7".into()),
            ..Environment::default()
        };
        let s = ctx_with(CONFIG, env).named_session("corp").unwrap();
        assert_eq!(s.oidc_endpoint, "http://127.0.0.1:7");
        assert_eq!(s.portal_endpoint, "http://127.0.0.1:9");

        let env = Environment {
            endpoint_url_sso: Some("ftp://x".into()),
            ..Environment::default()
        };
        let err = ctx_with(CONFIG, env).named_session("corp").unwrap_err();
        assert!(
            err.to_string().contains("AWS_ENDPOINT_URL_SSO=ftp://x"),
            "{err}"
        );
    }

    #[test]
    fn role_profile_through_sso_session() {
        let p = ctx().role_profile("dev-admin").unwrap();
        assert_eq!(p.account_id, "111122223333");
        assert_eq!(p.role_name, "AdministratorAccess");
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        assert_eq!(p.session.name.as_deref(), Some("corp"));
    }

    #[test]
    fn legacy_profile_uses_start_url_as_cache_key_and_no_scopes() {
        let p = ctx().role_profile("legacy").unwrap();
        assert_eq!(p.session.name, None);
        assert_eq!(p.session.cache_key(), "https://legacy.awsapps.com/start");
        assert!(p.session.scopes.is_empty());
        assert_eq!(p.session.region, "us-west-2");
    }

    #[test]
    fn matching_duplicated_keys_are_accepted_and_mismatches_refused() {
        assert_eq!(
            ctx().profile_session("matching").unwrap().cache_key(),
            "corp"
        );
        let err = ctx().profile_session("clash").unwrap_err().to_string();
        assert!(
            err.contains("sso_region = us-east-1") && err.contains("eu-central-1"),
            "{err}"
        );
        assert!(
            err.contains("remove sso_region from [profile clash]"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_problem_and_the_fix() {
        let c = ctx();
        let err = c.profile_session("nope").unwrap_err().to_string();
        assert!(
            err.contains("profile \"nope\" is not in /home/u/.aws/config (named by --profile)"),
            "{err}"
        );
        assert!(
            !err.contains("dev-admin"),
            "no list of every profile: {err}"
        );
        assert!(err.contains("`portico list`"), "{err}");

        let err = c.profile_session("dangling").unwrap_err().to_string();
        assert!(
            err.contains("sso-session \"nope\"") && err.contains("known sso-sessions: corp"),
            "{err}"
        );

        let err = c.profile_session("plain").unwrap_err().to_string();
        assert!(err.contains("no Identity Center settings"), "{err}");

        let err = c.role_profile("half").unwrap_err().to_string();
        assert!(err.contains("no sso_role_name"), "{err}");
    }

    #[test]
    fn incomplete_and_invalid_sessions() {
        let c = ctx_with(
            "[sso-session a]\nsso_region = eu-west-1\n[sso-session b]\nsso_start_url = https://x.awsapps.com/start\nsso_region = europe\n\
             [sso-session c]\nsso_start_url = d-123.awsapps.com/start\nsso_region = eu-west-1\n",
            Environment::default(),
        );
        let err = c.named_session("a").unwrap_err().to_string();
        assert!(
            err.contains("[sso-session a]") && err.contains("no sso_start_url"),
            "{err}"
        );
        let err = c.named_session("b").unwrap_err().to_string();
        assert!(err.contains("\"europe\" is not an AWS region"), "{err}");
        let err = c.named_session("c").unwrap_err().to_string();
        assert!(err.contains("not a valid start URL"), "{err}");
    }

    #[test]
    fn selection_order() {
        let c = ctx();
        // Explicit session, then profile.
        let sel = Selector {
            sso_session: Some("corp".into()),
            ..Selector::default()
        };
        assert_eq!(c.session(&sel).unwrap().cache_key(), "corp");
        let sel = Selector {
            profile: Some("legacy".into()),
            ..Selector::default()
        };
        assert_eq!(c.session(&sel).unwrap().region, "us-west-2");
        // [default] has no SSO settings and there is exactly one sso-session.
        assert_eq!(c.session(&Selector::default()).unwrap().cache_key(), "corp");
        // AWS_PROFILE is honoured.
        let env = Environment {
            profile: Some("legacy".into()),
            ..Environment::default()
        };
        let c2 = ctx_with(CONFIG, env);
        assert_eq!(
            c2.session(&Selector::default()).unwrap().region,
            "us-west-2"
        );
        // AWS_DEFAULT_PROFILE as botocore reads it, below AWS_PROFILE.
        let env = Environment {
            default_profile: Some("legacy".into()),
            ..Environment::default()
        };
        assert_eq!(
            ctx_with(CONFIG, env)
                .session(&Selector::default())
                .unwrap()
                .region,
            "us-west-2"
        );
    }

    #[test]
    fn start_url_flag_reuses_a_matching_named_session() {
        let c = ctx();
        let sel = Selector {
            start_url: Some("https://d-1234567890.awsapps.com/start".into()),
            region: Some("eu-central-1".into()),
            ..Selector::default()
        };
        assert_eq!(c.session(&sel).unwrap().name.as_deref(), Some("corp"));
        let sel = Selector {
            start_url: Some("https://other.awsapps.com/start".into()),
            region: Some("eu-central-1".into()),
            ..Selector::default()
        };
        assert_eq!(
            c.session(&sel).unwrap().cache_key(),
            "https://other.awsapps.com/start"
        );
        let sel = Selector {
            start_url: Some("https://x.awsapps.com/start".into()),
            ..Selector::default()
        };
        assert!(matches!(
            c.session(&sel),
            Err(SettingsError::StartUrlWithoutRegion)
        ));
    }

    #[test]
    fn nothing_or_several_sessions() {
        let c = ctx_with("[default]\nregion = us-east-1\n", Environment::default());
        assert!(matches!(
            c.session(&Selector::default()),
            Err(SettingsError::NothingConfigured { .. })
        ));
        let c = ctx_with(
            "[sso-session a]\nsso_start_url = https://a.awsapps.com/start\nsso_region = eu-west-1\n\
             [sso-session b]\nsso_start_url = https://b.awsapps.com/start\nsso_region = eu-west-1\n",
            Environment::default(),
        );
        let err = c.session(&Selector::default()).unwrap_err().to_string();
        assert!(err.contains("several sso-sessions (a, b)"), "{err}");
        assert_eq!(c.all_sessions().len(), 2);
    }

    #[test]
    fn config_path_from_env_with_tilde() {
        let env = Environment {
            home: Some("/home/u".into()),
            config_file: Some("~/cfg/aws".into()),
            ..Environment::default()
        };
        assert_eq!(env.config_path().unwrap(), PathBuf::from("/home/u/cfg/aws"));
        let env = Environment {
            home: Some("/home/u".into()),
            ..Environment::default()
        };
        assert_eq!(
            env.config_path().unwrap(),
            PathBuf::from("/home/u/.aws/config")
        );
        assert_eq!(
            env.sso_cache_dir().unwrap(),
            PathBuf::from("/home/u/.aws/sso/cache")
        );
    }

    #[test]
    fn region_shapes() {
        for ok in [
            "eu-central-1",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "ap-southeast-5",
        ] {
            assert!(check_region("r", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "europe",
            "eu-central",
            "EU-CENTRAL-1",
            "eu--1",
            "eu-central-x",
        ] {
            assert!(check_region("r", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn browser_setting_precedence() {
        let text = "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\nsso_region = eu-west-1\nportico_browser = firefox:corp\n\
                    [profile admin]\nsso_session = corp\nportico_browser = firefox-private\n[profile plain]\nsso_session = corp\nportico_browser =\n";
        let env = Environment {
            portico_browser: Some("chrome:Work".into()),
            browser: Some("lynx".into()),
            ..Environment::default()
        };
        let full = ctx_with(text, env.clone());
        let pick = |c: &Context, flag: Option<&str>, profile: Option<&str>| {
            let s = c.browser_setting(flag, profile, Some("corp"));
            (s.value, s.origin.to_string())
        };
        assert_eq!(
            pick(&full, Some("none"), Some("admin")),
            (Some("none".into()), "--browser".into())
        );
        assert_eq!(
            pick(&full, None, Some("admin")),
            (Some("chrome:Work".into()), "PORTICO_BROWSER".into())
        );
        let no_var = ctx_with(
            text,
            Environment {
                portico_browser: None,
                ..env.clone()
            },
        );
        assert_eq!(
            pick(&no_var, None, Some("admin")),
            (
                Some("firefox-private".into()),
                "portico_browser of [profile admin]".into()
            )
        );
        // An empty key does not hide the session's.
        assert_eq!(
            pick(&no_var, None, Some("plain")),
            (
                Some("firefox:corp".into()),
                "portico_browser of [sso-session corp]".into()
            )
        );
        let bare = "[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\nsso_region = eu-west-1\n";
        let only_browser = ctx_with(
            bare,
            Environment {
                portico_browser: None,
                ..env
            },
        );
        assert_eq!(
            pick(&only_browser, None, None),
            (Some("lynx".into()), "BROWSER".into())
        );
        assert_eq!(
            pick(&ctx_with(bare, Environment::default()), None, None),
            (None, "the system default".into())
        );
    }

    #[test]
    fn an_unknown_profile_says_where_its_name_came_from_and_what_is_close() {
        let err = ctx()
            .selected_role_profile(Some("dev-admn"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "profile \"dev-admn\" is not in /home/u/.aws/config (named by --profile); did you mean dev-admin? \
             pass the name of a profile in the file (`portico list` shows your roles, \
             `portico profiles sync` writes a profile for each)"
                .replace("? pass", "?; pass")
        );
        for (env, origin) in [
            (
                Environment {
                    profile: Some("Dev-Admin\u{1b}".into()),
                    default_profile: Some("ignored".into()),
                    ..Environment::default()
                },
                "(named by AWS_PROFILE)",
            ),
            (
                Environment {
                    default_profile: Some("Dev-Admin\u{1b}".into()),
                    ..Environment::default()
                },
                "(named by AWS_DEFAULT_PROFILE)",
            ),
        ] {
            let err = ctx_with(CONFIG, env)
                .selected_role_profile(None)
                .unwrap_err()
                .to_string();
            assert!(err.contains(origin), "{err}");
            assert!(!err.contains('\u{1b}'), "cleaned: {err}");
            assert!(err.contains("did you mean dev-admin?"), "{err}");
        }
        // No name at all: say so rather than `profile "default"`.
        let err = ctx_with("[profile a]\nregion = us-east-1\n", Environment::default())
            .selected_role_profile(None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "no profile was named (no --profile, AWS_PROFILE or AWS_DEFAULT_PROFILE)"
            ),
            "{err}"
        );
        assert!(!err.contains("\"default\""), "{err}");
        // Hundreds of profiles: a few suggestions, one line.
        let many: String = (0..300)
            .map(|i| format!("[profile acct{i}-Admin]\nregion = us-east-1\n"))
            .collect();
        let err = ctx_with(&many, Environment::default())
            .selected_role_profile(Some("acct1-admin"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean acct1-Admin, "), "{err}");
        assert!(err.len() < 400 && !err.contains('\n'), "{err}");
    }

    #[test]
    fn closest_names_prefer_small_edits_then_containing_names() {
        let names = ["dev-admin", "dev-read", "prod-admin", "sandbox"];
        assert_eq!(closest_names("dev-admn", &names), ["dev-admin"]);
        assert_eq!(closest_names("DEV-ADMIN", &names), ["dev-admin"]);
        assert_eq!(closest_names("admin", &names), ["dev-admin", "prod-admin"]);
        assert!(closest_names("zzz", &names).is_empty());
    }

    #[test]
    fn account_ids_in_profiles_are_twelve_digits() {
        let c = ctx_with(
            &CONFIG.replace(
                "sso_account_id = 111122223333\nsso_role_name = AdministratorAccess",
                "sso_account_id = 1111222233\nsso_role_name = AdministratorAccess",
            ),
            Environment::default(),
        );
        let err = c.role_profile("dev-admin").unwrap_err().to_string();
        assert!(
            err.contains("sso_account_id of [profile dev-admin] \"1111222233\" is not an AWS account ID: account IDs are 12 digits"),
            "{err}"
        );
    }

    #[test]
    fn the_hint_for_an_empty_config_names_only_flags_the_command_has() {
        let c = ctx_with("[default]\nregion = us-east-1\n", Environment::default());
        let err = c.session(&Selector::default()).unwrap_err().to_string();
        assert!(!err.contains("--start-url"), "{err}");
        assert!(err.contains("run `portico configure` first"), "{err}");
        let sel = Selector {
            takes_start_url: true,
            ..Selector::default()
        };
        let err = c.session(&sel).unwrap_err().to_string();
        assert!(err.contains("--start-url URL --region REGION"), "{err}");
    }

    #[test]
    fn a_lazily_loaded_config_checks_the_sections_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let env = Environment {
            config_file: Some(path.clone()),
            ..Environment::default()
        };
        let text = format!("{CONFIG}\n[profile broken]\nsso_session = corp\nnot a setting\n");
        std::fs::write(&path, &text).unwrap();
        // The warm path does not trip over a line in a profile it does not read...
        let c = Context::load_lazy(env.clone(), Some("dev-admin")).unwrap();
        assert!(c.config.is_partial());
        assert_eq!(
            c.role_profile("dev-admin").unwrap().account_id,
            "111122223333"
        );
        // ...but reports one in the profile it reads, with its line, as a config error.
        let c = Context::load_lazy(env.clone(), Some("broken")).unwrap();
        let err = c.role_profile("broken").unwrap_err();
        assert!(
            matches!(err, SettingsError::Config(LoadError::Parse(_))),
            "{err}"
        );
        let line = text.lines().position(|l| l == "not a setting").unwrap() + 1;
        assert!(
            err.to_string()
                .contains(&format!("line {line}: expected `key = value`")),
            "{err}"
        );
        // Every other command refuses the file at once.
        assert!(Context::load(env.clone()).is_err());
        // An indented `[` may continue a value: then the whole file is read as usual.
        std::fs::write(
            &path,
            format!("{CONFIG}\n[profile x]\nnote = a\n  [odd]\nregion = r\n"),
        )
        .unwrap();
        let c = Context::load_lazy(env.clone(), Some("x")).unwrap();
        assert!(!c.config.is_partial());
        assert_eq!(
            c.config.profile_names().len(),
            Context::load(c.env.clone())
                .unwrap()
                .config
                .profile_names()
                .len()
        );
    }

    /// The warm path streams the file and keeps only what it may need; an unknown profile still
    /// gets suggestions from the whole file.
    /// The loader, `configure` and the portal's form accept the same start URLs: https, or
    /// http to this machine (a local emulator).
    #[test]
    fn start_urls_follow_the_one_rule() {
        for ok in [
            "https://d-1234567890.awsapps.com/start",
            "https://d-1234567890.awsapps.cn/start",
            "https://start.us-gov-home.awsapps.com/directory/d-1234567890",
            "http://127.0.0.1:4566/start",
            "http://localhost:8080/start",
        ] {
            assert!(check_start_url("--start-url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "http://example.com/start",
            "d-1.awsapps.com/start",
            "https://",
        ] {
            let err = check_start_url("--start-url", bad).unwrap_err();
            assert!(matches!(err, SettingsError::BadStartUrl { .. }), "{bad}");
        }
    }

    #[test]
    fn the_streaming_load_keeps_only_the_profile_default_and_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let mut text = format!("\u{feff}# mine\n{CONFIG}");
        text.push_str(
            &crate::awsconfig::tests::many_profiles(3000)
                .replace("[sso-session corp]", "[sso-session other]"),
        );
        text.push_str("[profile dev-admin]\nregion = ap-south-1\n");
        std::fs::write(&path, &text).unwrap();
        let env = Environment {
            config_file: Some(path.clone()),
            ..Environment::default()
        };
        let c = Context::load_lazy(env.clone(), Some("dev-admin")).unwrap();
        assert!(c.config.is_partial());
        // [default], two [profile dev-admin] and two sso-sessions.
        assert_eq!(c.config.sections().len(), 5);
        let full = Context::load(env.clone()).unwrap();
        let (a, b) = (
            c.config.profile("dev-admin").unwrap(),
            full.config.profile("dev-admin").unwrap(),
        );
        assert_eq!((a.line, &a.settings), (b.line, &b.settings));
        assert_eq!(
            c.config.sso_session("corp").unwrap().line,
            full.config.sso_session("corp").unwrap().line
        );
        let err = Context::load_lazy(env, Some("p2999x"))
            .unwrap()
            .selected_role_profile(Some("p2999x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean p2999"), "{err}");
    }

    #[test]
    fn the_warm_path_reads_two_sections_of_a_large_config() {
        let c = ctx_with(
            &crate::awsconfig::tests::many_profiles(8000),
            Environment::default(),
        );
        let p = c.selected_role_profile(Some("p7999")).unwrap();
        assert_eq!(p.account_id, "100000007999");
        assert_eq!(c.config.sections_read(), 2);
    }
}

/// The header prefix of a `[saml-session NAME]` section. botocore and the Rust SDK skip
/// sections of unknown kinds, so the AWS CLI reads the file as before.
pub const SAML_SESSION_PREFIX: &str = "saml-session ";

/// The identifier (entity id) of Entra's "AWS Single-Account Access" application.
pub const DEFAULT_SAML_ENTITY_ID: &str = "urn:amazon:webservices";

/// The region whose STS endpoint a SAML session uses by default.
pub const DEFAULT_STS_REGION: &str = "us-east-1";

/// A `[saml-session NAME]`: Entra's SAML application for AWS, signed into in the browser, and
/// the STS endpoint that turns its assertion into role keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlSession {
    pub name: String,
    /// `idp_url`: `https://login.microsoftonline.com/{tenant}/saml2`.
    pub idp_url: String,
    /// `entity_id`: the application's identifier, the AuthnRequest's Issuer.
    pub entity_id: String,
    /// `sts_region`: the regional STS endpoint's region.
    pub sts_region: String,
    /// `acs_port`: a fixed loopback port for the reply URL; `None` picks a free one.
    pub acs_port: Option<u16>,
    /// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else `https://sts.{sts_region}.amazonaws.com`.
    pub sts_endpoint: String,
    /// `portico_storage` (or `PORTICO_STORAGE`): where the kept assertion and keys are kept.
    pub storage: crate::vault::Storage,
}

impl SamlSession {
    /// The key under which this session's role keys, assertion and locks are filed (never an
    /// sso-session's: those have no space in them).
    pub fn cache_key(&self) -> String {
        format!("{SAML_SESSION_PREFIX}{}", self.name)
    }

    /// How messages name this session, cleaned for a terminal (the name comes from a file).
    pub fn label(&self) -> String {
        format!("saml-session {}", for_terminal(&self.name))
    }
}

impl Context {
    /// The `[saml-session NAME]` sections, in file order.
    pub fn saml_session_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for section in self.config.sections() {
            if section.kind != SectionKind::Other {
                continue;
            }
            if let Some(name) = saml_session_name(&section.name) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
        names
    }

    /// The `[saml-session NAME]` section, checked (the last copy wins, as for sso-sessions).
    pub fn saml_session(&self, name: &str) -> Result<SamlSession, SettingsError> {
        // The profile a command runs under (AWS_PROFILE or default) lends its ca_bundle.
        self.note_ca_bundle(&self.env.pick_profile(None).0);
        let section = self
            .config
            .sections()
            .into_iter()
            .rev()
            .find(|s| s.kind == SectionKind::Other && saml_session_name(&s.name) == Some(name));
        let section = self
            .checked(section)?
            .ok_or_else(|| SettingsError::SamlSessionNotFound {
                name: name.to_string(),
                path: self.path(),
                available: self.saml_session_names(),
            })?;
        let header = format!("saml-session {name}");
        let bad =
            |key: &'static str, value: &str, why: &'static str| SettingsError::BadSamlSetting {
                session: name.to_string(),
                path: self.path(),
                key,
                value: value.to_string(),
                why,
            };
        let idp_url = self.require(section, &header, "idp_url")?;
        check_idp_url(idp_url).map_err(|why| bad("idp_url", idp_url, why))?;
        let entity_id = section.get("entity_id").unwrap_or(DEFAULT_SAML_ENTITY_ID);
        if entity_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad(
                "entity_id",
                entity_id,
                "has spaces or control characters; use the application's identifier, e.g. urn:amazon:webservices or urn:amazon:webservices#2",
            ));
        }
        let sts_region = section.get("sts_region").unwrap_or(DEFAULT_STS_REGION);
        check_region(&format!("sts_region of [{header}]"), sts_region)?;
        let acs_port = match section.get("acs_port") {
            None => None,
            Some(text) => Some(
                text.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad("acs_port", text, "is not a port number (1-65535); give the port of the reply URL http://localhost:PORT/saml or remove acs_port"))?,
            ),
        };
        let sts_endpoint = match self
            .env
            .endpoint_url_sts
            .as_ref()
            .map(|u| ("AWS_ENDPOINT_URL_STS", u))
            .or(self
                .env
                .endpoint_url
                .as_ref()
                .map(|u| ("AWS_ENDPOINT_URL", u)))
        {
            Some((var, url)) => {
                if url.starts_with("http://") || url.starts_with("https://") {
                    url.trim_end_matches('/').to_string()
                } else {
                    return Err(SettingsError::BadEndpoint(format!("{var}={url}")));
                }
            }
            None => format!("https://sts.{sts_region}.amazonaws.com"),
        };
        Ok(SamlSession {
            name: name.to_string(),
            idp_url: idp_url.to_string(),
            entity_id: entity_id.to_string(),
            sts_region: sts_region.to_string(),
            acs_port,
            sts_endpoint,
            storage: storage::resolve(section.get(keys::PORTICO_STORAGE), &header, &self.path())?,
        })
    }

    /// The browser for a SAML sign-in or console: `--browser`, `PORTICO_BROWSER`, the
    /// saml-session's `portico_browser`, `BROWSER`, the system default.
    pub fn saml_browser_setting(&self, flag: Option<&str>, session: &str) -> BrowserSetting {
        self.saml_browser_setting_for(flag, None, session)
    }

    /// [`saml_browser_setting`](Self::saml_browser_setting) for a role a profile names (one
    /// `profiles sync --saml-session` wrote): that profile's `portico_browser` comes before
    /// the saml-session's, as a profile's comes before its sso-session's.
    pub fn saml_browser_setting_for(
        &self,
        flag: Option<&str>,
        profile: Option<&str>,
        session: &str,
    ) -> BrowserSetting {
        let setting = self.browser_setting(flag, profile, None);
        if matches!(
            setting.origin,
            BrowserOrigin::Flag | BrowserOrigin::Variable | BrowserOrigin::Profile(_)
        ) {
            return setting;
        }
        let value = self
            .config
            .sections()
            .into_iter()
            .rev()
            .find(|s| s.kind == SectionKind::Other && saml_session_name(&s.name) == Some(session))
            .and_then(|s| s.get(BROWSER_KEY))
            .map(str::trim)
            .filter(|v| !v.is_empty());
        match value {
            Some(v) => BrowserSetting {
                value: Some(v.to_string()),
                origin: BrowserOrigin::SamlSession(session.to_string()),
            },
            None => setting,
        }
    }
}

/// `NAME` of a `saml-session NAME` header.
fn saml_session_name(header: &str) -> Option<&str> {
    let name = header.strip_prefix("saml-session")?;
    if !name.starts_with(char::is_whitespace) {
        return None;
    }
    Some(name.trim()).filter(|n| !n.is_empty())
}

/// An IdP URL is https with a host; plain http only to this machine (a local test IdP).
pub fn check_idp_url(value: &str) -> Result<(), &'static str> {
    const WHY: &str = "is not an https URL; use the application's SAML endpoint, https://login.microsoftonline.com/TENANT/saml2";
    let url = url::Url::parse(value).map_err(|_| WHY)?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(WHY),
    }
}

#[cfg(test)]
mod saml_tests {
    use super::*;
    use std::path::Path;

    fn ctx(text: &str, env: Environment) -> Context {
        Context {
            env,
            config: ConfigFile::parse(Path::new("/home/u/.aws/config"), text).unwrap(),
        }
    }

    const TEXT: &str = "[profile dev]\nregion = eu-west-1\n\
        [saml-session aws]\nidp_url = https://login.microsoftonline.com/t/saml2\n\
        [saml-session  two ]\nidp_url = https://login.microsoftonline.com/t/saml2\nentity_id = urn:amazon:webservices#2\n\
        sts_region = eu-central-1\nacs_port = 8400\nportico_browser = firefox:work\n\
        [saml-sessions x]\nidp_url = https://x/\n";

    #[test]
    fn saml_sessions_with_defaults_and_every_key() {
        let c = ctx(TEXT, Environment::default());
        assert_eq!(c.saml_session_names(), vec!["aws", "two"]);
        let aws = c.saml_session("aws").unwrap();
        assert_eq!(aws.entity_id, "urn:amazon:webservices");
        assert_eq!(aws.sts_region, "us-east-1");
        assert_eq!(aws.sts_endpoint, "https://sts.us-east-1.amazonaws.com");
        assert_eq!(aws.acs_port, None);
        assert_eq!(aws.cache_key(), "saml-session aws");
        let two = c.saml_session("two").unwrap();
        assert_eq!(two.entity_id, "urn:amazon:webservices#2");
        assert_eq!(two.sts_endpoint, "https://sts.eu-central-1.amazonaws.com");
        assert_eq!(two.acs_port, Some(8400));
        let b = c.saml_browser_setting(None, "two");
        assert_eq!(b.value.as_deref(), Some("firefox:work"));
        assert_eq!(
            b.origin.to_string(),
            "portico_browser of [saml-session two]"
        );
        assert_eq!(
            c.saml_browser_setting(None, "aws").origin,
            BrowserOrigin::SystemDefault
        );
        assert_eq!(
            c.saml_browser_setting(Some("none"), "two").origin,
            BrowserOrigin::Flag
        );

        let env = Environment {
            endpoint_url: Some("http://127.0.0.1:9/".into()),
            ..Environment::default()
        };
        assert_eq!(
            ctx(TEXT, env.clone())
                .saml_session("aws")
                .unwrap()
                .sts_endpoint,
            "http://127.0.0.1:9"
        );
        let env = Environment {
            endpoint_url_sts: Some("http://127.0.0.1:7".into()),
            ..env
        };
        assert_eq!(
            ctx(TEXT, env).saml_session("aws").unwrap().sts_endpoint,
            "http://127.0.0.1:7"
        );
    }

    #[test]
    fn bad_saml_sessions_name_the_key_and_the_fix() {
        let err = |text: &str, name: &str| {
            ctx(text, Environment::default())
                .saml_session(name)
                .unwrap_err()
                .to_string()
        };
        let e = err(TEXT, "x");
        assert!(
            e.contains("saml-session \"x\" is not in")
                && e.contains("known saml-sessions: aws, two"),
            "{e}"
        );
        let e = err("[saml-session a]\nsts_region = eu-west-1\n", "a");
        assert!(e.contains("has no idp_url"), "{e}");
        let e = err(
            "[saml-session a]\nidp_url = http://login.microsoftonline.com/t/saml2\n",
            "a",
        );
        assert!(
            e.contains("idp_url") && e.contains("is not an https URL"),
            "{e}"
        );
        let e = err(
            "[saml-session a]\nidp_url = https://x/saml2\nacs_port = 70000\n",
            "a",
        );
        assert!(
            e.contains("acs_port \"70000\"") && e.contains("not a port number"),
            "{e}"
        );
        let e = err(
            "[saml-session a]\nidp_url = https://x/saml2\nsts_region = moon\n",
            "a",
        );
        assert!(e.contains("not an AWS region"), "{e}");
        // A local test IdP may be plain http.
        assert!(ctx(
            "[saml-session a]\nidp_url = http://127.0.0.1:8/t/saml2\n",
            Environment::default()
        )
        .saml_session("a")
        .is_ok());
    }
}
