//! Share links over HTTP, on both databases (SQLite apps keep media on local disk, PostgreSQL
//! apps in an S3 bucket, so both storage backends serve the shared video): an anonymous client
//! opens the page and plays the result with Range; the page names neither the member nor the
//! task; only the owner (or an admin) shares and revokes; revoking, deleting the task, disabling
//! the owner and the link's expiry (driven by the app's fixed clock) stop the page and the video
//! at once; only the hash of the 256-bit token is stored.

use std::time::Duration;

use sha2::{Digest, Sha256};

use app::backend::{billing::Clock, store::Store};

use crate::audit::{entries, row, summary};
use crate::helpers::{
    accept, inputs, invite, ok_json, setup_admin, stepped_engine, submit, until_final, Db, TestApp,
};

/// A long username, so that finding it in a page is never a coincidence of random characters.
const MEMBER: &str = "marguerite";
const OTHER: &str = "bartholomew";
const STOPPED: &str = "This link has expired or was revoked.";

/// Admin `ada`, members [`MEMBER`] and [`OTHER`]; [`MEMBER`] has one completed task.
struct Team {
    admin: reqwest::Client,
    member: reqwest::Client,
    other: reqwest::Client,
    task: String,
}

async fn team_with_a_finished_task(app: &TestApp) -> Team {
    let admin = app.client();
    assert_eq!(setup_admin(app, &admin, "ada").await.status(), 200);
    let member = app.client();
    let other = app.client();
    for (client, name) in [(&member, MEMBER), (&other, OTHER)] {
        let token = invite(app, &admin, "member").await;
        assert_eq!(accept(app, client, &token, name).await.status(), 200);
    }
    let uploaded = inputs(app, &member, "valid-index-at-end.mp4").await;
    let submitted = ok_json(submit(app, &member, &uploaded, "720p", "image", "shared").await).await;
    let task = submitted["id"].as_str().unwrap().to_string();
    let done = until_final(app, &member, &task).await;
    assert_eq!(done["state"], "completed", "{done}");
    Team {
        admin,
        member,
        other,
        task,
    }
}

/// [`MEMBER`]'s user id, as the admin's member list gives it.
async fn member_id(app: &TestApp, admin: &reqwest::Client) -> String {
    let members = ok_json(app.call(admin, "list_members", &[]).await).await;
    members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == MEMBER)
        .unwrap()["id"]
        .to_string()
}

/// Makes a link as `client`: (path, link id).
async fn share(app: &TestApp, client: &reqwest::Client, task: &str, expiry: &str) -> (String, i64) {
    let created = ok_json(
        app.call(
            client,
            "create_share_link",
            &[("task_id", task), ("expiry", expiry)],
        )
        .await,
    )
    .await;
    (
        created["path"].as_str().unwrap().to_string(),
        created["view"]["id"].as_i64().unwrap(),
    )
}

