//! Chained roles: an IAM role assumed (STS `AssumeRole`) with the keys of another source — an
//! Identity Center role, a SAML role, a profile's static keys, the environment's keys, or
//! another chained role. Named in `~/.aws/config` with the AWS CLI's keys (docs/protocol.md
//! "Role chaining": `role_arn` with `source_profile` or `credential_source`, and
//! `role_session_name`, `external_id`, `duration_seconds`, `mfa_serial`, `region`), or ad hoc
//! with `--chain ROLE_ARN` after any target. This file turns either into a
//! [`Target::Chained`](super::Target); `assume.rs` asks STS.

use crate::awsconfig::{ConfigFile, SectionKind};
use crate::cache::assumerole::{cache_key, KeyArgs};
use crate::consts as keys;
use crate::model::id::RoleArn;
use crate::secret::Secret;
use crate::settings::{check_region, Context, SettingsError, DEFAULT_STS_REGION};

use super::target::{resolve_from, Resolved, Target, Wanted};

/// `role_arn`, `source_profile`, … : the AWS CLI's names, to the letter.
pub const ROLE_ARN: &str = "role_arn";
pub const SOURCE_PROFILE: &str = "source_profile";
pub const CREDENTIAL_SOURCE: &str = "credential_source";
pub const ROLE_SESSION_NAME: &str = "role_session_name";
pub const EXTERNAL_ID: &str = "external_id";
pub const DURATION_SECONDS: &str = "duration_seconds";
pub const MFA_SERIAL: &str = "mfa_serial";

/// The longest session STS gives a role assumed with another role's keys.
pub const CHAINED_MAX: i32 = 3600;

/// An IAM role assumed with the keys of `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedRole {
    pub source: ChainSource,
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    pub account_id: String,
    pub role_name: String,
    /// The chained profile that names the role; `None` for `--chain`.
    pub profile: Option<String>,
    /// What the profile configures (each `None` when it does not).
    pub role_session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_seconds: Option<i64>,
    pub mfa_serial: Option<String>,
    /// `--mfa-code`, for scripts.
    pub mfa_code: Option<Secret>,
    /// The region of the STS endpoint, and the endpoint.
    pub sts_region: String,
    pub sts_endpoint: String,
    /// botocore's key of the AWS CLI's cache file (`~/.aws/cli/cache/{key}.json`).
    pub key: String,
    /// [`Target::cache_key`](super::Target::cache_key): `chained KEY` (never an sso-session's
    /// or a saml-session's key).
    pub(super) cache_key: String,
}

/// Where a chained role's source keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainSource {
    /// Another target's role keys (Identity Center, SAML, or chained), obtained through the
    /// engine: cached, single flight, signing in as allowed.
    Role(Box<Target>),
    /// A profile's `aws_access_key_id` / `aws_secret_access_key` (config or credentials file).
    Keys { profile: String, keys: StaticKeys },
    /// `credential_source = Environment`: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, read when the keys are needed.
    Environment,
}

/// Long-lived (or session) keys from a file or the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticKeys {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl StaticKeys {
    /// The environment's keys, as botocore's `EnvProvider` reads them.
    pub fn from_environment() -> Option<StaticKeys> {
        // Read here rather than captured in `Environment`: only a chained role with
        // `credential_source = Environment` ever uses them.
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(StaticKeys {
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: Secret::new(var("AWS_SECRET_ACCESS_KEY")?),
            session_token: var("AWS_SESSION_TOKEN")
                .or_else(|| var("AWS_SECURITY_TOKEN"))
                .map(Secret::new),
        })
    }
}

impl ChainedRole {
    /// The target at the bottom of the chain whose sign-in the keys stand on, if any.
    pub fn signed_in_source(&self) -> Option<&Target> {
        match &self.source {
            ChainSource::Role(target) => match target.as_ref() {
                Target::Chained(inner) => inner.signed_in_source(),
                other => Some(other),
            },
            _ => None,
        }
    }

