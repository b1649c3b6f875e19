//! The planner's tests: one sync, two syncs, names, ownership, pruning, styles, both sources,
//! and its cost on a large file (the batch edits' own tests are in `batch.rs`).

use super::*;
use std::collections::BTreeSet;
use std::path::Path;

fn item(name: &str, id: &str, role: &str) -> Assignment {
    Assignment {
        account_name: name.into(),
        account_id: id.into(),
        role_name: role.into(),
        role_arn: None,
    }
}

fn options(style: Style) -> SyncOptions {
    SyncOptions {
        source: Source::SsoSession {
            name: "corp".into(),
            style,
        },
        template: Template::parse(DEFAULT_TEMPLATE).unwrap(),
        region: None,
        prune: true,
    }
}

fn doc(text: &str) -> Document {
    Document::parse(Path::new("config"), text)
}

fn profile_names(doc: &Document) -> BTreeSet<String> {
    doc.sections()
        .into_iter()
        .filter(|s| s.id.kind == SectionKind::Profile)
        .map(|s| s.id.name)
        .collect()
}

/// The portal's proposal and a sync with the default template name a role alike.
#[test]
fn the_default_template_names_as_the_portal_proposes() {
    let items = vec![
        item("Payments Prod (EU)", "111111111111", "Admin"),
        item("日本", "222222222222", "Read Only"),
        item("日本", "333333333333", "管理"),
    ];
    let mut d = doc("");
    let out = sync(&mut d, &items, &options(Style::Native)).unwrap();
    let proposed: Vec<String> = items
        .iter()
        .map(|i| {
            crate::awsconfig::names::default_profile_name(
                &i.account_name,
                &i.account_id,
                &i.role_name,
            )
        })
        .collect();
    assert_eq!(out.added, proposed);
    assert_eq!(
        proposed,
        vec!["Payments-Prod-EU-Admin", "Read-Only", "333333333333"]
    );
}

#[test]
fn first_sync_writes_marked_profiles_and_a_second_changes_nothing() {
    let items = vec![
        item("payments prod", "111122223333", "ReadOnly"),
        item("payments prod", "111122223333", "Admin"),
    ];
    let mut items = items;
    items.sort();
    let mut d = doc("# mine\n[profile own]\nregion = x\n");
    let out = sync(&mut d, &items, &options(Style::Native)).unwrap();
    assert_eq!(
        out.added,
        vec!["payments-prod-Admin", "payments-prod-ReadOnly"]
    );
    assert_eq!(
        d.render(),
        "# mine\n[profile own]\nregion = x\n\n\
         [profile payments-prod-Admin]\n# managed by portico profiles sync (sso-session corp)\n\
         sso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n\n\
         [profile payments-prod-ReadOnly]\n# managed by portico profiles sync (sso-session corp)\n\
         sso_session = corp\nsso_account_id = 111122223333\nsso_role_name = ReadOnly\n"
    );
    let before = d.render();
    let again = sync(&mut d, &items, &options(Style::Native)).unwrap();
    assert_eq!(again.unchanged.len(), 2);
    assert!(again.added.is_empty() && again.updated.is_empty() && again.removed.is_empty());
    assert_eq!(d.render(), before);
}

#[test]
fn users_profiles_keep_their_names_and_collisions_are_stable() {
    let mut d = doc("[profile a-Admin]\n# my own\nregion = x\n");
    let items = vec![
        item("a", "111111111111", "Admin"),
        item("a", "222222222222", "Admin"),
    ];
    let out = sync(&mut d, &items, &options(Style::Native)).unwrap();
    assert_eq!(
        out.added,
        vec!["a-Admin-111111111111", "a-Admin-222222222222"]
    );
    assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    assert!(out.warnings[0].contains("[profile a-Admin] is your own"));
    assert!(d
        .render()
        .starts_with("[profile a-Admin]\n# my own\nregion = x\n\n"));

    // Among generated names the first in order gets the plain name; a newcomer that sorts
    // first does not take it away later.
    let mut d = doc("");
    let items = vec![
        item("b", "222222222222", "Admin"),
        item("b.", "333333333333", "Admin"),
    ];
    // "b-Admin" and "b.-Admin" differ; make a real clash with a template on the role only.
    let mut opts = options(Style::Native);
    opts.template = Template::parse("{role_name}").unwrap();
    let out = sync(&mut d, &items, &opts).unwrap();
    assert_eq!(out.added, vec!["Admin", "Admin-333333333333"]);
    let mut grown = vec![item("a", "111111111111", "Admin")];
    grown.extend(items);
    let out = sync(&mut d, &grown, &opts).unwrap();
    assert_eq!(out.added, vec!["Admin-111111111111"]);
    assert_eq!(out.unchanged.len(), 2);
}

