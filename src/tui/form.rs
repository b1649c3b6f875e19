//! The first-run form: a start URL, a region and a session name, checked before the user
//! is shown the lines that will go into the config file.

use crate::awsconfig::names::{check_name, is_valid_name};
use crate::consts as keys;
use crate::settings::check_region;

use super::action::SessionInfo;

/// The form's fields, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    StartUrl = 0,
    Region = 1,
    Name = 2,
}

impl Field {
    pub const ALL: [Field; 3] = [Field::StartUrl, Field::Region, Field::Name];

    pub fn label(self) -> &'static str {
        match self {
            Field::StartUrl => "Start URL",
            Field::Region => "Region",
            Field::Name => "Session name",
        }
    }
}

/// Editing, then looking at the lines to be written, then waiting for the caller to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Edit,
    Confirm,
    Saving,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstRunForm {
    pub values: [String; 3],
    pub errors: [Option<String>; 3],
    pub focus: Field,
    pub step: Step,
}

impl Default for FirstRunForm {
    fn default() -> Self {
        FirstRunForm {
            values: Default::default(),
            errors: Default::default(),
            focus: Field::StartUrl,
            step: Step::Edit,
        }
    }
}

impl FirstRunForm {
    pub fn value(&self, field: Field) -> &str {
        &self.values[field as usize]
    }

    pub fn error(&self, field: Field) -> Option<&str> {
        self.errors[field as usize].as_deref()
    }

    pub(crate) fn focused_mut(&mut self) -> &mut String {
        &mut self.values[self.focus as usize]
    }

    pub(crate) fn move_focus(&mut self, forward: bool) {
        let i = self.focus as usize;
        let next = if forward { (i + 1) % 3 } else { (i + 2) % 3 };
        self.focus = Field::ALL[next];
    }

    /// The session name used when the field is left empty: the alias or directory id of
    /// the start URL.
    pub fn default_name(&self) -> String {
        self.derived_name().unwrap_or_else(|| "default".to_string())
    }

    /// The name the start URL suggests, once it has one.
    pub fn derived_name(&self) -> Option<String> {
        start_url_label(self.value(Field::StartUrl).trim()).filter(|n| is_valid_name(n))
    }

    /// Checks every field; fills the region from an `ssoins-…portal.REGION.app.aws` URL when
    /// it was left empty. Returns the session to write, or marks the fields in error.
    pub fn validate(&mut self) -> Option<SessionInfo> {
        let url = self.value(Field::StartUrl).trim().to_string();
        let url_check = check_start_url(&url);
        if self.value(Field::Region).trim().is_empty() {
            if let Ok(Some(region)) = &url_check {
                self.values[Field::Region as usize] = region.clone();
            }
        }
        let region = self.value(Field::Region).trim().to_string();
        let name = match self.value(Field::Name).trim() {
            "" => self.default_name(),
            n => n.to_string(),
        };
        self.errors[Field::StartUrl as usize] = url_check.as_ref().err().cloned();
        self.errors[Field::Region as usize] = if region.is_empty() {
            Some("enter the region of your IAM Identity Center instance, like eu-central-1".into())
        } else if check_region("region", &region).is_err() {
            Some(format!(
                "{} is not a region name; it looks like eu-central-1",
                crate::sanitize::quoted(&region)
            ))
        } else {
            match &url_check {
                Ok(Some(in_url)) if *in_url != region => Some(format!(
                    "the start URL belongs to {in_url}; use that region"
                )),
                _ => None,
            }
        };
        self.errors[Field::Name as usize] = check_name("sso-session name", &name).err();
        if let Some(first) = Field::ALL.iter().find(|f| self.error(**f).is_some()) {
            self.focus = *first;
            return None;
        }
        Some(SessionInfo {
            name,
            start_url: url,
            region,
        })
    }
}

/// The lines the form adds to the config file.
pub fn config_lines(session: &SessionInfo) -> Vec<String> {
    vec![
        format!("[sso-session {}]", session.name),
        format!("{} = {}", keys::SSO_START_URL, session.start_url),
        format!("{} = {}", keys::SSO_REGION, session.region),
        format!(
            "{} = {}",
            keys::SSO_REGISTRATION_SCOPES,
            keys::SCOPE_ACCOUNT_ACCESS
        ),
    ]
}

/// The start URL rule of [`crate::model::start_url`], as the form needs it: an https URL (an
/// AWS-owned one, or a company's vanity URL that login looks up), or `http://localhost` for the
/// emulator; and the region the URL's host names.
pub fn check_start_url(url: &str) -> Result<Option<String>, String> {
    use crate::model::start_url::{check, Shape, SHAPES};
    if url.is_empty() {
        return Err(format!("enter the AWS access portal URL; {SHAPES}"));
    }
    match check(url) {
        Ok(Shape::AwsOwned { region }) => Ok(region),
        Ok(Shape::Loopback | Shape::Vanity) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// A short name for a start URL: `d-1234567890`, the alias, or `ssoins-…`.
pub fn start_url_label(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    if let Some(label) = host.strip_suffix(".awsapps.com") {
        return Some(label.to_string());
    }
    if host.starts_with("ssoins-") {
        return host.split('.').next().map(str::to_string);
    }
    Some(host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_url_shapes() {
        for ok in [
            "https://d-1234567890.awsapps.com/start",
            "https://d-1234567890.awsapps.com/start/",
            "https://my-corp.awsapps.com/start#/",
            "https://ssoins-0123456789abcdef.portal.eu-central-1.app.aws",
            "https://ssoins-0123456789abcdef.portal.eu-central-1.app.aws/",
            "http://127.0.0.1:4566/start",
        ] {
            assert!(check_start_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            check_start_url("https://ssoins-0123456789abcdef.portal.eu-west-1.app.aws"),
            Ok(Some("eu-west-1".into()))
        );
        for bad in [
            "",
            "d-1234567890.awsapps.com/start",
            "http://d-1234567890.awsapps.com/start",
            "https://alice@d-1234567890.awsapps.com/start",
        ] {
            assert!(check_start_url(bad).is_err(), "{bad}");
        }
        // A company's own address is a vanity URL, looked up at login; a regional portal URL
        // names its region.
        assert_eq!(check_start_url("https://sso.example.com/start"), Ok(None));
        assert_eq!(
            check_start_url("https://ssoins-111111h2222j33pp.eu-west-1.portal.amazonaws.com"),
            Ok(Some("eu-west-1".into()))
        );
    }

    #[test]
    fn validate_fills_region_and_name() {
        let mut form = FirstRunForm::default();
        form.values[0] = "https://ssoins-0123456789abcdef.portal.eu-west-1.app.aws".into();
        let s = form.validate().unwrap();
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.name, "ssoins-0123456789abcdef");

        let mut form = FirstRunForm {
            values: [
                "https://corp.awsapps.com/start".into(),
                "europe".into(),
                "my corp".into(),
            ],
            ..FirstRunForm::default()
        };
        assert!(form.validate().is_none());
        assert!(form.error(Field::StartUrl).is_none());
        assert!(form.error(Field::Region).is_some());
        assert!(form.error(Field::Name).is_some());
        assert_eq!(form.focus, Field::Region);
    }

    #[test]
    fn lines_to_add() {
        let s = SessionInfo {
            name: "corp".into(),
            start_url: "https://corp.awsapps.com/start".into(),
            region: "eu-central-1".into(),
        };
        assert_eq!(config_lines(&s)[0], "[sso-session corp]");
    }
}
