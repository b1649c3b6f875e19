//! Every credential source through every consumer (docs/testing.md, "The matrix").
//!
//! A source is a way to name a role: an Identity Center profile, `--account/--role`, a
//! saml-session's `--role-arn`, and the profiles `profiles sync` writes for each kind. A
//! consumer is a way portico hands out keys: `credentials` in two formats, `exec`,
//! `exec --serve`, `serve`, `console --print` and the portal's ⏎. Each cell runs the real
//! binary against the emulator and asks the emulator's STS (GetCallerIdentity, signed with the
//! keys the consumer handed out) whose keys they are; the console cell reads whose keys the
//! federation endpoint signed in with. Every source names a different role, and `[default]`
//! names yet another, so keys of any other role — the default profile's above all — fail the
//! cell. Every cell runs, the table of results is printed, then the test fails naming each
//! failing cell.
//!
//! One emulator, one HOME, one Identity Center sign-in and one SAML sign-in serve every cell:
//! each cell still asks for one role and checks that it got exactly that role's keys.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::tmux::Tmux;
use common::{support, text, wait_until, TestEnv};
use idc_emulator::{Account, Config, Directory, Identity};

/// How long one command of a cell may take.
const LIMIT: Duration = Duration::from_secs(60);
const USER: &str = idc_emulator::DEFAULT_USER;

/// Keys as a consumer handed them out.
#[derive(Debug, Clone)]
struct Keys {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    /// The account the consumer said the keys are of (the container answer's `AccountId`).
    account: Option<String>,
}

/// What a cell saw: keys to ask STS about, or the identity a console link signed in as —
/// or why the consumer does not take this source.
enum Seen {
    Keys(Keys),
    SignedInAs(String),
    NotApplicable(&'static str),
}

/// How the portal lists a source's role, if it does.
enum PortalRow {
    /// `portico ARGS`, then FILTER typed; the selected line then holds every one of LINE.
    Row {
        args: Vec<String>,
        filter: String,
        line: Vec<String>,
    },
    /// Why this source has no row of its own in the portal: an ad hoc `--chain` names no
    /// profile to list.
    NotListed(&'static str),
}

/// A row of the matrix.
struct Source {
    name: &'static str,
    /// The flags that name it, as every command takes them.
    args: Vec<String>,
    /// Whose keys it must hand out.
    expected: Identity,
    portal: PortalRow,
}

/// A column of the matrix.
struct Consumer {
    name: &'static str,
    run: fn(&World, &Source) -> Result<Seen, String>,
}

const CONSUMERS: &[Consumer] = &[
    Consumer {
        name: "credentials json",
        run: credentials_json,
    },
    Consumer {
        name: "credentials env",
        run: credentials_env,
    },
    Consumer {
        name: "exec",
        run: exec,
    },
    Consumer {
        name: "exec --serve",
        run: exec_serve,
    },
    Consumer {
        name: "serve",
        run: serve,
    },
    Consumer {
        name: "console --print",
        run: console,
    },
    Consumer {
        name: "portal ⏎",
        run: portal,
    },
];

fn account(id: &str, name: &str, roles: &[&str]) -> Account {
    Account {
        account_id: id.to_string(),
        account_name: name.to_string(),
        email_address: format!("aws+{name}@example.com"),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

/// The test's world: the emulator, a HOME signed in to both kinds of session, and the names
/// of the profiles `profiles sync` wrote.
struct World {
    env: TestEnv,
    browser_log: PathBuf,
    runtime: tokio::runtime::Runtime,
    /// Every identity a source or `[default]` names, to say whose keys a cell got instead.
    known: Vec<(String, Identity)>,
}

impl World {
    /// portico with the whole world's endpoints, and a stand-in browser for SAML sign-in.
    fn portico(&self) -> Command {
        let mut cmd = self.env.portico();
        for (name, value) in self.vars() {
            cmd.env(name, value);
        }
        cmd
    }

    /// The variables every portico of this test gets beside [`TestEnv::portico`]'s.
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_STS", self.env.emu.url()),
            (
                "PORTICO_FEDERATION_ENDPOINT",
                format!("{}/federation", self.env.emu.url()),
            ),
            ("BROWSER", support("saml-browser.py").display().to_string()),
            ("SAML_BROWSER_LOG", self.browser_log.display().to_string()),
            ("PORTICO_HTTP_TIMEOUT", "10".to_string()),
        ]
    }

    /// Runs `portico ARGS` to its end; a failure is the exit code and stderr.
    fn run(&self, args: &[String]) -> Result<Output, String> {
        let (out, took) = common::output_within(self.portico().args(args), LIMIT);
        let out = out.ok_or_else(|| format!("portico {args:?} did not end within {took:?}"))?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(format!(
                "portico {} exited {:?}: {}",
                args.join(" "),
                out.status.code(),
                text(&out.stderr).trim()
            ))
        }
    }

