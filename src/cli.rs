//! The command line, in one place. Flags are parsed here with no I/O; `settings` resolves them.
//! The man page (`man/portico.1`) is generated from these definitions by `tests/man.rs`.

use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

/// Examples, shown by `--help` and in the man page (entries separated by blank lines:
/// first line the command, the rest what it does).
pub const EXAMPLES: &str = "\
portico demo
Try portico first: the portal on a local Identity Center emulator, without an AWS account.

eval \"$(portico)\"
Open the portal, pick a role, and apply its credentials to this shell (Enter); see portico init.

portico login
Sign in to the configured sso-session in the browser (PKCE).

portico login --device-code --sso-session corp
Sign in from an SSH session or a container: shows a code, a URL and a QR code.

portico status --json
Which sessions are signed in, until when, and whether they can refresh.

portico logout --all
Sign out of every session and delete the cached tokens and credentials.

portico configure --sso-session corp --start-url https://d-1234567890.awsapps.com/start --region eu-central-1
Add an sso-session to ~/.aws/config (portico asks for what is missing when run in a terminal).

portico profiles sync --sso-session corp --dry-run
Show the profiles (one per account and role) a sync would write to ~/.aws/config; drop --dry-run to write them.

portico login --saml-session aws
Sign in to a [saml-session] (SAML from Entra ID straight into IAM roles) in the browser; then portico list --saml-session aws shows its roles.

portico credentials --saml-session aws --role-arn arn:aws:iam::111122223333:role/Admin
Keys for an IAM role of the saml-session's assertion, through STS AssumeRoleWithSAML.

portico doctor
Check the config, cache permissions, sign-in, clock, endpoints, region and assignments, each with the fix.

portico completions bash > ~/.local/share/bash-completion/completions/portico
Install bash completions (also zsh, fish, powershell).

eval \"$(portico init bash)\"
Define pt, which opens the portal and applies the chosen role's credentials (put it in ~/.bashrc).

AWS_CONFIG_FILE=./config portico -v --help
Use another config file, and say more on stderr.
";

/// Environment variables portico reads (same format as EXAMPLES).
pub const ENVIRONMENT: &str = "\
AWS_CONFIG_FILE
The AWS config file to read (default ~/.aws/config).

AWS_PROFILE, AWS_DEFAULT_PROFILE
The profile used when --profile is not given.

AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL
Endpoints for the OIDC and portal services, instead of https://oidc.REGION.amazonaws.com and https://portal.sso.REGION.amazonaws.com (used to point portico at the emulator).

AWS_ENDPOINT_URL_STS
The STS endpoint for saml-sessions, instead of https://sts.STS_REGION.amazonaws.com (AWS_ENDPOINT_URL too, when this is not set).

HOME
Where ~/.aws is.

SHELL
Which shell code the portal prints with Enter when --format is not given (fish, pwsh, else bash/zsh), and the shell its `s` key starts.

PORTICO_BROWSER
The browser for sign-in and the console, above portico_browser in the config file and BROWSER (see portico login --help).

BROWSER
The browser command when neither --browser, PORTICO_BROWSER nor portico_browser says otherwise (its first `:`-separated entry; %s is the URL).

PORTICO_FEDERATION_ENDPOINT
The console sign-in (federation) endpoint, instead of https://REGION.signin.aws.amazon.com/federation (used to point portico at the emulator).

PORTICO_HTTP_TIMEOUT
Seconds one HTTP attempt to AWS may take before it is abandoned (fractions allowed; default 30), a proxy's CONNECT included. portico doctor gives each network check at most 8 s, or this, if shorter.

HTTPS_PROXY, https_proxy, HTTP_PROXY, http_proxy, ALL_PROXY, all_proxy
The proxy for https URLs (every AWS and Entra endpoint), for http ones, and for both, as curl reads them (the lowercase name wins; an empty value is unset): http://[user:password@]host:port, https CONNECTed through it; the user and password (percent-encoded) are sent as Proxy-Authorization: Basic and never printed (****).

NO_PROXY, no_proxy
Comma-separated hosts reached directly: exact names, domain suffixes (.corp.example, corp.example or *.corp.example), IP addresses, CIDR blocks (10.0.0.0/8), host:port, or * for all. portico doctor's network check shows which entry applied.

PORTICO_PROXY_LOOPBACK
Set to 1 to send requests to loopback addresses (localhost, 127.0.0.0/8, ::1) through the proxy too; by default they are never proxied (the credential server, the sign-in listeners, a local emulator).

AWS_CA_BUNDLE
A PEM file of CA certificates trusted in addition to the system's (so does ca_bundle in the profile): the authority of a TLS-inspecting proxy. botocore uses the file instead of its bundle; portico adds it.

XDG_CACHE_HOME
Where portico's own cache is (default ~/.cache): $XDG_CACHE_HOME/portico.

PORTICO_STORAGE
Where every session keeps its secrets, over portico_storage in its [sso-session] or [saml-session]: file (0600 files, the token shared with the AWS CLI; the default), keyring (the platform's user keyring: the Secret Service on Linux (GNOME Keyring, KWallet), the Keychain on macOS, the Credential Manager on Windows) or kernel-keyring (Linux's per-user kernel keyring: no daemon, nothing on disk, gone at reboot). With a keyring every token, client secret, secret key, session token and SAML assertion of the session is kept there, never in a file; the AWS CLI reaches the session only through credential_process profiles (portico profiles sync --credential-process). A keyring that is locked, missing or does not answer is exit status 9, never a file instead.