/// The archived result as its owner downloads it.
async fn archived(app: &TestApp, owner: &reqwest::Client, task: &str) -> Vec<u8> {
    let response = owner
        .get(app.url(&format!("/api/tasks/{task}/result")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

/// A client with no cookies: nobody signed in.
fn anonymous() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The page's status and text for anyone holding `path`.
async fn open(app: &TestApp, path: &str) -> (u16, String) {
    let response = anonymous().get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The status of the first 100 bytes of the shared video.
async fn play_status(app: &TestApp, path: &str) -> u16 {
    anonymous()
        .get(app.url(&format!("{path}/video.mp4")))
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Asserts the link at `path` has stopped: a plain 404 page and a 404 video.
async fn assert_stopped(app: &TestApp, path: &str, why: &str) {
    let (status, page) = open(app, path).await;
    assert_eq!(status, 404, "{why}: the page");
    assert!(page.contains(STOPPED), "{why}: {page}");
    assert!(!page.contains("<video"), "{why}: no player");
    assert_eq!(play_status(app, path).await, 404, "{why}: the video");
}

/// Every text value of the share links table and the audit log, for looking for a token.
async fn stored_text(app: &TestApp) -> String {
    let sql = "SELECT token_hash || ' ' || task_id FROM share_links \
               UNION ALL SELECT target || ' ' || detail FROM audit_log";
    let rows: Vec<String> = match app.state().store() {
        Store::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    };
    rows.join("\n")
}

async fn anyone_with_the_link_plays_the_result_and_learns_no_names(db: Db) {
    let app = TestApp::spawn_stepped(db).await;
    let team = team_with_a_finished_task(&app).await;
    let (path, _) = share(&app, &team.member, &team.task, "1d").await;

    // The link: `/s/` and 32 random bytes, naming nobody and no task.
    let token = path.strip_prefix("/s/").expect("a /s/ link").to_string();
    // 43 characters of URL-safe base64 carry 32 bytes: 256 bits of randomness.
    assert_eq!(token.len(), 43, "{token}");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(
        !path.contains(MEMBER) && !path.contains(&team.task),
        "{path}"
    );
    let (second, _) = share(&app, &team.member, &team.task, "1d").await;
    assert_ne!(second, path, "every link is new");

    // The page, for someone who never signed in.
    let (status, page) = open(&app, &path).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<title>Shared video · Kinema</title>"),
        "{page}"
    );
    assert!(
        page.contains(&format!("src=\"{path}/video.mp4\"")),
        "{page}"
    );
    assert!(page.contains("download="), "a download link: {page}");
    assert!(!page.contains(MEMBER), "the member is not named: {page}");
    assert!(
        !page.contains(&team.task),
        "the task id is not in the page: {page}"
    );

    // The player seeks with Range; the bytes are the archived result's.
    let result = archived(&app, &team.member, &team.task).await;
    let part = anonymous()
        .get(app.url(&format!("{path}/video.mp4")))
        .header("Range", "bytes=100-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["cache-control"], "no-store");
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-1099/{}", result.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &result[100..1100]);
    let whole = anonymous()
        .get(app.url(&format!("{path}/video.mp4")))
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap().as_ref(), result.as_slice());

    // A guessed token opens nothing.
    let guessed = format!("/s/{}", "A".repeat(43));
    assert_stopped(&app, &guessed, "a guessed token").await;
    assert_stopped(&app, "/s/short", "a malformed token").await;

    // Only the token's SHA-256 is stored; neither table holds the token.
    let stored = stored_text(&app).await;
    assert!(!stored.contains(&token), "the token is not stored");
    assert!(
        stored.contains(&hex::encode(Sha256::digest(token.as_bytes()))),
        "its hash is"
    );

    // Making the link is in the audit log, under the member and the task.
    let log = summary(&entries(&app, &team.admin, &[("action", "share_created")]).await);
    assert_eq!(log, vec![row(MEMBER, "share_created", &team.task); 2]);
    app.stop().await;
}

#[tokio::test]
async fn anyone_with_the_link_plays_the_result_and_learns_no_names_on_sqlite() {
    anyone_with_the_link_plays_the_result_and_learns_no_names(Db::Sqlite).await;
}

#[tokio::test]
async fn anyone_with_the_link_plays_the_result_and_learns_no_names_on_postgres() {
    anyone_with_the_link_plays_the_result_and_learns_no_names(Db::Postgres).await;
}

async fn only_the_owner_or_an_admin_manages_links(db: Db) {
    let app = TestApp::spawn_stepped(db).await;
    let team = team_with_a_finished_task(&app).await;
    // Another member cannot share the task, nor see or revoke its links.
    let refused = app
        .call(
            &team.other,
            "create_share_link",
            &[("task_id", &team.task), ("expiry", "1h")],
        )
        .await;
    assert_eq!(refused.status(), 404);
    assert_eq!(
        app.count_rows("share_links").await,
        0,
        "nothing made for the other member"
    );
    let (path, id) = share(&app, &team.member, &team.task, "7d").await;
    let theirs = ok_json(app.call(&team.other, "list_share_links", &[]).await).await;
    assert_eq!(theirs, serde_json::json!([]), "another member sees none");
    let refused = app
        .call(&team.other, "revoke_share_link", &[("id", &id.to_string())])
        .await;
    assert_eq!(refused.status(), 404);
    assert_eq!(open(&app, &path).await.0, 200, "still open");

    // Nobody signed in manages links at all.
    let anonymous_call = app
        .call(
            &app.client(),
            "create_share_link",
            &[("task_id", &team.task), ("expiry", "1h")],
        )
        .await;
    assert_eq!(anonymous_call.status(), 401);

    // Only the listed spans; only completed tasks.
    let bad = app
        .call(
            &team.member,
            "create_share_link",
            &[("task_id", &team.task), ("expiry", "90d")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let uploaded = inputs(&app, &team.member, "valid-index-at-end.mp4").await;
    let queued =
        ok_json(submit(&app, &team.member, &uploaded, "720p", "image", "queued").await).await;
    let running = app
        .call(
            &team.member,
            "create_share_link",
            &[
                ("task_id", queued["id"].as_str().unwrap()),
                ("expiry", "1h"),
            ],
        )
        .await;
    assert_eq!(
        running.status(),
        422,
        "an unfinished task has nothing to share"
    );

    // The owner lists the task's links; the admin sees everyone's, with the owner's name.
    let mine = ok_json(
        app.call(&team.member, "list_share_links", &[("task_id", &team.task)])
            .await,
    )
    .await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["status"], "Active");
    let all = ok_json(app.call(&team.admin, "list_share_links", &[]).await).await;
    assert_eq!(all[0]["owner"], MEMBER);
    assert_eq!(all[0]["id"], id);

    // A disabled owner's links stop while the account is disabled.
    let member_id = member_id(&app, &team.admin).await;
    for (disabled, status) in [("true", 404), ("false", 200)] {
        ok_json(
            app.call(
                &team.admin,
                "set_member_disabled",
                &[("user_id", &member_id), ("disabled", disabled)],
            )
            .await,
        )
        .await;
        assert_eq!(open(&app, &path).await.0, status, "disabled: {disabled}");
    }

    // The admin revokes it: it stops at once, and the log says who did.
    ok_json(
        app.call(&team.admin, "revoke_share_link", &[("id", &id.to_string())])
            .await,
    )
    .await;
    assert_stopped(&app, &path, "revoked by the admin").await;
    let mine = ok_json(app.call(&team.member, "list_share_links", &[]).await).await;
    assert_eq!(mine[0]["status"], "Revoked");
    let log = summary(&entries(&app, &team.admin, &[("action", "share_revoked")]).await);
    assert_eq!(log, vec![row("ada", "share_revoked", &team.task)]);
    app.stop().await;
}

#[tokio::test]
async fn only_the_owner_or_an_admin_manages_links_on_sqlite() {
    only_the_owner_or_an_admin_manages_links(Db::Sqlite).await;
}

#[tokio::test]
async fn only_the_owner_or_an_admin_manages_links_on_postgres() {
    only_the_owner_or_an_admin_manages_links(Db::Postgres).await;
}

/// Expiry is driven by the app's own clock (fixed in this test), not by editing the database.
async fn revoking_expiry_and_deleting_the_task_stop_links_at_once(db: Db) {
    let clock = Clock::fixed(1_900_000_000);
    let app = TestApp::spawn_with_clock(db, |_| {}, stepped_engine(), clock.clone()).await;
    let team = team_with_a_finished_task(&app).await;
    let (hour, _) = share(&app, &team.member, &team.task, "1h").await;
    let (revoked, revoked_id) = share(&app, &team.member, &team.task, "revoked").await;
    let (month, _) = share(&app, &team.member, &team.task, "30d").await;
    for path in [&hour, &revoked, &month] {
        assert_eq!(open(&app, path).await.0, 200);
        assert_eq!(play_status(&app, path).await, 206);
    }

    // Revoked by its owner: that link stops, the others go on.
    ok_json(
        app.call(
            &team.member,
            "revoke_share_link",
            &[("id", &revoked_id.to_string())],
        )
        .await,
    )
    .await;
    assert_stopped(&app, &revoked, "revoked by the owner").await;
    assert_eq!(open(&app, &hour).await.0, 200);

    // One second before the hour is up it plays; at the hour it stops.
    clock.advance(Duration::from_secs(3599));
    assert_eq!(play_status(&app, &hour).await, 206);
    clock.advance(Duration::from_secs(1));
    assert_stopped(&app, &hour, "an hour later").await;
    assert_eq!(open(&app, &month).await.0, 200, "30 days still run");

    // Deleting the task stops every link to it, and its links leave the lists.
    ok_json(
        app.call(&team.member, "delete_task", &[("id", &team.task)])
            .await,
    )
    .await;
    assert_stopped(&app, &month, "the task deleted").await;
    let listed = ok_json(app.call(&team.admin, "list_share_links", &[]).await).await;
    assert_eq!(listed, serde_json::json!([]));
    app.stop().await;
}

#[tokio::test]
async fn revoking_expiry_and_deleting_the_task_stop_links_at_once_on_sqlite() {
    revoking_expiry_and_deleting_the_task_stop_links_at_once(Db::Sqlite).await;
}

#[tokio::test]
async fn revoking_expiry_and_deleting_the_task_stop_links_at_once_on_postgres() {
    revoking_expiry_and_deleting_the_task_stop_links_at_once(Db::Postgres).await;
}

#[tokio::test]
async fn with_s3_redirects_the_shared_video_goes_to_a_presigned_url() {
    let app = TestApp::spawn_with_engine(
        Db::Postgres,
        |settings| settings.result_redirect = true,
        stepped_engine(),
    )
    .await;
    let team = team_with_a_finished_task(&app).await;
    let (path, _) = share(&app, &team.member, &team.task, "1h").await;
    let bucket = app.bucket.as_ref().unwrap();
    let page = anonymous().get(app.url(&path)).send().await.unwrap();
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        policy.contains(&format!("media-src 'self' {};", bucket.endpoint)),
        "the page may play from the bucket: {policy}"
    );
    let video = anonymous()
        .get(app.url(&format!("{path}/video.mp4")))
        .send()
        .await
        .unwrap();
    assert_eq!(video.status(), 307);
    assert_eq!(video.headers()["cache-control"], "no-store");
    let location = video.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&bucket.endpoint), "{location}");
    let played = anonymous()
        .get(&location)
        .header("Range", "bytes=0-11")
        .send()
        .await
        .unwrap();
    assert_eq!(played.status(), 206);
    assert_eq!(&played.bytes().await.unwrap()[4..8], b"ftyp");
    app.stop().await;
}
