//! The environment variables portico reads (captured once, so resolution is a pure function),
//! the directories they lead to, and which profile a command uses.

use std::path::PathBuf;

use super::SettingsError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