    /// Whether the source's keys are a role's (STS then caps the session at one hour).
    pub fn source_is_role(&self) -> bool {
        matches!(self.source, ChainSource::Role(_))
    }

    /// Where its keys are kept: where its source's sign-in keeps its secrets (a keyring
    /// session's chained keys go to that keyring, never to the AWS CLI's file); files for
    /// static keys and the environment.
    pub fn storage(&self) -> crate::model::Storage {
        match &self.source {
            ChainSource::Role(source) => source.storage(),
            _ => crate::model::Storage::File,
        }
    }

    /// How messages name it: `profile NAME` or the role ARN.
    pub fn label(&self) -> String {
        match &self.profile {
            Some(p) => format!("profile {}", crate::sanitize::for_terminal(p)),
            None => crate::sanitize::for_terminal(&self.role_arn),
        }
    }

    /// The source, as messages name it.
    pub fn source_label(&self) -> String {
        match &self.source {
            ChainSource::Role(target) => match target.as_ref() {
                Target::Chained(inner) => inner.label(),
                other => other.describe(),
            },
            ChainSource::Keys { profile, .. } => {
                format!(
                    "the keys of profile {}",
                    crate::sanitize::for_terminal(profile)
                )
            }
            ChainSource::Environment => "the environment's keys".into(),
        }
    }
}

/// What a chained role is built from.
struct Parts<'a> {
    role_arn: &'a str,
    profile: Option<&'a str>,
    role_session_name: Option<&'a str>,
    external_id: Option<&'a str>,
    duration_seconds: Option<i64>,
    mfa_serial: Option<&'a str>,
    region: Option<&'a str>,
}

fn chained(ctx: &Context, source: ChainSource, parts: Parts) -> Result<ChainedRole, SettingsError> {
    let path = ctx.config.path.display().to_string();
    let arn = RoleArn::parse(parts.role_arn).ok_or_else(|| SettingsError::Chain {
        profile: parts.profile.unwrap_or("--chain").to_string(),
        path: path.clone(),
        problem: format!(
            "names role_arn \"{}\", which is not an IAM role ARN; use arn:aws:iam::ACCOUNT:role/NAME",
            crate::sanitize::for_terminal(parts.role_arn)
        ),
    })?;
    // The profile's region, else the source's STS region (a SAML or chained source), else
    // us-east-1, as the issue asks.
    let sts_region = match (parts.region, &source) {
        (Some(region), _) => region.to_string(),
        (None, ChainSource::Role(target)) => match target.as_ref() {
            Target::Saml(role) => role.session.sts_region.clone(),
            Target::Chained(role) => role.sts_region.clone(),
            Target::IdentityCenter(_) => DEFAULT_STS_REGION.to_string(),
        },
        _ => DEFAULT_STS_REGION.to_string(),
    };
    let sts_endpoint = sts_endpoint(ctx, &sts_region)?;
    let key = cache_key(&KeyArgs {
        role_arn: parts.role_arn,
        role_session_name: parts.role_session_name,
        external_id: parts.external_id,
        serial_number: parts.mfa_serial,
        duration_seconds: parts.duration_seconds,
    });
    Ok(ChainedRole {
        source,
        role_arn: parts.role_arn.to_string(),
        account_id: arn.account_id.to_string(),
        role_name: arn.name.to_string(),
        profile: parts.profile.map(String::from),
        role_session_name: parts.role_session_name.map(String::from),
        external_id: parts.external_id.map(String::from),
        duration_seconds: parts.duration_seconds,
        mfa_serial: parts.mfa_serial.map(String::from),
        mfa_code: None,
        sts_region,
        sts_endpoint,
        cache_key: format!("chained {key}"),
        key,
    })
}

/// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else STS in `region`.
fn sts_endpoint(ctx: &Context, region: &str) -> Result<String, SettingsError> {
    let set = ctx
        .env
        .endpoint_url_sts
        .as_ref()
        .map(|u| ("AWS_ENDPOINT_URL_STS", u))
        .or(ctx
            .env
            .endpoint_url
            .as_ref()
            .map(|u| ("AWS_ENDPOINT_URL", u)));
    match set {
        Some((_, url)) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(url.trim_end_matches('/').to_string())
        }
        Some((var, url)) => Err(SettingsError::BadEndpoint(format!("{var}={url}"))),
        None if region.starts_with("cn-") => Ok(format!("https://sts.{region}.amazonaws.com.cn")),
        None => Ok(format!("https://sts.{region}.amazonaws.com")),
    }
}

/// `--chain ROLE_ARN …` after `source`: each role assumed with the keys of the one before.
pub(super) fn resolve_adhoc(
    ctx: &Context,
    source: Resolved,
    role_arns: &[String],
) -> Result<Resolved, SettingsError> {
    let mut resolved = source;
    for role_arn in role_arns {
        let role = chained(
            ctx,
            ChainSource::Role(Box::new(resolved.target)),
            Parts {
                role_arn,
                profile: None,
                role_session_name: None,
                external_id: None,
                duration_seconds: None,
                mfa_serial: None,
                region: resolved.region.as_deref(),
            },
        )?;
        resolved = Resolved {
            target: Target::Chained(role),
            region: resolved.region,
            profile: resolved.profile,
        };
    }
    Ok(resolved)
}

/// Hands `code` (`--mfa-code`) to every chained role of `target` that asks for one.
pub(super) fn give_mfa_code(target: &mut Target, code: &str) {
    if let Target::Chained(role) = target {
        if role.mfa_serial.is_some() {
            role.mfa_code = Some(Secret::new(code));
        }
        if let ChainSource::Role(inner) = &mut role.source {
            give_mfa_code(inner, code);
        }
    }
}

/// Whether profile `name` is a chained role (`role_arn`, and no web identity: botocore leaves
/// those to its web-identity provider).
pub(super) fn is_chained(ctx: &Context, name: &str) -> bool {
    ctx.config
        .profile(name)
        .is_some_and(|p| p.get(ROLE_ARN).is_some() && p.get("web_identity_token_file").is_none())
}

/// Profile `name`, which [`is_chained`], as its role assumed with its source's keys. `seen`
/// holds the profiles that led here, to refuse a loop naming it.
pub(super) fn resolve_profile(
    ctx: &Context,
    name: &str,
    seen: &mut Vec<String>,
) -> Result<Resolved, SettingsError> {
    let path = ctx.config.path.display().to_string();
    let problem = |problem: String| SettingsError::Chain {
        profile: name.to_string(),
        path: path.clone(),
        problem,
    };
    if seen.iter().any(|s| s == name) {
        seen.push(name.to_string());
        let chain = seen.join(" → ");
        return Err(SettingsError::Chain {
            profile: seen[0].clone(),
            path,
            problem: format!(
                "leads back to itself through source_profile ({}); point one of them at a profile that signs in or has keys",
                crate::sanitize::for_terminal(&chain)
            ),
        });
    }
    seen.push(name.to_string());
    let section = ctx.config.profile(name).expect("is_chained");
    let get = |key: &str| section.get(key).filter(|v| !v.is_empty());
    let role_arn = get(ROLE_ARN).unwrap_or_default();
    let region = get(keys::REGION);
    if let Some(region) = region {
        check_region(&format!("region of [profile {name}]"), region)?;
    }
    let duration_seconds = match get(DURATION_SECONDS) {
        None => None,
        Some(text) => Some(text.trim().parse::<i64>().ok().filter(|d| *d > 0).ok_or_else(|| {
            problem(format!(
                "sets duration_seconds = {}, which is not a number of seconds; use e.g. 3600 or remove it",
                crate::sanitize::for_terminal(text)
            ))
        })?),
    };
    let source = match (get(SOURCE_PROFILE), get(CREDENTIAL_SOURCE)) {
        (Some(_), Some(_)) => {
            return Err(problem(
                "sets both source_profile and credential_source; keep one of them".into(),
            ))
        }
        (None, None) => {
            return Err(problem(
                "has role_arn but no source_profile or credential_source; add `source_profile = PROFILE` (the profile whose keys assume the role)".into(),
            ))
        }
        (None, Some("Environment")) => ChainSource::Environment,
        (None, Some(other @ ("Ec2InstanceMetadata" | "EcsContainer"))) => {
            return Err(problem(format!(
                "sets credential_source = {other}: portico does not fetch instance or container keys; use the AWS CLI or an SDK for that profile, or set source_profile"
            )))
        }
        (None, Some(other)) => {
            return Err(problem(format!(
                "sets credential_source = {}, which is not one of Environment, Ec2InstanceMetadata, EcsContainer",
                crate::sanitize::for_terminal(other)
            )))
        }
        (Some(source), None) => source_of(ctx, name, source, seen)?,
    };
    let role = chained(
        ctx,
        source,
        Parts {
            role_arn,
            profile: Some(name),
            role_session_name: get(ROLE_SESSION_NAME),
            external_id: get(EXTERNAL_ID),
            duration_seconds,
            mfa_serial: get(MFA_SERIAL),
            region,
        },
    )?;
    Ok(Resolved {
        target: Target::Chained(role),
        region: region.map(String::from),
        profile: Some(name.to_string()),
    })
}

