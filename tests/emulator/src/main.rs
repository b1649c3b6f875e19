//! `idc-emulator`: runs the emulator until SIGINT or SIGTERM. The first line on stdout is
//! `{"url":…,"startUrl":…,"region":…,"samlIdpUrl":…}` (with `--tls-cert-dir DIR` also
//! `"httpsUrl":…,"caFile":…`); logs go to stderr. `idc-emulator browse URL` is the stand-in
//! browser instead (src/browse.rs).

mod browse;

use clap::Parser;
use idc_emulator::{
    default_aud, Config, Directory, Faults, SamlSettings, DEFAULT_REGION, DEFAULT_REPLY_URLS,
    DEFAULT_SAML_ROLES, DEFAULT_START_URL, DEFAULT_TENANT, DEFAULT_USER,
};
use serde::Serialize;
use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const DEFAULT_ACCOUNTS: usize = 12;
const DEFAULT_ROLES: usize = 3;

/// Control routes, for `--help` (JSON in and out; never delayed, throttled or garbled).
const CONTROL_HELP: &str = "\
Control routes (JSON in and out; never delayed, throttled, garbled or counted):
  POST /_emulator/approve {\"userCode\":\"…\"}       approve a pending device code
  POST /_emulator/deny {\"userCode\":\"…\"}          deny a pending device code
  POST /_emulator/auto-approve {\"enabled\":true}  approve device codes, /authorize and SAML sign-ins
                                                 at once
  GET  /_emulator/pending                        the pending user codes: {\"userCodes\":[…]}
  GET  /_emulator/faults                         the fault settings
  POST /_emulator/faults {\"latencyMs\",…}         change the faults given (\"throttleRps\",
                                                 \"errorRate\", \"garbleBodies\"); 0/false turns one off
  POST /_emulator/expire-pending                 pending device codes, authorizations and SAML
                                                 sign-in pages expire
  POST /_emulator/expire-access-tokens           every access token expires (refresh still works)
  POST /_emulator/revoke-all                     every access and refresh token stops working
  GET  /_emulator/stats                          request counts per operation
  POST /_emulator/stats/reset                    zero the counts
  GET  /_emulator/directory                      the directory served now (directory file format)
  POST /_emulator/directory {\"accounts\":[…]}     serve this directory from now on (accounts
                                                 assigned or unassigned between two runs)
  POST /_emulator/saml-clock {\"offsetSecs\":-600} the SAML IdP and STS clock runs this far ahead
                                                 (negative: behind); 0 is real time
  GET  /_emulator/federation                     whose keys each console getSigninToken was given:
                                                 {\"signinTokens\":[{\"arn\",\"account\",\"userId\"}]}
  POST /_emulator/trust {\"roleArn\",…}            give one IAM role a new trust for AssumeRole (made
                                                 if new): \"trusted\":[ARN…] (left out: every
                                                 role session the emulator issued), \"externalId\",
                                                 \"mfaSerial\"+\"mfaSeed\" (base32 TOTP seed),
                                                 \"maxSessionDuration\" (3600–43200, default 3600)
  POST /_emulator/hold-refreshes {\"count\":N}      hold the next N refresh-token CreateToken calls
                                                 until released (test-only: stages refresh races)
  GET  /_emulator/hold-refreshes                 {\"armed\":N,\"held\":K}: still to hold, waiting now
  POST /_emulator/release-refreshes [{\"count\":K}] let the K oldest held (no body: all) go on

SAML and STS routes (the first stdout line's samlIdpUrl is {url}/{tenant}/saml2):
  GET  /{tenant}/saml2                           Entra-like SAML sign-in: ?SAMLRequest=base64(raw
                                                 DEFLATE(AuthnRequest))&RelayState=…; answers an
                                                 auto-posting SAMLResponse form, or a sign-in
                                                 page without auto-approve; AADSTS50011 when the
                                                 ACS URL is not a reply URL
  POST /{tenant}/saml2                           the sign-in page's buttons (request_id, decision)
  GET  /{tenant}/federationmetadata/2007-06/federationmetadata.xml
                                                 the IdP metadata with the signing certificate
  POST /                                         STS: Action=AssumeRoleWithSAML&Version=2011-06-15
                                                 &RoleArn&PrincipalArn&SAMLAssertion
                                                 [&DurationSeconds] (AWS_ENDPOINT_URL_STS = url)
  POST /                                         STS: Action=GetCallerIdentity&Version=2011-06-15,
                                                 SigV4-signed with keys the emulator issued
  POST /                                         STS: Action=AssumeRole&Version=2011-06-15&RoleArn
                                                 &RoleSessionName[&ExternalId][&SerialNumber
                                                 &TokenCode][&DurationSeconds], SigV4-signed
                                                 with keys the emulator issued (--chain-roles)

The wire protocol it speaks is described in docs/protocol.md of the portico repository.";

/// An IAM Identity Center emulator (SSO OIDC + portal + console federation) with an Entra-like
/// SAML IdP and STS (AssumeRoleWithSAML, GetCallerIdentity, AssumeRole), on 127.0.0.1.
///
/// One base URL serves as AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_SSO_OIDC and
/// AWS_ENDPOINT_URL_STS; its /federation path is the console federation endpoint
/// (PORTICO_FEDERATION_ENDPOINT); {url}/{tenant}/saml2 is the SAML IdP. Without --directory or
/// --accounts the user is assigned a generated directory of 12 accounts × 3 roles and 4 SAML
/// roles.
#[derive(Debug, Parser)]
#[command(
    name = "idc-emulator",
    version,
    after_help = CONTROL_HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Directory file: {"accounts":[{"accountId","accountName","emailAddress","roles":[…]}]}.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["accounts", "roles_per_account"])]
    directory: Option<PathBuf>,
    /// Generate a deterministic directory of N accounts (default 12).
    #[arg(long, value_name = "N")]
    accounts: Option<usize>,
    /// Roles per generated account (default 3).
    #[arg(long, value_name = "M")]
    roles_per_account: Option<usize>,
    /// The one start URL served; another one is refused with InvalidRequestException.
    #[arg(long, value_name = "URL", default_value = DEFAULT_START_URL)]
    start_url: String,
    /// The region reported.
    #[arg(long, value_name = "R", default_value = DEFAULT_REGION)]
    region: String,
    /// Delay added to every OIDC and portal call, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// Portal calls per second before 429 TooManyRequestsException (token bucket holding one
    /// second of calls); 0 turns throttling off.
    #[arg(long, value_name = "N", default_value_t = 0.0)]
    throttle_rps: f64,
    /// Fraction (0–1) of OIDC and portal calls answered with 500.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    error_rate: f64,
    /// Access token lifetime in seconds [default: 28800, or 3600 with a refresh token].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    access_token_ttl: Option<u64>,
    /// Role credential lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    role_credential_ttl: u64,
    /// Approve device codes as they are issued; /authorize redirects at once with a code; a
    /// SAML sign-in answers the auto-posting form at once.
    #[arg(long)]
    auto_approve: bool,
    /// SAML roles generated over the first three accounts [default: the directory file's
    /// samlRoles, else 4].
    #[arg(long, value_name = "N")]
    saml_roles: Option<usize>,
    /// A reply URL of the SAML application (repeatable; an http://localhost URL matches any
    /// port, * is a wildcard) [default: https://signin.aws.amazon.com/saml and
    /// http://localhost/saml].
    #[arg(long, value_name = "PATTERN")]
    saml_reply_url: Vec<String>,
    /// A SAML:aud StringLike pattern (* and ?) the roles' trust policies accept for the
    /// Recipient (repeatable) [default: the reply URLs, a port-less localhost one also as
    /// http://localhost:*/PATH].
    #[arg(long, value_name = "PATTERN")]
    saml_aud: Vec<String>,
    /// The Entra tenant whose issuer (https://sts.windows.net/TENANT/) the SAML providers trust.
    #[arg(long, value_name = "ID", default_value = DEFAULT_TENANT)]
    saml_tenant: String,
    /// The SessionDuration attribute of assertions; 0 leaves it out.
    #[arg(long, value_name = "SECS", default_value_t = 28_800)]
    saml_session_duration: u64,
    /// Every account has N IAM roles ChainRole1…ChainRoleN for STS AssumeRole, each trusting
    /// every role session the emulator hands out (Identity Center, SAML and AssumeRole keys),
    /// MaxSessionDuration 3600; POST /_emulator/trust changes one.
    #[arg(long, value_name = "N", default_value_t = 0)]
    chain_roles: usize,
    /// STS answers every AssumeRoleWithSAML and AssumeRole with RegionDisabledException.
    #[arg(long)]
    sts_region_disabled: bool,
    /// Also serve https (the same routes) on another free port of 127.0.0.1, with a
    /// certificate for 127.0.0.1 and localhost from a test CA made at start; the CA's
    /// certificate is written to DIR/ca.pem (trust it with AWS_CA_BUNDLE). The first line
    /// then also holds "httpsUrl" and "caFile".
    #[arg(long, value_name = "DIR")]
    tls_cert_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// A stand-in browser: follows URL's redirects and auto-posting form, on this machine only
    Browse(browse::BrowseArgs),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Ready {
    url: String,
    start_url: String,
    region: String,
    saml_idp_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    https_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<PathBuf>,
}

fn config(cli: Cli) -> Result<Config, Box<dyn Error>> {
    let mut directory = match cli.directory {
        Some(path) => Directory::load(&path)?,
        None => Directory::generate(
            cli.accounts.unwrap_or(DEFAULT_ACCOUNTS),
            cli.roles_per_account.unwrap_or(DEFAULT_ROLES),
        ),
    };
    match cli.saml_roles {
        Some(n) => directory.generate_saml_roles(n),
        None if directory.saml_roles().is_empty() => {
            directory.generate_saml_roles(DEFAULT_SAML_ROLES)
        }
        None => {}
    }
    let reply_urls = if cli.saml_reply_url.is_empty() {
        DEFAULT_REPLY_URLS.iter().map(|s| s.to_string()).collect()
    } else {
        cli.saml_reply_url
    };
    for url in reply_urls.iter().filter(|u| !u.contains('*')) {
        url::Url::parse(url).map_err(|e| format!("--saml-reply-url {url}: {e}"))?;
    }
    if !(cli.saml_session_duration == 0 || (900..=43200).contains(&cli.saml_session_duration)) {
        return Err("--saml-session-duration must be 0 or 900–43200".into());
    }
    let saml = SamlSettings {
        tenant: cli.saml_tenant,
        aud: if cli.saml_aud.is_empty() {
            default_aud(&reply_urls)
        } else {
            cli.saml_aud
        },
        reply_urls,
        session_duration: (cli.saml_session_duration > 0).then_some(cli.saml_session_duration),
        user: DEFAULT_USER.to_string(),
        sts_region_disabled: cli.sts_region_disabled,
    };
    let faults = Faults {
        latency_ms: cli.latency_ms,
        throttle_rps: cli.throttle_rps,
        error_rate: cli.error_rate,
        garble_bodies: false,
    };
    faults.validate()?;
    Ok(Config {
        port: cli.port,
        directory,
        start_url: cli.start_url,
        region: cli.region,
        faults,
        access_token_ttl: cli.access_token_ttl,
        role_credential_ttl: cli.role_credential_ttl,
        chain_roles: cli.chain_roles,
        auto_approve: cli.auto_approve,
        log_requests: true,
        saml,
        tls_cert_dir: cli.tls_cert_dir,
    })
}

/// SIGINT and SIGTERM, listened for from creation on: a signal that arrives right after the
/// ready line must still stop the server cleanly.
#[cfg(unix)]
struct StopSignal {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignal {
    fn install() -> std::io::Result<StopSignal> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignal {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct StopSignal;

#[cfg(not(unix))]
impl StopSignal {
    fn install() -> std::io::Result<StopSignal> {
        Ok(StopSignal)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let config = config(cli)?;
    let accounts = config.directory.accounts().len();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let stop = StopSignal::install()?;
        let running = idc_emulator::spawn(config).await?;
        let ready = Ready {
            url: running.url(),
            start_url: running.start_url(),
            region: running.region(),
            saml_idp_url: running.saml_idp_url(),
            https_url: running.https_url(),
            ca_file: running.ca_file().map(PathBuf::from),
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", serde_json::to_string(&ready)?)?;
        stdout.flush()?;
        drop(stdout);
        eprintln!(
            "idc-emulator: serving {} ({} accounts) at {}{}",
            ready.start_url,
            accounts,
            ready.url,
            ready
                .https_url
                .as_ref()
                .map(|u| format!(" and {u}"))
                .unwrap_or_default()
        );
        stop.wait().await;
        eprintln!("idc-emulator: stopping");
        running.shutdown().await;
        Ok(())
    })
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(Sub::Browse(args)) = cli.command.take() {
        return browse::run(args);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idc-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn directory_excludes_generation_flags() {
        let parsed =
            Cli::try_parse_from(["idc-emulator", "--directory", "d.json", "--accounts", "3"]);
        assert!(parsed.is_err());
        let cli = Cli::try_parse_from(["idc-emulator", "--accounts", "250"]).unwrap();
        let config = config(cli).unwrap();
        assert_eq!(config.directory.accounts().len(), 250);
        assert_eq!(config.directory.accounts()[0].roles.len(), 3);
    }

    #[test]
    fn saml_flags() {
        let defaults = config(Cli::try_parse_from(["idc-emulator"]).unwrap()).unwrap();
        assert_eq!(defaults.directory.saml_roles().len(), DEFAULT_SAML_ROLES);
        assert_eq!(defaults.saml.reply_urls, DEFAULT_REPLY_URLS);
        assert!(defaults
            .saml
            .aud
            .iter()
            .any(|a| a == "http://localhost:*/saml"));
        assert_eq!(defaults.saml.session_duration, Some(28_800));
        let cli = Cli::try_parse_from([
            "idc-emulator",
            "--saml-roles",
            "7",
            "--saml-reply-url",
            "http://localhost:8400/saml",
            "--saml-reply-url",
            "https://*.example.com/saml",
            "--saml-session-duration",
            "0",
            "--saml-tenant",
            "t1",
        ])
        .unwrap();
        let custom = config(cli).unwrap();
        assert_eq!(custom.directory.saml_roles().len(), 7);
        assert_eq!(
            custom.saml.aud,
            ["http://localhost:8400/saml", "https://*.example.com/saml"]
        );
        assert_eq!(custom.saml.session_duration, None);
        assert_eq!(custom.saml.tenant, "t1");
        for bad in [
            ["--saml-session-duration", "100"],
            ["--saml-reply-url", "not a url"],
        ] {
            let cli = Cli::try_parse_from(["idc-emulator", bad[0], bad[1]]).unwrap();
            assert!(config(cli).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn out_of_range_error_rate_is_refused() {
        let cli = Cli::try_parse_from(["idc-emulator", "--error-rate", "2"]).unwrap();
        assert!(config(cli).is_err());
    }
}
