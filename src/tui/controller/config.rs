//! The portal's writes to `~/.aws/config`: the first-run form's `[sso-session]` and a
//! `[profile]` for the selected role, through the line-preserving editor.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::awsconfig::edit::{EditableFile, SectionId};
use crate::configure::{self, Answers};
use crate::consts::SCOPE_ACCOUNT_ACCESS as DEFAULT_SCOPE;
use crate::settings::{Context, SsoSession};
use crate::tui::{Choice, SessionInfo};

use super::portal::Portal;

impl Portal {
    fn lock_dir(&self) -> PathBuf {
        self.cache_root.join("locks")
    }

    fn reload_config(&mut self) -> anyhow::Result<()> {
        self.ctx = Context::load(self.ctx.env.clone())?;
        Ok(())
    }

    /// The first-run form's `[sso-session]`, written through the line-preserving editor.
    pub(super) fn write_session(&mut self, info: &SessionInfo) -> anyhow::Result<SsoSession> {
        let path = self.ctx.config.path.clone();
        let mut file = EditableFile::open_parsed(&path)?;
        let answers = Answers {
            session: info.name.clone(),
            start_url: info.start_url.clone(),
            region: info.region.clone(),
            scopes: Some(vec![DEFAULT_SCOPE.to_string()]),
            profile: None,
        };
        configure::apply(&mut file.doc, &answers)?;
        file.save(&self.lock_dir())?;
        self.reload_config()?;
        let session = self.ctx.named_session(&info.name)?;
        self.sessions = vec![session.clone()];
        Ok(session)
    }

    /// `[profile NAME]` pointing at the open session's account and role. An existing profile
    /// is never repurposed: the user picks another name.
    pub(super) fn save_profile(&mut self, choice: &Choice, name: &str) -> anyhow::Result<String> {
        let session = self.current.clone().context("no session is open")?;
        let Some(session_name) = session.name.clone() else {
            anyhow::bail!(
                "profiles can only point at an [sso-session]; this session comes from a legacy profile (run `portico configure` to add one)"
            );
        };
        let path = self.ctx.config.path.clone();
        let mut file = EditableFile::open_parsed(&path)?;
        let id = SectionId::profile(name);
        if let Some(existing) = file.doc.section(&id) {
            let same = existing.get("sso_session") == Some(session_name.as_str())
                && existing.get("sso_account_id") == Some(choice.account_id.as_str())
                && existing.get("sso_role_name") == Some(choice.role.as_str());
            if same {
                return Ok(format!(
                    "[{id}] in {} already uses {} in {}",
                    path.display(),
                    choice.role,
                    choice.account_name
                ));
            }
            anyhow::bail!(
                "[{id}] already exists in {} (line {}) for something else; choose another name",
                path.display(),
                existing.line
            );
        }
        file.doc.upsert(
            &id,
            &[
                ("sso_session", session_name.as_str()),
                ("sso_account_id", choice.account_id.as_str()),
                ("sso_role_name", choice.role.as_str()),
            ],
            &[],
        )?;
        file.save(&self.lock_dir())?;
        self.reload_config()?;
        Ok(format!("added [{id}] to {}", path.display()))
    }
}