/// The source `source_profile = SOURCE` of profile `name` names.
fn source_of(
    ctx: &Context,
    name: &str,
    source: &str,
    seen: &mut Vec<String>,
) -> Result<ChainSource, SettingsError> {
    let path = ctx.config.path.display().to_string();
    // botocore's order: a source profile's static keys first (a profile may name itself as
    // its source when it has them), then its own role_arn, then what else yields keys.
    if let Some(keys) = static_keys(ctx, source) {
        return Ok(ChainSource::Keys {
            profile: source.to_string(),
            keys,
        });
    }
    if source == name || is_chained(ctx, source) {
        let resolved = resolve_profile(ctx, source, seen)?;
        return Ok(ChainSource::Role(Box::new(resolved.target)));
    }
    if ctx.config.profile(source).is_none() {
        return Err(SettingsError::Chain {
            profile: name.to_string(),
            path: path.clone(),
            problem: format!(
                "names source_profile {0}, which is neither in it nor in the credentials file; add [profile {0}] or fix source_profile",
                crate::sanitize::for_terminal(source)
            ),
        });
    }
    let wanted = Wanted::Profile {
        name: source.to_string(),
        origin: crate::settings::ProfileSource::CredentialProcess,
    };
    let resolved = resolve_from(ctx, &wanted, seen)?;
    Ok(ChainSource::Role(Box::new(resolved.target)))
}

/// A profile's static keys: its section in the shared credentials file
/// (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), else in the config file.
fn static_keys(ctx: &Context, name: &str) -> Option<StaticKeys> {
    let from = |section: &crate::awsconfig::Section| {
        Some(StaticKeys {
            access_key_id: section.get("aws_access_key_id")?.to_string(),
            secret_access_key: Secret::new(section.get("aws_secret_access_key")?),
            session_token: section.get("aws_session_token").map(Secret::new),
        })
    };
    let credentials_path = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| ctx.env.aws_dir().ok().map(|d| d.join("credentials")));
    if let Some(path) = credentials_path {
        if let Ok(file) = ConfigFile::load(&path) {
            // In the credentials file every section is a profile, without the `profile ` word.
            let found = file.sections().into_iter().rev().find(|s| {
                s.name == name && matches!(s.kind, SectionKind::Other | SectionKind::Profile)
            });
            if let Some(keys) = found.and_then(from) {
                return Some(keys);
            }
        }
    }
    ctx.config.profile(name).and_then(from)
}

/// The chained profiles of the config file, in file order (for doctor).
pub fn chained_profiles(ctx: &Context) -> Vec<String> {
    ctx.config
        .profile_names()
        .into_iter()
        .filter(|name| is_chained(ctx, name))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Environment, ProfileSource};

    const CONFIG: &str = "\
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = eu-central-1

