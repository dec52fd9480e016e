//! Password hashing (argon2id) on blocking threads, a few at a time: each hash takes about
//! 19 MiB and a core, so at most one per core runs and the rest wait briefly in a queue. The
//! hashes' working memory is allocated once per slot and reused, so the process's memory stays
//! flat however many sign-ins arrive.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use argon2::{
    password_hash::{self, rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use tokio::sync::{OnceCell, Semaphore};

use super::BackendError;

/// What a request hears when every hashing slot stayed busy for the whole queue wait.
pub const BUSY: &str = "Too many sign-in attempts right now; try again shortly.";

/// How long a request waits for a hashing slot before giving up.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// The bounded hashing pool, with a count of the hashes it ran.
pub struct Passwords {
    permits: Arc<Semaphore>,
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
    queue_wait: Duration,
    performed: AtomicU64,
    dummy: OnceCell<String>,
}

impl Default for Passwords {
    /// One slot per available core, and [`QUEUE_WAIT`].
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Passwords::new(cores, QUEUE_WAIT)
    }
}

impl Passwords {
    /// A pool running at most `parallel` hashes at once; a request waits at most `queue_wait`.
    pub fn new(parallel: usize, queue_wait: Duration) -> Self {
        Passwords {
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            memory: Arc::default(),
            queue_wait,
            performed: AtomicU64::new(0),
            dummy: OnceCell::new(),
        }
    }

    /// How many Argon2 computations (hashes and checks) this pool ran.
    pub fn hashes_performed(&self) -> u64 {
        self.performed.load(Ordering::Relaxed)
    }

    /// Hashes a new password (argon2id, default parameters, a random salt) into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, BackendError> {
        self.run(move |memory| hash_with(password.as_bytes(), memory))
            .await?
            .map_err(|err| BackendError::Internal(format!("hashing failed: {err}")))
    }

    /// Checks a password against a stored PHC hash.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, BackendError> {
        self.run(move |memory| verify_with(password.as_bytes(), &hash, memory))
            .await?
            .map_err(|err| BackendError::Internal(format!("stored hash unreadable: {err}")))
    }

    /// Checks a password for an account that does not exist: the same work as for a real one
    /// (against a hash of a random secret), so the answer's timing does not tell them apart.
    /// Always false.
    pub async fn verify_unknown(&self, password: String) -> Result<bool, BackendError> {
        let dummy = self
            .dummy
            .get_or_try_init(|| self.hash(super::accounts::random_token()))
            .await?
            .clone();
        self.verify(password, dummy).await.map(|_| false)
    }

    /// Runs `work` on a blocking thread with a slot's working memory once a slot is free; the
    /// slot stays taken until the work ends, even when the request waiting for it went away.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, BackendError> {
        let permit = tokio::time::timeout(self.queue_wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| BackendError::Throttled(BUSY.into()))?
            .map_err(|_| BackendError::Internal("the hashing pool is closed".into()))?;
        self.performed.fetch_add(1, Ordering::Relaxed);
        let pool = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let mut memory = take(&pool).pop().unwrap_or_default();
            let result = work(&mut memory);
            take(&pool).push(memory);
            drop(permit);
            result
        })
        .await
        .map_err(|err| BackendError::Internal(format!("hashing task failed: {err}")))
    }
}

fn take(pool: &Mutex<Vec<Vec<Block>>>) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
    pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `memory` grown to the blocks `params` need (it only grows, so a slot allocates once).
fn blocks_for<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    &mut memory[..needed]
}

fn hash_with(password: &[u8], memory: &mut Vec<Block>) -> password_hash::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buffer)?;
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(output_len, |out| {
        Ok(argon2.hash_password_into_with_memory(
            password,
            salt_bytes,
            out,
            blocks_for(memory, &params),
        )?)
    })?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

fn verify_with(
    password: &[u8],
    stored: &str,
    memory: &mut Vec<Block>,
) -> password_hash::Result<bool> {
    let parsed = PasswordHash::new(stored)?;
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(password_hash::Error::PhcStringField);
    };
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buffer)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = Output::init_with(expected.len(), |out| {
        Ok(argon2.hash_password_into_with_memory(
            password,
            salt_bytes,
            out,
            blocks_for(memory, &params),
        )?)
    })?;
    // `Output`'s comparison takes the same time wherever the bytes differ.
    Ok(computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_and_a_wrong_password_does_not() {
        let passwords = Passwords::new(1, QUEUE_WAIT);
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(passwords
            .verify("correct horse".into(), hash.clone())
            .await
            .unwrap());
        assert!(!passwords.verify("wrong".into(), hash).await.unwrap());
        assert!(!passwords.verify_unknown("anything".into()).await.unwrap());
        // hash, two checks, the dummy's hash and its check.
        assert_eq!(passwords.hashes_performed(), 5);
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let mut memory = Vec::new();
        let ours = hash_with(b"correct horse", &mut memory).unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_with(b"battery staple", &theirs, &mut memory).unwrap());
        assert!(!verify_with(b"battery stapler", &theirs, &mut memory).unwrap());
        assert_eq!(memory.len(), Params::default().block_count());
        assert!(verify_with(b"x", "not a hash", &mut memory).is_err());
    }

    #[tokio::test]
    async fn a_request_that_waits_too_long_for_a_slot_is_told_to_try_again() {
        let passwords = Arc::new(Passwords::new(1, Duration::from_millis(1)));
        let slot = passwords.permits.clone().acquire_owned().await.unwrap();
        let err = passwords.hash("whatever".into()).await.unwrap_err();
        assert!(matches!(err, BackendError::Throttled(ref text) if text == BUSY));
        assert_eq!(passwords.hashes_performed(), 0);
        drop(slot);
        assert!(passwords.hash("whatever".into()).await.is_ok());
    }
}