#[test]
fn default_is_never_generated() {
    let mut d = doc("");
    let mut opts = options(Style::Native);
    opts.template = Template::parse("{role_name}").unwrap();
    let out = sync(&mut d, &[item("x", "111111111111", "default")], &opts).unwrap();
    assert_eq!(out.added, vec!["default-111111111111"]);
    assert!(out.warnings[0].contains("`default`"));
}

#[test]
fn prune_removes_only_this_sessions_marked_profiles() {
    let text = "[profile gone]\n# managed by portico profiles sync (sso-session corp)\n\
                sso_session = corp\nsso_account_id = 999999999999\nsso_role_name = Admin\n\n\
                [profile other]\n# managed by portico profiles sync (sso-session other)\n\
                sso_session = other\nsso_account_id = 999999999999\nsso_role_name = Admin\n\n\
                [profile mine]\n# a comment of mine\nsso_session = corp\nsso_account_id = 999999999999\nsso_role_name = Admin\n";
    let mut d = doc(text);
    let items = vec![item("a", "111111111111", "Admin")];
    let mut opts = options(Style::Native);
    opts.prune = false;
    let out = sync(&mut d, &items, &opts).unwrap();
    assert_eq!(out.stale, vec!["gone"]);
    assert!(out.counts().contains("1 no longer assigned but kept"));
    let mut d = doc(text);
    let out = sync(&mut d, &items, &options(Style::Native)).unwrap();
    assert_eq!(out.removed, vec!["gone"]);
    let names = profile_names(&d);
    assert!(names.contains("other") && names.contains("mine") && !names.contains("gone"));
    assert!(
        d.render().starts_with("[profile other]\n"),
        "{}",
        d.render()
    );
}

#[test]
fn an_empty_listing_removes_nothing() {
    let mut d = doc("");
    sync(
        &mut d,
        &[item("a", "111111111111", "Admin")],
        &options(Style::Native),
    )
    .unwrap();
    let before = d.render();
    let out = sync(&mut d, &[], &options(Style::Native)).unwrap();
    assert_eq!(out.stale, vec!["a-Admin"]);
    assert!(out.warnings[0].contains("no synced profile is removed"));
    assert_eq!(d.render(), before);
}

#[test]
fn switching_style_rewrites_the_keys_and_keeps_the_users_additions() {
    let mut d = doc("");
    let items = vec![item("a", "111111111111", "Admin")];
    sync(&mut d, &items, &options(Style::Native)).unwrap();
    d.upsert(&SectionId::profile("a-Admin"), &[("output", "json")], &[])
        .unwrap();
    let mut opts = options(Style::CredentialProcess {
        program: "'/opt/my tools/portico'".into(),
    });
    opts.region = Some("eu-west-1".into());
    let out = sync(&mut d, &items, &opts).unwrap();
    assert_eq!(out.updated, vec!["a-Admin"]);
    assert_eq!(
        d.render(),
        "[profile a-Admin]\n# managed by portico profiles sync (sso-session corp)\n\
         output = json\ncredential_process = '/opt/my tools/portico' credentials --account 111111111111 \
         --role Admin --sso-session corp\nregion = eu-west-1\n"
    );
    // The profile is still recognised as this assignment's.
    let again = sync(&mut d, &items, &opts).unwrap();
    assert_eq!(again.unchanged, vec!["a-Admin"]);
}

#[test]
fn a_changed_template_renames_by_adding_and_pruning() {
    let mut d = doc("");
    let items = vec![item("a", "111111111111", "Admin")];
    sync(&mut d, &items, &options(Style::Native)).unwrap();
    let mut opts = options(Style::Native);
    opts.template = Template::parse("{session}-{account_id}-{role_name}").unwrap();
    let out = sync(&mut d, &items, &opts).unwrap();
    assert_eq!(out.added, vec!["corp-111111111111-Admin"]);
    assert_eq!(out.removed, vec!["a-Admin"]);
}