[profile hub]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = PlatformEngineer

[profile prod-deploy]
role_arn = arn:aws:iam::444455556666:role/Deploy
source_profile = hub
external_id = k7-example
region = eu-west-1

[profile deeper]
role_arn = arn:aws:iam::777788889999:role/Ops
source_profile = prod-deploy
duration_seconds = 7200

[profile a]
role_arn = arn:aws:iam::444455556666:role/A
source_profile = b

[profile b]
role_arn = arn:aws:iam::444455556666:role/B
source_profile = a

[profile keys]
aws_access_key_id = AKIAEXAMPLE
aws_secret_access_key = secret

[profile from-keys]
role_arn = arn:aws:iam::444455556666:role/Deploy
source_profile = keys

[profile self-keys]
role_arn = arn:aws:iam::444455556666:role/Deploy
source_profile = self-keys
aws_access_key_id = AKIAEXAMPLE
aws_secret_access_key = secret

[profile env]
role_arn = arn:aws:iam::444455556666:role/Deploy
credential_source = Environment

[profile ec2]
role_arn = arn:aws:iam::444455556666:role/Deploy
credential_source = Ec2InstanceMetadata

[profile nowhere]
role_arn = arn:aws:iam::444455556666:role/Deploy
source_profile = missing
";

    fn ctx(dir: &std::path::Path) -> Context {
        let path = dir.join("config");
        std::fs::write(&path, CONFIG).unwrap();
        Context::load(Environment {
            home: Some(dir.to_path_buf()),
            cache_home: Some(dir.join("cache")),
            config_file: Some(path),
            ..Environment::default()
        })
        .unwrap()
    }

    fn resolve(ctx: &Context, name: &str) -> Result<Resolved, SettingsError> {
        super::super::resolve(
            ctx,
            &Wanted::Profile {
                name: name.into(),
                origin: ProfileSource::Flag,
            },
        )
    }

    #[test]
    fn chains_of_any_depth_end_at_the_sign_in() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        let r = resolve(&ctx, "deeper").unwrap();
        let Target::Chained(role) = &r.target else {
            panic!("{r:?}")
        };
        assert_eq!(role.role_name, "Ops");
        assert_eq!(role.duration_seconds, Some(7200));
        // No region of its own: its source's STS region.
        assert_eq!(role.sts_region, "eu-west-1");
        let ChainSource::Role(source) = &role.source else {
            panic!()
        };
        assert_eq!(source.role_name(), "Deploy");
        assert!(matches!(
            role.signed_in_source(),
            Some(Target::IdentityCenter(r)) if r.role_name == "PlatformEngineer"
        ));
        // botocore's key of the profile's own arguments.
        assert_eq!(
            role.key,
            cache_key(&KeyArgs {
                role_arn: "arn:aws:iam::777788889999:role/Ops",
                duration_seconds: Some(7200),
                ..KeyArgs::default()
            })
        );
    }

    #[test]
    fn a_loop_is_refused_naming_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve(&ctx(dir.path()), "a").unwrap_err().to_string();
        assert!(err.contains("a → b → a"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn static_environment_and_unsupported_sources() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        for name in ["from-keys", "self-keys"] {
            let r = resolve(&ctx, name).unwrap();
            let Target::Chained(role) = r.target else {
                panic!()
            };
            assert!(matches!(role.source, ChainSource::Keys { .. }), "{name}");
            assert!(role.signed_in_source().is_none());
        }
        let Target::Chained(role) = resolve(&ctx, "env").unwrap().target else {
            panic!()
        };
        assert_eq!(role.source, ChainSource::Environment);
        let err = resolve(&ctx, "ec2").unwrap_err().to_string();
        assert!(err.contains("portico does not fetch instance"), "{err}");
        let err = resolve(&ctx, "nowhere").unwrap_err().to_string();
        assert!(err.contains("source_profile missing"), "{err}");
    }
}