PORTICO_KEYRING_TIMEOUT
Seconds one keyring call (Secret Service, Keychain, Credential Manager) may take (fractions allowed; default 10): a keyring daemon that does not answer, or waits on a prompt nobody sees, ends the command with exit status 9.

DBUS_SESSION_BUS_ADDRESS
The D-Bus session bus where portico_storage = keyring looks for the Secret Service.
";

/// Choosing the browser, and the usual set-ups for several Entra accounts: the man page's
/// SEVERAL ENTRA ACCOUNTS section (same format as EXAMPLES).
pub const BROWSERS: &str = "\
Where the browser setting comes from
--browser (login, console, the portal), then PORTICO_BROWSER, then `portico_browser = …` in the profile, then in its [sso-session] (for a SAML role, its [saml-session]), then BROWSER, then the system default. Every command that signs in on the way (credentials, exec, the portal) and console use that same setting; a command you configured is always run, and the guess from the environment (no display, SSH, a container) decides only for presets and the system default. Entra ID signs in with whatever account the browser profile holds, so give each sso-session the browser profile of its account. botocore refuses a profile in which a key of its sso-session has another value: set portico_browser in the sso-session, or in profiles whose sso-session has none (portico doctor flags a clash).

firefox:PROFILE, firefox-private, firefox-container[:NAME]
firefox -P PROFILE --new-tab URL; firefox --private-window URL; firefox --new-tab 'ext+container:name=NAME&url=URL' (needs the \"Open external links in a container\" add-on; without NAME, sign-in uses a container named after the sso-session and the console one named after the profile or ACCOUNT-ROLE).

chrome:PROFILE_DIR, chrome-incognito, chromium:…, chromium-incognito, edge:…, edge-private, brave:…, brave-private
google-chrome (or google-chrome-stable) --profile-directory=PROFILE_DIR URL, or --incognito (Edge: microsoft-edge, --inprivate; Brave: brave-browser; Chromium: chromium or chromium-browser). A preset whose browser is not installed fails, naming the programs it looked for.

safari, none
open -a Safari URL (macOS); none prints the URL and opens nothing.

Any other value
A command: its words are split as a shell splits them (quotes allowed) and it runs without a shell; {url} is the URL as one argument (appended when absent), {container} the container name.

Two browser profiles
portico_browser = firefox:work in one sso-session and firefox:admin (or chrome:Profile 2) in the other.

Firefox containers
portico_browser = firefox-container:Corp and firefox-container:Customer, or plain firefox-container for a container per session and per role.

A private window for the second account
portico login --force --browser firefox-private: Logout, token deleted, then a sign-in in a window without cookies, where Entra asks which account to use.
";

/// Files portico reads and writes (same format as EXAMPLES).
pub const FILES: &str = "\
~/.aws/config
Profiles, sso-sessions and saml-sessions, shared with the AWS CLI and SDKs. portico configure and portico profiles sync change only the lines they manage and never rewrite the file wholesale; profiles sync marks its profiles with a `# managed by portico profiles sync` comment and touches no others.

~/.aws/config.portico-backup
The config file as it was before portico's last write to it (one backup, replaced by each write).

~/.aws/sso/cache/SHA1.json
Sign-in tokens and client registrations, in the AWS CLI's format, shared with it (mode 0600, directory 0700).

~/.aws/cli/cache/*.json
The AWS CLI's cached role credentials. portico never writes there; portico logout deletes the files whose ProviderType is sso, as aws sso logout does.

~/.aws/.config.XXXXXX.portico-tmp
The new config file while it is written; renamed over ~/.aws/config when complete.

~/.cache/portico/credentials/SHA1.json
Role credentials, one file per sso-session, account and role, reused until 15 minutes before they expire (mode 0600, directory 0700); portico logout deletes the session's.

~/.cache/portico/saml/SHA1.json
A saml-session's last SAML assertion, kept until its NotOnOrAfter (five minutes) so that several roles are assumed from one sign-in (mode 0600, directory 0700).

~/.cache/portico/saml-durations/SHA1.json
A note that STS refused a SAML role the assertion's SessionDuration (the role ARN, the duration and the assertion's SHA-1 fingerprint, never the assertion), so that the next fetch with the same assertion asks 3600 at once (mode 0600).

~/.cache/portico/accounts/SHA1.json
The accounts and roles assigned to you, per sso-session, as last listed (portico list, the portal, profiles sync).

~/.cache/portico/locks/SHA1.lock
Lock files that make concurrent portico processes sign in, refresh, fetch credentials and edit the config once at a time (mode 0600).

~/.cache/portico/refresh-refused/SHA1.json
A note that Identity Center refused a session's refresh token (when, and the token's SHA-1 fingerprint, never the token), so that status and doctor say so until the next sign-in (mode 0600).

~/.cache/portico/tokens/SHA1.json
A keyring session's token and client registrations without their secrets (expiry, client ID, a porticoStorage mark); the secrets are the file's item in the keyring portico_storage names (mode 0600). The credentials/ and saml/ files of such a session likewise hold no secret key, session token or assertion.

~/.cache/portico/portal.json
The portal's memory: the sso-session used last and the roles picked recently (marked with a star).
";

fn after_help() -> String {
    format!(
        "{}\nExamples:\n{}",
        crate::exit::help_text(),
        EXAMPLES
            .trim()
            .split("\n\n")
            .map(|e| {
                let mut lines = e.lines();
                let cmd = lines.next().unwrap_or_default();
                let what: Vec<&str> = lines.collect();
                format!("  {cmd}\n      {}", what.join(" "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// portico — AWS IAM Identity Center sign-in and short-lived credentials.
#[derive(Debug, Parser)]
#[command(
    name = "portico",
    version,
    about = "Sign in to AWS IAM Identity Center, pick an account and role, and hand out short-lived credentials",
    long_about = "portico signs you in to AWS IAM Identity Center (also when it is federated with \
Microsoft Entra ID), lists the AWS accounts and permission sets assigned to you, and hands out \
short-lived role credentials. It shares its sign-in with the AWS CLI and SDKs: the token cache \
in ~/.aws/sso/cache is the same file.",
    after_help = after_help(),
)]
pub struct Cli {
    /// Say more on stderr (-v: what is done; -vv: details). Secrets are never printed.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// With no command: the portal (the account and role picker)
    #[command(flatten)]
    pub portal: PortalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses the command line (exiting on errors, as clap does). The portal's flags belong to
    /// the bare `portico` only; before a command they would be silently ignored, so they are
    /// refused. (clap's `args_conflicts_with_subcommands` would refuse the global `-v` too.)
    pub fn parse_checked() -> Cli {
        use clap::CommandFactory;
        let cli = Cli::parse();
        let p = &cli.portal;
        if cli.command.is_some()
            && (p.sso_session.is_some()
                || p.profile.is_some()
                || p.format.is_some()
                || p.browser.is_some())
        {
            Cli::command()
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    "--sso-session, --profile, --format and --browser before a command are the portal's (`portico` alone); give a command's options after its name, e.g. `portico list --sso-session corp`",
                )
                .exit();
        }
        cli
    }
}

/// `portico` with no command opens the portal: pick an account and role, then print its
/// credentials as shell code (for `eval "$(portico)"`), open the console, start a shell…
#[derive(Debug, Args, Default, Clone)]
pub struct PortalArgs {
    /// Open the portal on this [sso-session NAME] (default: the only one, or the one used last)
    #[arg(long, value_name = "NAME", conflicts_with = "profile")]
    pub sso_session: Option<String>,
    /// Open the portal on the sso-session of this profile
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// The shell code Enter prints [default: from $SHELL: fish, powershell for pwsh, else env]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<crate::output::Format>,
    /// The browser for sign-in and the console (`o`): a preset or a command (see BROWSER in portico login --help)
    #[arg(long, value_name = "BROWSER")]
    pub browser: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to Identity Center (browser with PKCE; device code where no browser can open)
    #[command(
        after_help = LOGIN_HELP
    )]
    Login(LoginArgs),
    /// Sign out: revoke the token, delete it and the role credentials cached for the session
    #[command(
        after_help = "Also deletes the AWS CLI's cached Identity Center role credentials \
                      (~/.aws/cli/cache files whose ProviderType is sso), as aws sso logout does: \
                      those files do not say which session they belong to, so all of them go.\n\n\
                      Examples:\n  portico logout\n  portico logout --sso-session corp\n  portico logout --all"
    )]
    Logout(LogoutArgs),
    /// Print role credentials: credential_process JSON (default), shell exports, dotenv, JSON
    #[command(after_help = CREDENTIALS_HELP)]
    Credentials(CredentialsArgs),
    /// Run a command with the role's credentials in its environment
    #[command(
        after_help = "Exit status: the command's own; or 126 if it was found but could not be run, 127 if it \
                      was not found (as shells do); or portico's code (see `portico --help`) if the \
                      credentials could not be had. With --serve, a command killed by a signal ends portico \
                      by the same signal; SIGTERM and SIGHUP sent to portico are passed on to it.\n\n\
                      Examples:\n  portico exec --profile dev-admin -- aws s3 ls\n  portico exec --account 111122223333 --role ReadOnlyAccess -- terraform plan\n  portico exec --serve --profile dev-admin -- terraform apply\n  portico exec --profile hub --chain arn:aws:iam::444455556666:role/Deploy -- aws s3 ls"
    )]
    Exec(ExecArgs),
    /// Serve role credentials to long-running programs over the container-credentials endpoint
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),
    /// Open the AWS console signed in as the role (or print the sign-in link)
    #[command(
        after_help = "The browser is chosen as for portico login (see portico login --help). With firefox-container,\nor {container} in a command, each role opens in its own container, named after the profile (or\nACCOUNT-ROLE), so several roles' consoles stay open side by side. Where no browser can open\n(no display), it says so: use --print.\n\nExamples:\n  portico console --profile dev-admin\n  portico console --profile dev-admin --browser firefox-container\n  portico console --profile dev-admin --service s3 --print\n\nA chained role's console session lasts one hour: the federation endpoint takes no\nSessionDuration (--duration) with role-chained keys."
    )]
    Console(ConsoleArgs),
    /// List the accounts and roles assigned to you
    #[command(
        after_help = "Examples:\n  portico list\n  portico list --refresh --json | jq '.accounts[].accountName'"
    )]
    List(ListArgs),
    /// Show each configured session: signed in or not, expiry, whether it can refresh
    #[command(
        after_help = "Examples:\n  portico status\n  portico status --json | jq '.[] | select(.signedIn)'"
    )]
    Status(StatusArgs),
    /// Create or update an sso-session (and a profile for one account and role) in ~/.aws/config
    #[command(after_help = CONFIGURE_HELP)]
    Configure(ConfigureArgs),
    /// Write profiles for the accounts and roles assigned to you (`profiles sync`)
    Profiles(ProfilesArgs),
    /// Check the set-up (config, caches, sign-in, clock, network, region, assignments): what to fix
    #[command(after_help = doctor_help())]
    Doctor(DoctorArgs),
    /// Print shell completions (bash, zsh, fish, powershell, elvish) on stdout
    #[command(
        after_help = "Examples:\n  portico completions bash > ~/.local/share/bash-completion/completions/portico\n  portico completions zsh > \"${fpath[1]}/_portico\"\n  portico completions fish > ~/.config/fish/completions/portico.fish"
    )]
    Completions(CompletionsArgs),
    /// Print a shell function that opens the portal and applies the chosen role's credentials
    #[command(after_help = INIT_HELP)]
    Init(InitArgs),
    /// Try portico on a local Identity Center and Entra SAML emulator: no AWS account, ~/.aws untouched
    #[command(after_help = DEMO_HELP)]
    Demo(DemoArgs),
}

/// Which Identity Center session a command works on.
#[derive(Debug, Args, Default, Clone)]
pub struct SessionArgs {
    /// Use the sso-session of this profile [env: AWS_PROFILE]
    #[arg(long, value_name = "PROFILE", conflicts_with_all = ["sso_session", "start_url"])]
    pub profile: Option<String>,
    /// Use this [sso-session NAME] of the config file
    #[arg(long, value_name = "NAME", conflicts_with = "start_url")]
    pub sso_session: Option<String>,
    /// Use this start URL instead of the config file (needs --region)
    #[arg(long, value_name = "URL", requires = "region")]
    pub start_url: Option<String>,
    /// The region of the Identity Center instance, with --start-url
    #[arg(long, value_name = "REGION", requires = "start_url")]
    pub region: Option<String>,
}

impl SessionArgs {
    pub fn selector(&self) -> crate::settings::Selector {
        crate::settings::Selector {
            profile: self.profile.clone(),
            sso_session: self.sso_session.clone(),
            start_url: self.start_url.clone(),
            region: self.region.clone(),
            takes_start_url: true,
        }
    }
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Use the device code flow (for SSH sessions, containers, or a browser on another device)
    #[arg(long)]
    pub device_code: bool,
    /// Do not open a browser; print the sign-in URL to open yourself (also where no display is)
    #[arg(long)]
    pub no_browser: bool,
    /// The browser to sign in with: a preset or a command (see below) [env: PORTICO_BROWSER]
    #[arg(long, value_name = "BROWSER", conflicts_with = "no_browser")]
    pub browser: Option<String>,
    /// Sign the session out first (Logout, token deleted), then sign in again: to switch Entra accounts, or to replace a token another tool (an IDE) wrote under the session's name
    #[arg(long)]
    pub force: bool,
    /// Give up waiting for the browser after this many seconds (at most 86400, a day)
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = parse_seconds)]
    pub timeout: Duration,
    /// Sign in to this [saml-session NAME] (SAML from Entra ID straight into IAM roles) and keep its assertion
    #[arg(long, value_name = "NAME", conflicts_with_all = ["profile", "sso_session", "start_url", "device_code", "no_browser", "force"])]
    pub saml_session: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Sign out of every session in the config file and every token in the cache
    #[arg(long, conflicts_with_all = ["profile", "sso_session", "start_url"])]
    pub all: bool,
}

const LOGIN_HELP: &str = "\
BROWSER is chosen by --browser, then PORTICO_BROWSER, then `portico_browser = …` in the profile,
then in its [sso-session], then $BROWSER, then the system default. Presets:
  firefox:PROFILE            firefox -P PROFILE --new-tab URL
  firefox-private            firefox --private-window URL
  firefox-container[:NAME]   firefox --new-tab 'ext+container:name=NAME&url=URL' (needs the
                             \"Open external links in a container\" add-on; without NAME the
                             container is named after the sso-session, or for `console` the
                             profile or ACCOUNT-ROLE)
  chrome:PROFILE_DIR         google-chrome --profile-directory=PROFILE_DIR URL (also chromium:,
                             edge:, brave:); chrome-incognito, chromium-incognito,
                             edge-private (--inprivate), brave-private
  safari                     open -a Safari URL (macOS)
  none                       print the URL, open nothing
Anything else is a command: its words are split as a shell splits them (quotes allowed) and it
runs without a shell; {url} is replaced by the URL (appended when absent), {container} by the
container name.

A start URL that is not Identity Center's own (a company's vanity address) is asked once where
it redirects (HEAD, GET on 405/501; the redirect is not followed); its target must be an https
URL of an AWS-owned Identity Center host. The target is sent to Identity Center; the token file
stays named after the configured session. When the target names another Region, sso_region of
the sso-session is updated to it, and the line says so.

A token in the session's file that another tool (an IDE toolkit) wrote with scopes lacking the
session's is neither used nor replaced: give the session another name, or use --force.

Examples:
  portico login
  portico login --sso-session corp --device-code
  portico login --browser firefox:work
  portico login --force --browser firefox-private
  portico login --browser 'flatpak run org.mozilla.firefox -P work {url}'
  portico login --start-url https://d-1234567890.awsapps.com/start --region eu-central-1";

const CREDENTIALS_HELP: &str = "\
As an AWS CLI / SDK credential provider, in ~/.aws/config:
  [profile dev-admin-process]
  credential_process = portico credentials --profile dev-admin

Examples:
  portico credentials --profile dev-admin
  eval \"$(portico credentials --profile dev-admin --format env)\"
  portico credentials --account 111122223333 --role ReadOnlyAccess --sso-session corp --format fish | source
  portico credentials --saml-session aws --role-arn arn:aws:iam::111122223333:role/Admin
  portico credentials --profile prod-deploy     # role_arn + source_profile (a chained role)
  portico credentials --profile hub --chain arn:aws:iam::444455556666:role/Deploy

Credentials are cached (0600) until 15 minutes before they expire; concurrent callers make one
request. With no usable sign-in, a browser login starts where a browser can open — always
with a browser command you configured (portico_browser, PORTICO_BROWSER, BROWSER), else where
a display is found (--no-login turns that off); elsewhere it fails at once and names
`portico login --device-code` (`portico login` where a browser could open, as with
--no-login). A profile whose credential_process runs `portico credentials`
(as profiles sync --credential-process writes) is taken as the role that line names.
On failure stdout stays empty and the exit status says why (see portico --help).
With --saml-session, the saml-session's kept assertion serves every role for five minutes;
after that a browser sign-in starts (there is no refresh token) in the saml-session's
portico_browser, and where no browser can open it fails at once.
A profile with role_arn and source_profile (or credential_source = Environment), or --chain
ROLE_ARN after any target, assumes that role (STS AssumeRole) with the source's keys, for at
most one hour; its keys are kept in the AWS CLI's cache (~/.aws/cli/cache), shared with the AWS
CLI and botocore. With mfa_serial the code is asked on the terminal (never stdout), or taken
from --mfa-code or PORTICO_MFA_CODE; with neither and no terminal it fails at once (exit 4).";

/// Which account and role: a profile, or an account and role in a session.
#[derive(Debug, Args, Default, Clone)]
pub struct TargetArgs {
    /// A profile with sso_account_id and sso_role_name, one with role_arn and source_profile, or
    /// one whose credential_process runs `portico credentials` [env: AWS_PROFILE]
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// The 12-digit account ID (with --role), instead of a profile's
    #[arg(long, value_name = "ID", requires = "role", value_parser = parse_account_id)]
    pub account: Option<String>,
    /// The permission set name (with --account), e.g. AdministratorAccess
    #[arg(long, value_name = "NAME", requires = "account")]
    pub role: Option<String>,
    /// The sso-session for --account/--role (default: the only one, or the profile's)
    #[arg(long, value_name = "NAME", requires = "account")]
    pub sso_session: Option<String>,
    /// A [saml-session NAME] (SAML from Entra ID straight into IAM roles), with --role-arn
    #[arg(long, value_name = "NAME", requires = "role_arn", conflicts_with_all = ["account", "sso_session"])]
    pub saml_session: Option<String>,
    /// The IAM role to assume with the saml-session's assertion: arn:aws:iam::ACCOUNT:role/NAME
    #[arg(long, value_name = "ARN", requires = "saml_session")]
    pub role_arn: Option<String>,
    /// Then assume this IAM role (STS AssumeRole) with the keys of the role before it;
    /// repeatable, in order: arn:aws:iam::ACCOUNT:role/NAME. The session lasts one hour.
    #[arg(long, value_name = "ROLE_ARN", value_parser = parse_chain_arn)]
    pub chain: Vec<String>,
    /// The MFA code for a chained role's mfa_serial, instead of a prompt on the terminal
    /// [env: PORTICO_MFA_CODE]
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,
}

/// A `--chain` value: an IAM role ARN.
fn parse_chain_arn(value: &str) -> Result<String, String> {
    match crate::model::id::RoleArn::parse(value) {
        Some(_) => Ok(value.to_string()),
        None => Err("not an IAM role ARN; use arn:aws:iam::ACCOUNT:role/NAME".to_string()),
    }
}

impl TargetArgs {
    /// What these flags ask for, in the engine's plain terms: the SAML role, the account and
    /// role, else the profile (`--profile`, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE` or `default`,
    /// remembering which, for the error when the file has no such profile).
    pub fn wanted(&self, env: &crate::settings::Environment) -> crate::engine::Wanted {
        use crate::engine::Wanted;
        let source = self.source(env);
        if self.chain.is_empty() && self.mfa_code.is_none() {
            return source;
        }
        Wanted::Chain {
            source: Box::new(source),
            role_arns: self.chain.clone(),
            mfa_code: self.mfa_code.clone(),
        }
    }

    /// What the flags before `--chain` name.
    fn source(&self, env: &crate::settings::Environment) -> crate::engine::Wanted {
        use crate::engine::Wanted;
        if let (Some(session), Some(role_arn)) = (&self.saml_session, &self.role_arn) {
            return Wanted::Saml {
                session: session.clone(),
                role_arn: role_arn.clone(),
                profile: self.profile.clone(),
            };
        }
        if let (Some(account_id), Some(role_name)) = (&self.account, &self.role) {
            return Wanted::Role {
                account_id: account_id.clone(),
                role_name: role_name.clone(),
                sso_session: self.sso_session.clone(),
                profile: self.profile.clone(),
            };
        }
        let (name, origin) = env.pick_profile(self.profile.as_deref());
        Wanted::Profile { name, origin }
    }
}

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = crate::output::Format::Process)]
    pub format: crate::output::Format,
    /// Never start a login; fail with exit status 4 instead
    #[arg(long)]
    pub no_login: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Never start a login; fail with exit status 4 instead
    #[arg(long)]
    pub no_login: bool,
    /// Instead of static keys, give the command a private credential server for its lifetime
    /// (AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN), so that it
    /// finds fresh keys however long it runs
    #[arg(long)]
    pub serve: bool,
    /// The command and its arguments, after --
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

const SERVE_HELP: &str = "\
portico serve listens on 127.0.0.1 (or the loopback address --bind names; any other is refused)
and answers, for each request that carries its token in the Authorization header:
  GET /role/PROFILE                                   a profile's role
  GET /role/ACCOUNT_ID/ROLE_NAME?sso-session=NAME     any account and role of a session
  GET /role/saml/SESSION/ROLE_ARN                     an IAM role of a saml-session
  GET /role/chain/ROLE_ARN[/ROLE_ARN…]?from=PATH      roles chained from the route PATH (--chain)
(each path segment percent-encoded)
with {\"AccessKeyId\", \"SecretAccessKey\", \"Token\", \"Expiration\", \"AccountId\"}, the JSON the
AWS SDKs and CLI read from AWS_CONTAINER_CREDENTIALS_FULL_URI. Keys are cached and fetched again
before fewer than 15 minutes are left; many clients asking at once make one request to Identity
Center. A missing or wrong token gets 401, an unknown profile 404, and a sign-in that has ended
503 naming `portico login` (a request never opens a browser). On start it prints the variables
for the route of --profile (or --account/--role, or --saml-session/--role-arn) in the --format given; with --token-file the
token goes to a new file (mode 0600, deleted when the server stops) for
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, and only the URI is printed. One line per request on
stderr. A connection with no request in progress for 10 s (idle, or still sending its headers)
is closed; at most 512 are open at once (fewer under a low `ulimit -n`), and at the limit the
one idle the longest makes room, so real requests are always answered. Ctrl-C, SIGTERM, SIGHUP
or SIGQUIT stops it (exit 0, the --token-file file deleted).

Examples:
  portico serve --profile dev-admin
  eval \"$(portico serve --profile dev-admin 2>>~/serve.log &)\"
  portico serve --profile dev-admin --port 9911 --token-file ~/.cache/portico/serve.token
  portico exec --serve --profile dev-admin -- terraform apply
  portico serve --profile hub --chain arn:aws:iam::444455556666:role/Deploy";

/// The shell formats of `credentials --format` (and json); not `process`, which sets nothing.
fn serve_format() -> impl clap::builder::TypedValueParser<Value = crate::output::Format> {
    use crate::output::Format;
    use clap::builder::{Resettable, TypedValueParser};
    use clap::ValueEnum;
    // The names `--format` knows, so that a new format is served too; listed bare, as before.
    let names = Format::value_variants()
        .iter()
        .filter(|format| **format != Format::Process)
        .filter_map(|format| format.to_possible_value())
        .map(|name| name.help(Resettable::Reset));
    clap::builder::PossibleValuesParser::new(names)
        .map(|name: String| Format::from_str(&name, false).expect("listed above"))
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The role whose URI is printed: a profile [env: AWS_PROFILE], or --account and --role
    #[command(flatten)]
    pub target: TargetArgs,
    /// The loopback address to listen on: 127.0.0.1, another 127.x.y.z, or [::1]
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1", value_parser = crate::serve::bind::parse_loopback)]
    pub bind: std::net::IpAddr,
    /// The port to listen on [default: a free one]
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 0,
        hide_default_value = true
    )]
    pub port: u16,
    /// Write the token to this new file (mode 0600) for AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and print only the URI (the JS SDK's fromContainerMetadata reads only AWS_CONTAINER_AUTHORIZATION_TOKEN; its default chain and fromHttp read the file)
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<std::path::PathBuf>,
    /// How to print the variables
    #[arg(long, value_name = "FORMAT", default_value = "env", value_parser = serve_format())]
    pub format: crate::output::Format,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Open this service's console page (e.g. s3, ec2, cloudwatch) instead of the home page
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// Print the link instead of opening a browser
    #[arg(long, conflicts_with = "browser")]
    pub print: bool,
    /// The browser to open the console in: a preset or a command (see portico login --help); by default the profile's, sso-session's or saml-session's portico_browser [env: PORTICO_BROWSER]
    #[arg(long, value_name = "BROWSER")]
    pub browser: Option<String>,
    /// Console session length in seconds (900–43200)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u32).range(900..=43200))]
    pub duration: Option<u32>,
    /// Never start a login; fail with exit status 4 instead
    #[arg(long)]
    pub no_login: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// Ignore the cached list and ask Identity Center again (with --saml-session: sign in again)
    #[arg(long)]
    pub refresh: bool,
    /// Never start a login; fail with exit status 4 instead
    #[arg(long)]
    pub no_login: bool,
    /// List the IAM roles of this [saml-session NAME]'s last assertion (signing in when there is none)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["profile", "sso_session", "start_url"])]
    pub saml_session: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON (one array of sessions) instead of text
    #[arg(long)]
    pub json: bool,
}

const CONFIGURE_HELP: &str = "\
Without the flags it needs, and with a terminal on stdin, portico asks for the missing values.
It shows the change as a diff before writing; every other line of the file stays as it was,
and the previous file is kept as config.portico-backup beside it.

Without --region, a start URL whose host names a Region (https://ssoins-….portal.REGION.app.aws,
https://ssoins-….REGION.portal.amazonaws.com, their China and European Sovereign Cloud forms)
gives sso_region. For multi-Region Identity Center, configure one sso-session per Region (each
Region's portal URL): tokens are per Region, so the other session is the fail-over.

Examples:
  portico configure
  portico configure --sso-session corp --region eu-central-1 \\
      --start-url https://d-1234567890.awsapps.com/start
  portico configure --sso-session corp-eu \\
      --start-url https://ssoins-111111h2222j33pp.eu-west-1.portal.amazonaws.com
  portico configure --sso-session corp --profile dev-admin \\
      --account 111122223333 --role AdministratorAccess --dry-run
  portico configure --saml-session aws-entra \\
      --idp-url https://login.microsoftonline.com/TENANT_ID/saml2";

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// The [sso-session NAME] to create or update
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,
    /// The AWS access portal URL (https://d-xxxxxxxxxx.awsapps.com/start, a regional portal URL, or a company's vanity URL)
    #[arg(long, value_name = "URL")]
    pub start_url: Option<String>,
    /// The region your Identity Center instance lives in (sso_region) [default: the one the start URL's host names]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Registration scopes, comma-separated or repeated [default for a new session: sso:account:access]
    #[arg(long, value_name = "SCOPE", value_delimiter = ',')]
    pub scopes: Vec<String>,
    /// Also write [profile NAME] for an account and role of this session
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The profile's AWS account ID (12 digits)
    #[arg(long, value_name = "ID", requires = "profile", value_parser = parse_account_id)]
    pub account: Option<String>,
    /// The profile's role (permission set) name
    #[arg(long, value_name = "ROLE", requires = "profile")]
    pub role: Option<String>,
    /// The profile's default region for AWS calls (its `region` key)
    #[arg(long, value_name = "REGION", requires = "profile")]
    pub profile_region: Option<String>,
    /// Create or update this [saml-session NAME] instead (SAML from Entra ID straight into IAM roles; needs --idp-url)
    #[arg(long, value_name = "NAME", requires = "idp_url", conflicts_with_all = ["sso_session", "start_url", "region", "scopes", "profile"])]
    pub saml_session: Option<String>,
    /// The Entra application's SAML endpoint: https://login.microsoftonline.com/TENANT/saml2
    #[arg(long, value_name = "URL", requires = "saml_session")]
    pub idp_url: Option<String>,
    /// The application's identifier [default: urn:amazon:webservices; #N forms allowed]
    #[arg(long, value_name = "ID", requires = "saml_session")]
    pub entity_id: Option<String>,
    /// The region of the STS endpoint the saml-session uses [default: us-east-1]
    #[arg(long, value_name = "REGION", requires = "saml_session")]
    pub sts_region: Option<String>,
    /// A fixed port for the sign-in listener, for an exact reply URL http://localhost:PORT/saml
    #[arg(long, value_name = "PORT", requires = "saml_session", value_parser = clap::value_parser!(u16).range(1..))]
    pub acs_port: Option<u16>,
    /// Where the session's secrets are kept (its `portico_storage`): file (0600 files, shared
    /// with the AWS CLI), keyring (the platform's user keyring: the Secret Service on Linux, the
    /// Keychain on macOS, the Credential Manager on Windows) or kernel-keyring (Linux's per-user
    /// kernel keyring: no daemon, nothing on disk, gone at reboot). With a
    /// keyring the AWS CLI reaches the session through `credential_process` profiles only
    /// (`portico profiles sync --credential-process`). PORTICO_STORAGE overrides it.
    #[arg(long, value_name = "STORAGE", value_parser = ["file", "keyring", "kernel-keyring"])]
    pub storage: Option<String>,
    /// Write without asking for confirmation
    #[arg(short, long)]
    pub yes: bool,
    /// Show the diff only; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub command: ProfilesCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Write one profile per account and role assigned to you; update and prune the ones it wrote
    #[command(after_help = PROFILES_SYNC_HELP)]
    Sync(SyncArgs),
}

const PROFILES_SYNC_HELP: &str = "\
Each profile is marked with the comment `# managed by portico profiles sync (sso-session S)`.
A later sync updates and removes only profiles carrying that mark: your own profiles and
comments stay byte for byte. When one of your profiles already has a generated name, yours is
kept and the generated one becomes NAME-ACCOUNT_ID (with a warning).

Template placeholders: {account_name} {account_id} {role_name} {session}. Names are cleaned:
characters other than letters, digits, _ . and - become -, repeated - collapse, - at either end
is dropped; case is kept. Two accounts or roles that clean to the same name get -ACCOUNT_ID,
then -ACCOUNT_ID-2, … appended, in a stable order.

--dry-run prints the change as a diff on stdout and writes nothing. A real run prints a summary
on stdout and keeps the previous file as config.portico-backup.

Examples:
  portico profiles sync --sso-session corp --dry-run
  portico profiles sync --sso-session corp --region eu-west-1 --refresh
  portico profiles sync --template '{session}-{account_name}-{role_name}' --credential-process";

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Sync this [sso-session NAME] (default: AWS_PROFILE's, or the only one in the file)
    #[arg(long, value_name = "NAME", conflicts_with = "profile")]
    pub sso_session: Option<String>,
    /// Sync the sso-session this profile uses
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// How to name the profiles (see below for the placeholders)
    #[arg(long, value_name = "TEMPLATE", default_value = crate::awsconfig::names::DEFAULT_TEMPLATE)]
    pub template: String,
    /// Write `credential_process = portico credentials --account … --role … --sso-session …` instead of the sso_* keys
    #[arg(long)]
    pub credential_process: bool,
    /// Set `region` (the default region for AWS calls) in every synced profile; without it, a region already there is kept
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Print the diff on stdout and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Ask Identity Center for the accounts and roles instead of using the list cached for an hour
    #[arg(long)]
    pub refresh: bool,
    /// Remove synced profiles whose account or role is no longer assigned (the default)
    #[arg(long, overrides_with = "no_prune")]
    pub prune: bool,
    /// Keep synced profiles whose account or role is no longer assigned
    #[arg(long, overrides_with = "prune")]
    pub no_prune: bool,
    /// Never start a login; fail with exit status 4 instead
    #[arg(long)]
    pub no_login: bool,
    /// Sync this [saml-session NAME]'s IAM roles instead: profiles whose credential_process runs `portico credentials --saml-session NAME --role-arn ARN`
    #[arg(long, value_name = "NAME", conflicts_with_all = ["sso_session", "profile", "credential_process"])]
    pub saml_session: Option<String>,
}

/// `portico doctor --help` below the options; its list of checks comes from
/// [`crate::doctor::Check`], the type the report names its checks by.
fn doctor_help() -> String {
    format!(
        "\
Each check prints ✓ (pass), ! (warning), ✗ (failure) or - (skipped, with the reason), and a
`fix:` line saying what to do.

{}
Network checks send a GET to each endpoint, one RegisterClient naming the start URL, and one
ListAccounts; doctor never signs in and never writes the config file (a token close to expiry
is refreshed, as by any command). Each network check gets at most 8 s (or PORTICO_HTTP_TIMEOUT,
if shorter) and all of them 24 s together, so a service that does not answer is reported in
seconds. Each check prints one verdict. Exit status 0 when no check failed, 8 when one did.

Examples:
  portico doctor
  portico doctor --sso-session corp
  portico doctor --json | jq '.[] | select(.status == \"fail\")'",
        crate::doctor::Check::help_list()
    )
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Check only this [sso-session NAME] (default: every session in the config file)
    #[arg(long, value_name = "NAME", conflicts_with = "profile")]
    pub sso_session: Option<String>,
    /// Check only the sso-session this profile uses
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Print a JSON array of {check, status, message, fix, session} instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const INIT_HELP: &str = "\
The function (named pt unless --name says otherwise) runs the portal and applies the credentials
of the role you pick to the shell it runs in; q, Esc or Ctrl-C leaves the shell as it was. It
passes its arguments on (pt --sso-session corp). Without SHELL, the shell is the one $SHELL names.

Examples:
  echo 'eval \"$(portico init bash)\"' >> ~/.bashrc
  echo 'eval \"$(portico init zsh)\"' >> ~/.zshrc
  echo 'portico init fish | source' >> ~/.config/fish/config.fish
  Add-Content $PROFILE 'Invoke-Expression (& portico init powershell | Out-String)'";

/// The shells `portico init` writes a function for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The shell to write the function for [default: the one $SHELL names]
    #[arg(value_enum)]
    pub shell: Option<InitShell>,
    /// The function's name
    #[arg(long, value_name = "NAME", default_value = "pt")]
    pub name: String,
}

const DEMO_HELP: &str = "\
portico demo starts idc-emulator (installed beside portico by install.sh) with generated accounts,
SAML roles and automatic approval, in a throw-away HOME, config and cache, and opens the portal
there. Each kind of user sees their own flow:

  IAM Identity Center   [sso-session demo]: signed in already, its accounts and permission sets
                        listed, two profiles written.
  Entra's SAML app      [saml-session demo-saml]: the emulator's Entra-like IdP and STS; its
  (AWS Single-Account   portico_browser is `idc-emulator browse {url}`, a stand-in browser that
  Access)               carries each SAML sign-in to portico's loopback listener at once.

The portal lists both kinds of role (the SAML roles after a sign-in through the stand-in
browser, which the status line names); v switches between them, and Enter on a SAML row prints
keys from STS AssumeRoleWithSAML (signing in again when the 5-minute assertion has gone).
--saml-only shows the portal as a user with no Identity Center sees it. In `portico demo --
bash`, portico list, credentials, exec and profiles sync work with --sso-session demo and
--saml-session demo-saml alike (AWS_ENDPOINT_URL_SSO, _SSO_OIDC and _STS point at the emulator,
AWS_DEFAULT_REGION is its region). On exit, also after Ctrl-C, the emulator stops and the
throw-away directory is deleted.

Examples:
  portico demo
  portico demo --saml-only
  portico demo --accounts 2000
  portico demo -- bash     # then: portico list --saml-session demo-saml";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many accounts the emulator assigns to the demo user
    #[arg(long, value_name = "N", default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub accounts: u32,
    /// Roles (permission sets) in each account
    #[arg(long, value_name = "M", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub roles_per_account: u32,
    /// IAM roles the SAML sign-in lists, spread over the first three accounts
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub saml_roles: u32,
    /// Only the SAML session: the demo as a user without Identity Center sees it
    #[arg(long)]
    pub saml_only: bool,
    /// Run this command in the demo world instead of the portal
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// An AWS account ID is 12 digits; anything else is refused here rather than sent to Identity
/// Center, which would answer "no access".
fn parse_account_id(text: &str) -> Result<String, String> {
    if crate::model::id::is_account_id(text) {
        return Ok(text.to_string());
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let why = if digits == text.chars().count() {
        format!("it has {digits} digits")
    } else {
        "it is not all digits".to_string()
    };
    Err(format!(
        "not a 12-digit AWS account ID like 111122223333 ({why})"
    ))
}

/// The longest `--timeout`: a day. A sign-in nobody finishes within a day will not be finished,
/// and larger numbers only overflow into nonsense ("up to 2562047788015215 h").
const MAX_TIMEOUT_SECS: u64 = 24 * 60 * 60;

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let too_long = || {
        format!(
            "{} seconds is more than a day; give at most {MAX_TIMEOUT_SECS} (the default is 600)",
            crate::sanitize::quoted(text)
        )
    };
    match text.parse::<u64>() {
        Ok(0) => Err(format!(
            "{} is not a number of seconds above 0",
            crate::sanitize::quoted(text)
        )),
        Ok(n) if n > MAX_TIMEOUT_SECS => Err(too_long()),
        Ok(n) => Ok(Duration::from_secs(n)),
        // All digits but beyond u64: a number, just far too large.
        Err(_) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => Err(too_long()),
        Err(_) => Err(format!(
            "{} is not a number of seconds above 0",
            crate::sanitize::quoted(text)
        )),
    }
}