    /// Whose keys these are, by STS GetCallerIdentity at the emulator, signed with them by
    /// the Rust SDK (the emulator checks the signature with the secret it issued).
    fn caller(&self, keys: &Keys) -> Result<String, String> {
        if keys.access_key_id.is_empty() {
            return Err("no keys were handed out".into());
        }
        let sts = self.env.sts_with(
            &keys.access_key_id,
            &keys.secret_access_key,
            &keys.session_token,
        );
        let who = self
            .runtime
            .block_on(sts.get_caller_identity().send())
            .map_err(|e| {
                use aws_sdk_sts::error::ProvideErrorMetadata;
                let e = e.into_service_error();
                format!(
                    "STS refused the keys: {} {}",
                    e.code().unwrap_or("?"),
                    e.message().unwrap_or_default()
                )
            })?;
        who.arn()
            .map(str::to_string)
            .ok_or_else(|| "GetCallerIdentity answered no Arn".into())
    }

    /// Passes when `seen` is the source's role's; else says whose it was.
    fn check(&self, source: &Source, seen: Seen) -> Result<(), String> {
        let (arn, claimed) = match seen {
            Seen::Keys(keys) => (self.caller(&keys)?, keys.account),
            Seen::SignedInAs(arn) => (arn, None),
            Seen::NotApplicable(_) => return Ok(()),
        };
        // An expected ARN ending in `/` is any session of that role.
        let expected = &source.expected.arn;
        if arn == *expected || (expected.ends_with('/') && arn.starts_with(expected.as_str())) {
            return match claimed {
                Some(account) if account != source.expected.account => Err(format!(
                    "the keys are {arn}'s, but the answer says AccountId {account}"
                )),
                _ => Ok(()),
            };
        }
        let whose = self
            .known
            .iter()
            .find(|(_, identity)| identity.arn == arn)
            .map_or("no source's".to_string(), |(name, _)| format!("{name}'s"));
        Err(format!(
            "got {whose} keys ({arn}), not {} (asked)",
            source.expected.arn
        ))
    }
}

/// `[profile NAME]` whose `credential_process` holds `needle`, in the config file.
fn synced_profile(config: &str, needle: &str) -> Option<String> {
    let mut profile = None;
    for line in config.lines() {
        let line = line.trim();
        if let Some(name) = line
            .strip_prefix("[profile ")
            .and_then(|l| l.strip_suffix(']'))
        {
            profile = Some(name.trim().to_string());
        } else if line.starts_with('[') {
            profile = None;
        } else if line.starts_with("credential_process") && line.contains(needle) {
            return profile;
        }
    }
    None
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// The world, signed in, with its profiles synced; and the rows of the matrix.
fn world() -> (World, Vec<Source>) {
    let mut directory = Directory::from_accounts(vec![
        account("111111111111", "alpha", &["Admin", "ReadOnly"]),
        account("222222222222", "beta", &["Admin", "Deploy"]),
        account("333333333333", "gamma", &["Audit", "Admin"]),
        account("444444444444", "delta", &["Admin"]),
    ])
    .unwrap();
    // Admin in 111111111111, ReadOnly in 222222222222, Developer in 333333333333, Billing.
    directory.generate_saml_roles(4);
    let saml_arn = |name: &str| {
        directory
            .saml_roles()
            .iter()
            .find(|r| r.role_arn.ends_with(&format!(":role/{name}")))
            .map(|r| r.role_arn.clone())
            .unwrap()
    };
    let (saml_admin, saml_developer) = (saml_arn("Admin"), saml_arn("Developer"));
    let env = TestEnv::new(Config {
        directory: directory.clone(),
        // ChainRole1 in every account, trusting every role the emulator hands out.
        chain_roles: 1,
        ..Config::default()
    });
    // TestEnv's `dev` is alpha's Admin. `[default]` is a role no source names: a consumer that
    // falls back on it fails.
    env.login();
    env.emu.set_auto_approve(true);
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "{config}\n[default]\nsso_session = emu\nsso_account_id = 444444444444\nsso_role_name = Admin\n\
         \n[saml-session corp]\nidp_url = {}\n\
         \n[profile chained]\nrole_arn = arn:aws:iam::222222222222:role/ChainRole1\n\
         source_profile = dev\nrole_session_name = matrix\n",
        env.emu.saml_idp_url()
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let browser_log = env.home.path().join("browser.log");
    let mut world = World {
        env,
        browser_log,
        runtime,
        known: Vec::new(),
    };
    for args in [
        strings(&["login", "--saml-session", "corp"]),
        strings(&[
            "profiles",
            "sync",
            "--sso-session",
            "emu",
            "--credential-process",
        ]),
        strings(&["profiles", "sync", "--saml-session", "corp"]),
    ] {
        if let Err(e) = world.run(&args) {
            panic!("setting up the matrix: {e}");
        }
    }
    let config = std::fs::read_to_string(world.env.config_path()).unwrap();
    let synced = |needle: &str| {
        synced_profile(&config, needle).unwrap_or_else(|| {
            panic!(
                "profiles sync wrote no profile whose credential_process has {needle:?}:\n{config}"
            )
        })
    };
    let synced_idc = synced("--account 333333333333 --role Audit");
    let synced_saml = synced(&format!("--role-arn {saml_developer}"));

    let idc = |account: &str, role: &str| Identity::identity_center(account, role, USER);
    let sources = vec![
        Source {
            name: "--profile (Identity Center)",
            args: strings(&["--profile", "dev"]),
            expected: idc("111111111111", "Admin"),
            portal: PortalRow::Row {
                args: strings(&["--profile", "dev"]),
                filter: "alpha admin".into(),
                line: strings(&["alpha", "Admin"]),
            },
        },
        Source {
            name: "--account --role --sso-session",
            args: strings(&[
                "--account",
                "222222222222",
                "--role",
                "Deploy",
                "--sso-session",
                "emu",
            ]),
            expected: idc("222222222222", "Deploy"),
            portal: PortalRow::Row {
                args: strings(&["--sso-session", "emu"]),
                filter: "beta deploy".into(),
                line: strings(&["beta", "Deploy"]),
            },
        },
        Source {
            name: "--saml-session --role-arn",
            args: vec![
                "--saml-session".into(),
                "corp".into(),
                "--role-arn".into(),
                saml_admin.clone(),
            ],
            expected: Identity::of_role(&saml_admin, USER),
            portal: PortalRow::Row {
                args: Vec::new(),
                filter: "saml 111111111111 admin".into(),
                line: strings(&["SAML corp", "111111111111", "Admin"]),
            },
        },
        Source {
            name: "profile of sync --credential-process",
            args: vec!["--profile".into(), synced_idc.clone()],
            expected: idc("333333333333", "Audit"),
            // The portal opens on the sso-session the profile's line names.
            portal: PortalRow::Row {
                args: vec!["--profile".into(), synced_idc],
                filter: "gamma audit".into(),
                line: strings(&["gamma", "Audit"]),
            },
        },
        Source {
            name: "profile of sync --saml-session",
            args: vec!["--profile".into(), synced_saml.clone()],
            expected: Identity::of_role(&saml_developer, USER),
            // The portal opens on the roles of the saml-session the profile's line names.
            portal: PortalRow::Row {
                args: vec!["--profile".into(), synced_saml],
                filter: "saml 333333333333 developer".into(),
                line: strings(&["SAML corp", "333333333333", "Developer"]),
            },
        },
        Source {
            name: "chained profile (role_arn, source_profile)",
            args: strings(&["--profile", "chained"]),
            expected: Identity::of_role("arn:aws:iam::222222222222:role/ChainRole1", "matrix"),
            // The portal opens on the sso-session at the bottom of the chain and lists the
            // chained profile beside its source's row.
            portal: PortalRow::Row {
                args: strings(&["--profile", "chained"]),
                filter: "chained via dev".into(),
                line: strings(&["chained via dev", "222222222222", "ChainRole1"]),
            },
        },
        Source {
            name: "--profile --chain ROLE_ARN",
            args: strings(&[
                "--profile",
                "dev",
                "--chain",
                "arn:aws:iam::333333333333:role/ChainRole1",
            ]),
            // The session is named portico-session-{time}: any session of the role.
            expected: Identity::of_role("arn:aws:iam::333333333333:role/ChainRole1", ""),
            portal: PortalRow::NotListed("the portal does not chain roles ad hoc"),
        },
    ];
    world.known = sources
        .iter()
        .map(|s| (format!("source {:?}", s.name), s.expected.clone()))
        .chain([("[default]".to_string(), idc("444444444444", "Admin"))])
        .collect();
    (world, sources)
}

/// `credentials --format json`: the keys of one JSON object.
fn credentials_json(world: &World, source: &Source) -> Result<Seen, String> {
    let mut args = strings(&["credentials"]);
    args.extend(source.args.iter().cloned());
    args.extend(strings(&["--format", "json"]));
    let out = world.run(&args)?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("stdout is not JSON ({e}): {}", text(&out.stdout)))?;
    let field = |name: &str| json[name].as_str().unwrap_or_default().to_string();
    Ok(Seen::Keys(Keys {
        access_key_id: field("AccessKeyId"),
        secret_access_key: field("SecretAccessKey"),
        session_token: field("SessionToken"),
        account: None,
    }))
}

/// The keys in `NAME=VALUE` lines.
fn keys_of_env(lines: &str) -> Keys {
    let var = |name: &str| {
        lines
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_default()
            .to_string()
    };
    Keys {
        access_key_id: var("AWS_ACCESS_KEY_ID"),
        secret_access_key: var("AWS_SECRET_ACCESS_KEY"),
        session_token: var("AWS_SESSION_TOKEN"),
        account: None,
    }
}

/// `credentials --format env`, run through bash as `eval` would.
fn credentials_env(world: &World, source: &Source) -> Result<Seen, String> {
    let mut args = strings(&["credentials"]);
    args.extend(source.args.iter().cloned());
    args.extend(strings(&["--format", "env"]));
    let out = world.run(&args)?;
    let shell = Command::new("bash")
        .args([
            "--noprofile",
            "--norc",
            "-c",
            "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; eval \"$1\" && env",
            "bash",
            &text(&out.stdout),
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("bash: {e}"))?;
    if !shell.status.success() {
        return Err(format!("bash refused the exports: {}", text(&shell.stderr)));
    }
    Ok(Seen::Keys(keys_of_env(&text(&shell.stdout))))
}

/// `exec -- env`: the child's environment.
fn exec(world: &World, source: &Source) -> Result<Seen, String> {
    let mut args = strings(&["exec"]);
    args.extend(source.args.iter().cloned());
    args.extend(strings(&["--", "env"]));
    let out = world.run(&args)?;
    Ok(Seen::Keys(keys_of_env(&text(&out.stdout))))
}

/// The keys of a container-credentials answer (`Token`, not `SessionToken`) and its
/// `AccountId`.
fn keys_of_container_answer(body: &str) -> Result<Keys, String> {
    let json: serde_json::Value =
        serde_json::from_str(body.trim()).map_err(|e| format!("not JSON ({e}): {body}"))?;
    if let Some(error) = json["error"].as_str() {
        return Err(error.to_string());
    }
    let field = |name: &str| json[name].as_str().unwrap_or_default().to_string();
    Ok(Keys {
        access_key_id: field("AccessKeyId"),
        secret_access_key: field("SecretAccessKey"),
        session_token: field("Token"),
        account: json["AccountId"].as_str().map(str::to_string),
    })
}

/// `exec --serve -- CMD`: CMD fetches from the endpoint it was given, as an SDK does, and is
/// handed no static keys.
fn exec_serve(world: &World, source: &Source) -> Result<Seen, String> {
    let mut args = strings(&["exec", "--serve"]);
    args.extend(source.args.iter().cloned());
    args.extend([
        "--".into(),
        "python3".into(),
        support("container-fetch.py").display().to_string(),
    ]);
    let out = world.run(&args)?;
    let body = text(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_default();
    if json["static"].as_array().is_some_and(|s| !s.is_empty()) {
        return Err(format!("the command was handed {} too", json["static"]));
    }
    keys_of_container_answer(&body).map(Seen::Keys)
}

/// `serve`: a GET of the printed URI with the printed token; the server is stopped after.
fn serve(world: &World, source: &Source) -> Result<Seen, String> {
    let mut cmd = world.portico();
    cmd.arg("serve")
        .args(&source.args)
        .args(["--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("portico serve: {e}"))?;
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    // The server prints its variables, then closes stdout.
    let printed = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let printed =
        wait_until(LIMIT, || printed.is_finished().then_some(())).map(|()| printed.join().unwrap());
    let answer = match printed {
        None => Err(format!("serve printed nothing within {LIMIT:?}")),
        Some(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
            .map_err(|e| format!("serve printed no JSON ({e}): {}", text(&bytes)))
            .and_then(|vars| {
                let uri = vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
                    .as_str()
                    .ok_or_else(|| format!("no URI in {vars}"))?;
                let token = vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
                    .as_str()
                    .ok_or("no token printed")?;
                let (status, body) = http_get(uri, &[("Authorization", token)])?;
                if status != 200 {
                    return Err(format!("GET {uri} answered {status}: {body}"));
                }
                keys_of_container_answer(&body)
            }),
    };
    // SIGTERM stops the server (exit 0); its stderr then ends.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    if wait_until(LIMIT, || child.try_wait().unwrap()).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut log = String::new();
    let _ = stderr.read_to_string(&mut log);
    answer
        .map(Seen::Keys)
        .map_err(|e| format!("{e}; serve said: {}", log.trim()))
}

/// `console --print`: the link is opened at the emulator's federation endpoint, whose page
/// says whose keys made its sign-in token.
fn console(world: &World, source: &Source) -> Result<Seen, String> {
    let mut args = strings(&["console"]);
    args.extend(source.args.iter().cloned());
    args.push("--print".into());
    let out = world.run(&args)?;
    let link = text(&out.stdout).trim().to_string();
    let federation = format!("{}/federation?", world.env.emu.url());
    if !link.starts_with(&federation) {
        return Err(format!(
            "the link is not the emulator's federation endpoint: {link}"
        ));
    }
    let (status, page) = http_get(&link, &[])?;
    if status != 200 {
        return Err(format!("the link answered {status}: {page}"));
    }
    page.split("<span id=\"arn\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(|arn| Seen::SignedInAs(arn.to_string()))
        .ok_or_else(|| format!("the console page names no role: {page}"))
}

/// The portal's ⏎ in a tmux pane: the source's row picked with the filter, its exports
/// evaluated by the shell that ran `eval "$(portico)"`.
fn portal(world: &World, source: &Source) -> Result<Seen, String> {
    let (args, filter, line) = match &source.portal {
        PortalRow::Row { args, filter, line } => (args, filter, line),
        PortalRow::NotListed(why) => return Ok(Seen::NotApplicable(why)),
    };
    let home = world.env.home.path();
    static CELLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let cell = CELLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let out = home.join(format!("portal-{cell}.keys"));
    let mut rc = String::from(
        "PS1='$ '\nunset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID \
         AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN DISPLAY WAYLAND_DISPLAY SSH_CONNECTION SSH_TTY\n\
         export SHELL=/bin/bash\n",
    );
    let base = [
        ("HOME", home.display().to_string()),
        ("XDG_CACHE_HOME", home.join(".cache").display().to_string()),
        (
            "AWS_CONFIG_FILE",
            world.env.config_path().display().to_string(),
        ),
        ("AWS_ENDPOINT_URL_SSO", world.env.emu.url()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", world.env.emu.url()),
    ];
    for (name, value) in base.into_iter().chain(world.vars()) {
        rc.push_str(&format!("export {name}='{value}'\n"));
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_portico"));
    rc.push_str(&format!(
        "export PATH='{}':\"$PATH\"\n",
        bin.parent().unwrap().display()
    ));
    let rc_path = home.join("matrix-bashrc");
    std::fs::write(&rc_path, rc).unwrap();
    let tmux = Tmux::start(&format!(
        "bash --noprofile --rcfile '{}' -i",
        rc_path.display()
    ));
    tmux.wait_for("the shell prompt", |s| s.trim_end().ends_with('$'));
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    tmux.run(&format!(
        "eval \"$(portico {args})\"; printf '%s\\n' \"AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID\" \
         \"AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY\" \"AWS_SESSION_TOKEN=$AWS_SESSION_TOKEN\" \
         > '{out}.part' && mv '{out}.part' '{out}'",
        args = quoted.join(" "),
        out = out.display()
    ));
    // The list, or the shell's line after the portal ended without one (an error).
    let screen = tmux.wait_for_within("the portal's list", LIMIT, |s| {
        s.contains(" roles") || out.exists()
    });
    if out.exists() {
        return Err(format!("the portal ended without a list:\n{screen}"));
    }
    tmux.type_text(filter);
    tmux.wait_for_within("the source's row selected", LIMIT, |s| {
        s.lines()
            .find(|l| l.starts_with('›'))
            .is_some_and(|l| line.iter().all(|part| l.contains(part.as_str())))
    });
    tmux.keys(&["Enter"]);
    let keys = wait_until(LIMIT, || std::fs::read_to_string(&out).ok()).ok_or_else(|| {
        format!(
            "the shell got no exports; the pane shows:\n{}",
            tmux.screen()
        )
    })?;
    Ok(Seen::Keys(keys_of_env(&keys)))
}

/// `GET url` over HTTP/1.1 with `headers`: (status, body).
fn http_get(url: &str, headers: &[(&str, &str)]) -> Result<(u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an http URL: {url}"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut conn = TcpStream::connect(authority).map_err(|e| format!("{authority}: {e}"))?;
    conn.set_read_timeout(Some(LIMIT)).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    conn.write_all(request.as_bytes())
        .map_err(|e| format!("{authority}: {e}"))?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer)
        .map_err(|e| format!("{authority}: {e}"))?;
    let answer = text(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP answer: {answer}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status: {head}"))?;
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    let body = if chunked {
        let mut rest = body;
        let mut out = String::new();
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if size == 0 || tail.len() < size {
                break;
            }
            out.push_str(&tail[..size]);
            rest = tail[size..].trim_start_matches("\r\n");
        }
        out
    } else {
        body.to_string()
    };
    Ok((status, body))
}

#[test]
fn every_source_through_every_consumer_hands_out_the_asked_roles_keys() {
    let (world, sources) = world();
    let mut failures = Vec::new();
    let mut not_applicable = Vec::new();
    let mut table = format!("{:<40}", "");
    for consumer in CONSUMERS {
        table.push_str(&format!("{:<18}", consumer.name));
    }
    table.push('\n');
    for source in &sources {
        table.push_str(&format!("{:<40}", source.name));
        for consumer in CONSUMERS {
            // A helper's panic (a pane that never showed a row) fails this cell, not the run.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match (consumer
                .run)(
                &world, source,
            )? {
                Seen::NotApplicable(why) => Ok(Some(why)),
                seen => world.check(source, seen).map(|()| None),
            }))
            .unwrap_or_else(|panic| {
                Err(panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panicked".into()))
            });
            let mark = match result {
                Ok(None) => "ok",
                Ok(Some(why)) => {
                    not_applicable.push(format!("{} × {}: {why}", source.name, consumer.name));
                    "n/a"
                }
                Err(e) => {
                    failures.push(format!("{} × {}: {e}", source.name, consumer.name));
                    "FAIL"
                }
            };
            table.push_str(&format!("{mark:<18}"));
        }
        table.push('\n');
    }
    eprintln!("{table}\n{}", not_applicable.join("\n"));
    assert!(
        failures.is_empty(),
        "{} of the matrix's cells fail:\n{table}\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
