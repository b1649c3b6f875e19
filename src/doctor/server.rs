//! The `credential-server` check: where `AWS_CONTAINER_CREDENTIALS_FULL_URI` is set (by
//! `portico serve`'s lines, or `portico exec --serve`), something must answer there, and take
//! the token the environment holds; otherwise every SDK in this shell fails to find keys.

use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::{Check, Report, Status};
use crate::sanitize::for_terminal;
use crate::serve::{TOKEN_FILE_VAR, TOKEN_VAR, URI_VAR};

/// botocore gives the endpoint 2 s.
const LIMIT: Duration = Duration::from_secs(2);

/// The container variables of the environment doctor runs in.
pub(super) struct ServerVars {
    pub uri: Option<String>,
    pub token: Option<String>,
    pub token_file: Option<String>,
}

impl ServerVars {
    pub(super) fn from_process() -> ServerVars {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        ServerVars {
            uri: var(URI_VAR),
            token: var(TOKEN_VAR),
            token_file: var(TOKEN_FILE_VAR),
        }
    }
}

pub(super) fn check_credential_server(vars: &ServerVars, report: &mut Report) {
    let Some(uri) = &vars.uri else {
        report.pass(
            Check::CredentialServer,
            format!("{URI_VAR} is not set: no credential server in use here"),
        );
        return;
    };
    let shown = for_terminal(uri);
    let unset = format!("unset {URI_VAR} {TOKEN_VAR} {TOKEN_FILE_VAR}");
    let token = match (&vars.token_file, &vars.token) {
        // botocore reads the file first.
        (Some(path), _) => match std::fs::read_to_string(path) {
            Ok(token) => Some(token),
            Err(e) => {
                report.add(
                    Check::CredentialServer,
                    Status::Fail,
                    format!("{TOKEN_FILE_VAR} names {}, which cannot be read: {e}", for_terminal(path)),
                    Some(format!(
                        "start the server again (`portico serve --token-file …`) and export what it prints, or {unset}"
                    )),
                );
                return;
            }
        },
        (None, token) => token.clone(),
    };
    let parsed: hyper::Uri = match uri.parse() {
        Ok(parsed) => parsed,
        Err(_) => {
            report.add(
                Check::CredentialServer,
                Status::Fail,
                format!("{URI_VAR} is {shown}, which is not a URL"),
                Some(unset),
            );
            return;
        }
    };
    if parsed.scheme_str() != Some("http") {
        report.add(
            Check::CredentialServer,
            Status::Skip,
            format!(
                "{URI_VAR} is {shown}: not checked (only http servers, such as portico serve, are)"
            ),
            None,
        );
        return;
    }
    let answer = match crate::engine::runtime() {
        Ok(runtime) => runtime.block_on(get(parsed, token)),
        Err(e) => Err(e.to_string()),
    };
    let restart = format!(
        "start `portico serve` again and export the lines it prints (or use `portico exec --serve`), or {unset}"
    );
    match answer {
        Ok(200) => report.pass(
            Check::CredentialServer,
            format!("the credential server at {shown} answered with keys"),
        ),
        Ok(401) => report.add(
            Check::CredentialServer,
            Status::Fail,
            format!("the credential server at {shown} refused the token this environment holds (401): the server there is not the one that printed it"),
            Some(restart),
        ),
        Ok(503) => report.add(
            Check::CredentialServer,
            Status::Warn,
            format!("the credential server at {shown} has no keys until you sign in (503)"),
            Some("run `portico login`".to_string()),
        ),
        Ok(status) => report.add(
            Check::CredentialServer,
            Status::Warn,
            format!("the credential server at {shown} answered HTTP {status}"),
            Some("see the server's log on its stderr".to_string()),
        ),
        Err(detail) => report.add(
            Check::CredentialServer,
            Status::Fail,
            format!("{URI_VAR} points at {shown}, where nothing answers ({detail})"),
            Some(restart),
        ),
    }
}

/// One GET as an SDK sends it; the status, or why there was none.
async fn get(uri: hyper::Uri, token: Option<String>) -> Result<u16, String> {
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let mut request = hyper::Request::get(uri).header(hyper::header::ACCEPT, "application/json");
    if let Some(token) = token {
        request = request.header(hyper::header::AUTHORIZATION, token);
    }
    let request = request
        .body(Empty::new())
        .map_err(|_| "the token is not a valid header value".to_string())?;
    let response = tokio::time::timeout(LIMIT, client.request(request))
        .await
        .map_err(|_| format!("no answer within {} s", LIMIT.as_secs()))?
        .map_err(|e| root_cause(&e))?;
    Ok(response.status().as_u16())
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    for_terminal(&current.to_string())
}