#[test]
fn a_changed_template_keeps_the_region_and_the_users_keys() {
    let mut d = doc("");
    let items = vec![item("a", "111111111111", "Admin")];
    let mut opts = options(Style::Native);
    opts.region = Some("eu-west-1".into());
    sync(&mut d, &items, &opts).unwrap();
    d.upsert(&SectionId::profile("a-Admin"), &[("output", "json")], &[])
        .unwrap();
    let mut opts = options(Style::Native);
    opts.template = Template::parse("{session}-{account_id}-{role_name}").unwrap();
    sync(&mut d, &items, &opts).unwrap();
    let p = d
        .section(&SectionId::profile("corp-111111111111-Admin"))
        .unwrap();
    assert_eq!(p.get("region"), Some("eu-west-1"), "{}", d.render());
    assert_eq!(p.get("output"), Some("json"));
    assert_eq!(p.get("sso_account_id"), Some("111111111111"));
    // A region given now wins over the old one; switching style drops the old style's keys.
    let mut opts = options(Style::CredentialProcess {
        program: "portico".into(),
    });
    opts.template = Template::parse("{account_id}-{role_name}").unwrap();
    opts.region = Some("us-east-2".into());
    sync(&mut d, &items, &opts).unwrap();
    let p = d
        .section(&SectionId::profile("111111111111-Admin"))
        .unwrap();
    assert_eq!(p.get("region"), Some("us-east-2"));
    assert_eq!(p.get("sso_session"), None);
    assert_eq!(p.get("sso_account_id"), None);
    assert_eq!(p.get("output"), Some("json"));
}

/// A sync that renames every profile of a large file (a new template) is linear in the
/// file: 8× the profiles, about 8× the work (see `awsconfig::work`).
#[test]
fn a_sync_of_many_profiles_is_linear() {
    let run = |n: usize| {
        let items: Vec<Assignment> = (0..n)
            .map(|i| {
                item(
                    &format!("acct{i}"),
                    &format!("{:012}", 100_000_000_000u64 + i as u64),
                    "Admin",
                )
            })
            .collect();
        let mut d = doc("");
        sync(&mut d, &items, &options(Style::Native)).unwrap();
        crate::awsconfig::tests::work_of(|| {
            let mut opts = options(Style::Native);
            opts.template = Template::parse("{session}-{account_id}-{role_name}").unwrap();
            let out = sync(&mut d, &items, &opts).unwrap();
            assert_eq!(out.added.len(), n);
            assert!(d.warnings().is_empty());
        })
    };
    let (small, large) = (run(200), run(1600));
    assert!(
        large <= small * 12,
        "8× the profiles took {}× the work ({small} → {large})",
        large / small.max(1)
    );
}

/// A saml-session's roles go through the same planner: a credential_process line naming the
/// role's ARN, the saml-session's own marker; an sso-session of the same name neither prunes
/// its profiles nor takes their names.
#[test]
fn a_saml_sessions_roles_are_planned_like_an_sso_sessions() {
    let roles = role_assignments([
        "arn:aws:iam::222222222222:role/path/Admin",
        "arn:aws:iam::111111111111:role/Read",
        "arn:aws:iam::111111111111:role/Read",
    ]);
    assert_eq!(roles.len(), 2, "{roles:?}");
    assert_eq!(
        (roles[0].account_name.as_str(), roles[0].role_name.as_str()),
        ("111111111111", "Read")
    );
    let saml = SyncOptions {
        source: Source::SamlSession {
            name: "corp".into(),
            program: "portico".into(),
        },
        ..options(Style::Native)
    };
    let mut d = doc("");
    let out = sync(&mut d, &roles, &saml).unwrap();
    assert_eq!(out.added, vec!["111111111111-Read", "222222222222-Admin"]);
    let p = d
        .section(&SectionId::profile("222222222222-Admin"))
        .unwrap();
    assert_eq!(
        p.get("credential_process"),
        Some("portico credentials --saml-session corp --role-arn arn:aws:iam::222222222222:role/path/Admin")
    );
    assert!(p.has_marker("managed by portico profiles sync (saml-session corp)"));
    assert_eq!(sync(&mut d, &roles, &saml).unwrap().unchanged.len(), 2);
    // The sso-session `corp` owns none of them.
    let out = sync(
        &mut d,
        &[item("x", "111111111111", "Read")],
        &options(Style::Native),
    )
    .unwrap();
    assert!(out.removed.is_empty(), "{out:?}");
    assert_eq!(out.added, vec!["x-Read"]);
    assert_eq!(profile_names(&d).len(), 3);
}
