//! The credential engine as a library, as a long-running caller (a server, the portal) uses it:
//! many concurrent `obtain` calls on one runtime, against the emulator over real HTTP, with the
//! sign-in made by the real binary.

mod common;

use std::sync::Arc;

use common::TestEnv;
use idc_emulator::{Config, Directory, Faults};
use portico::engine::{self, Engine, Target};
use portico::identity::OnMissing;
use portico::settings::{Context, Environment, Selector};

fn environment(env: &TestEnv) -> Environment {
    Environment {
        home: Some(env.home.path().to_path_buf()),
        cache_home: Some(env.home.path().join(".cache")),
        config_file: Some(env.config_path()),
        profile: None,
        default_profile: None,
        endpoint_url: None,
        endpoint_url_sso: Some(env.emu.url()),
        endpoint_url_sso_oidc: Some(env.emu.url()),
        endpoint_url_sts: None,
        portico_browser: None,
        browser: None,
    }
}

fn target(env: &TestEnv, ctx: &Context) -> Target {
    let selector = Selector {
        sso_session: Some("emu".into()),
        ..Selector::default()
    };
    let account = &env.emu.directory().accounts()[0];
    Target::identity_center(
        ctx.session(&selector).unwrap(),
        &account.account_id,
        &account.roles[0],
    )
}

#[test]
fn concurrent_callers_in_one_process_share_one_fetch() {
    let env = TestEnv::new(Config {
        directory: Directory::generate(2, 2),
        // Slow enough that the callers overlap while the first one fetches.
        faults: Faults {
            latency_ms: 150,
            ..Faults::default()
        },
        ..Config::default()
    });
    env.login();
    let ctx = Context::load(environment(&env)).unwrap();
    let target = target(&env, &ctx);
    let engine = Arc::new(Engine::new(&ctx.env).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let keys: Vec<String> = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..60 {
            let (engine, target) = (engine.clone(), target.clone());
            tasks.spawn(async move {
                engine
                    .obtain(
                        &target,
                        &OnMissing::fail_by_environment(),
                        engine::MIN_REMAINING,
                    )
                    .await
                    .map(|c| c.access_key_id)
            });
        }
        let mut keys = Vec::new();
        while let Some(done) = tasks.join_next().await {
            keys.push(done.unwrap().expect("credentials"));
        }
        keys
    });
    assert_eq!(keys.len(), 60);
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one set of keys for all"
    );
    assert_eq!(env.stat("GetRoleCredentials"), 1);
    // The warm path answers without a runtime.
    let cached = engine
        .cached(&target, engine::MIN_REMAINING)
        .expect("cached");
    assert_eq!(cached.access_key_id, keys[0]);
}

#[test]
fn a_sign_out_ends_the_cached_keys_for_a_running_caller() {
    let env = TestEnv::new(Config::default());
    env.login();
    let ctx = Context::load(environment(&env)).unwrap();
    let target = target(&env, &ctx);
    let engine = Engine::new(&ctx.env).unwrap();
    engine
        .obtain_blocking(&target, &OnMissing::fail_by_environment())
        .expect("credentials");
    assert!(engine.cached(&target, engine::MIN_REMAINING).is_some());
    let out = env.portico().arg("logout").output().unwrap();
    common::assert_success(&out);
    assert!(engine.cached(&target, engine::MIN_REMAINING).is_none());
    let err = engine
        .obtain_blocking(&target, &OnMissing::fail_by_environment())
        .expect_err("signed out");
    assert_eq!(
        portico::exit::classify(&err),
        portico::exit::Exit::LoginRequired,
        "{err:#}"
    );
    assert_eq!(env.stat("GetRoleCredentials"), 1);
}
