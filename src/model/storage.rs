//! `portico_storage`: which store keeps a session's secrets (the stores themselves are
//! `crate::vault`). A plain type, so that a session can name its storage from the bottom layer.

/// `portico_storage`: where the secrets of one `[sso-session]` or `[saml-session]` are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// 0600 files, shared with the AWS CLI (its token cache); today's behaviour.
    #[default]
    File,
    /// The platform's user keyring: the Secret Service on Linux, the Keychain on macOS, the
    /// Credential Manager on Windows.
    Keyring,
    /// Linux's per-user kernel keyring: no daemon, nothing on disk, gone at reboot.
    KernelKeyring,
}

impl Storage {
    /// Every value `portico_storage` and `PORTICO_STORAGE` take, in the order help lists them.
    pub const ALL: [Storage; 3] = [Storage::File, Storage::Keyring, Storage::KernelKeyring];

    pub fn parse(text: &str) -> Option<Storage> {
        Storage::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The value as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Storage::File => "file",
            Storage::Keyring => "keyring",
            Storage::KernelKeyring => "kernel-keyring",
        }
    }

    pub fn is_file(self) -> bool {
        self == Storage::File
    }

    /// How messages name the backend.
    pub fn backend(self) -> &'static str {
        match self {
            Storage::File => "the file cache",
            #[cfg(not(any(target_os = "macos", target_os = "windows")))]
            Storage::Keyring => "the Secret Service keyring",
            #[cfg(target_os = "macos")]
            Storage::Keyring => "the macOS Keychain",
            #[cfg(target_os = "windows")]
            Storage::Keyring => "the Windows Credential Manager",
            Storage::KernelKeyring => "the kernel keyring",
        }
    }
}
