//! Two `kinema-server` processes that share nothing but one PostgreSQL database and one S3
//! bucket (s3s-fs, checking signatures), each with a data dir of its own, behind nginx running
//! the committed `deploy/nginx.conf`; one EvoLink simulator upstream. Plus what the test reads
//! straight from PostgreSQL.

use std::{collections::HashMap, time::Duration};

use evolink_sim::{RunningSimulator, SimulatorConfig};
use sqlx::PgPool;

use crate::helpers::{
    free_port,
    prometheus::{sample, scrape_metrics},
    proxy_browser, until_proxy_answers, Nginx, ProxyPorts, ServerProcess, TestBucket, TestDatabase,
};

/// The team's EvoLink key (the simulator's).
const KEY: &str = "failover-test-key";
/// Each instance serves `/metrics` to this token.
const METRICS_TOKEN: &str = "failover-metrics-token-0123";

/// The running deployment. Fields drop in order: the proxy and instances first, the database
/// last.
pub struct Cluster {
    _nginx: Nginx,
    pub a: ServerProcess,
    /// B is only ever reached through the proxy and its address; it must outlive A.
    _b: ServerProcess,
    /// Where A and B listen, `http://127.0.0.1:PORT` (each prints the public URL, not this).
    pub a_base: String,
    pub b_base: String,
    /// `https://127.0.0.1:PORT`, the proxy: everything a member does goes here.
    pub public: String,
    pub sim: RunningSimulator,
    pub bucket: TestBucket,
    /// The shared database, for the test's own reads.
    pub pool: PgPool,
    _data_dirs: Vec<tempfile::TempDir>,
    _database: TestDatabase,
}

impl Cluster {
    /// Starts the simulator (tasks take `task_duration`), the bucket, instance A, the
    /// finish-recording trigger, instance B and the proxy, and waits until the proxy answers.
    pub async fn start(task_duration: Duration) -> Cluster {
        let sim = RunningSimulator::start(
            SimulatorConfig::new(KEY, task_duration),
            ([127, 0, 0, 1], 0).into(),
        )
        .await
        .unwrap();
        let database = TestDatabase::create().await;
        let bucket = TestBucket::start().await;
        let ports = ProxyPorts::free();
        let public = ports.public_url();
        let env: Vec<(&str, String)> = [
            ("DATABASE_URL", database.url()),
            ("KINEMA_PUBLIC_URL", public.clone()),
            ("KINEMA_TRUSTED_PROXIES", "127.0.0.1".into()),
            ("KINEMA_LOG", "warn".into()),
            ("KINEMA_TASK_LEASE_SECONDS", "2".into()),
            ("KINEMA_POLL_MAX_SECONDS", "1".into()),
            ("KINEMA_METRICS_TOKEN", METRICS_TOKEN.into()),
            ("EVOLINK_API_KEY", KEY.into()),
            ("EVOLINK_BASE_URL", sim.base_url.clone()),
            ("EVOLINK_FILES_BASE_URL", sim.base_url.clone()),
        ]
        .into_iter()
        .chain(bucket.env())
        .collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let data_dirs = vec![tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let addrs = [free_port(), free_port()].map(|port| format!("127.0.0.1:{port}"));
        let start = |n: usize| {
            let mut env = env.clone();
            env.push(("KINEMA_LISTEN", addrs[n].as_str()));
            // Starting blocks until the process prints its address; the bucket is served by
            // this test's runtime meanwhile.
            tokio::task::block_in_place(|| ServerProcess::start(data_dirs[n].path(), &env))
        };
        let a = start(0);
        let pool = PgPool::connect(&database.url()).await.unwrap();
        record_finish_writes(&pool).await;
        let b = start(1);
        let nginx = Nginx::start(ports, &addrs);
        until_proxy_answers(&proxy_browser(), &public).await;
        Cluster {
            _nginx: nginx,
            a,
            _b: b,
            a_base: format!("http://{}", addrs[0]),
            b_base: format!("http://{}", addrs[1]),
            public,
            sim,
            bucket,
            pool,
            _data_dirs: data_dirs,
            _database: database,
        }
    }

    /// The sum of the samples of `name` with `labels` that the instance at `base` reports now.
    pub async fn metric(base: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
        sample(&scrape_metrics(base, METRICS_TOKEN).await, name, labels)
    }

    /// Every task: (id, state, upstream id, final cost), by creation.
    pub async fn tasks(&self) -> Vec<(String, String, Option<String>, Option<i64>)> {
        sqlx::query_as(
            "SELECT id, state, upstream_id, cost_final FROM tasks ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// When each task's row was written with a final state (unix ms, PostgreSQL's clock at the
    /// write, before its commit).
    pub async fn finish_writes(&self) -> HashMap<String, i64> {
        sqlx::query_as::<_, (String, i64)>("SELECT task_id, at_ms FROM test_task_finishes")
            .fetch_all(&self.pool)
            .await
            .unwrap()
            .into_iter()
            .collect()
    }

    /// The ledger: (task id, kind, amount) for every entry.
    pub async fn ledger(&self) -> Vec<(Option<String>, String, i64)> {
        sqlx::query_as("SELECT task_id, kind, amount FROM ledger_entries ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

/// `finished_at` holds whole seconds, too coarse to measure "within a second"; so the test adds
/// a trigger of its own to the shared database that notes the moment (`clock_timestamp()`, in
/// milliseconds) of the UPDATE that gives a task its final state. The moment is taken inside
/// the writer's transaction, before it commits, so the measured delays are if anything longer
/// than the real ones. Kinema never reads this table.
async fn record_finish_writes(pool: &PgPool) {
    for statement in [
        "CREATE TABLE test_task_finishes (task_id TEXT PRIMARY KEY, state TEXT NOT NULL, \
         at_ms BIGINT NOT NULL)",
        "CREATE FUNCTION test_note_finish() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         INSERT INTO test_task_finishes VALUES (NEW.id, NEW.state, \
         (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT) ON CONFLICT DO NOTHING; \
         RETURN NEW; END $$",
        "CREATE TRIGGER test_note_finish AFTER UPDATE OF state ON tasks FOR EACH ROW \
         WHEN (NEW.state IN ('completed', 'failed') AND OLD.state IS DISTINCT FROM NEW.state) \
         EXECUTE FUNCTION test_note_finish()",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
}
