//! How many Argon2id hashes this machine computes per second at the parameters the server
//! uses (OWASP: m = 19 MiB, t = 2, p = 1): the ceiling for password logins.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use argon2::{Algorithm, Argon2, Params, Version};

/// Same as `dialtone_service::passwords`: 19 MiB, 2 passes, 1 lane, 32-byte output.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;
const OUTPUT_LEN: usize = 32;

/// Hashes per second on one thread and on `threads` threads at once.
#[derive(Debug, Clone, Copy)]
pub struct Baseline {
    pub single: f64,
    pub threads: usize,
    pub parallel: f64,
}

/// Measures for about `seconds` each, single then parallel. Blocking: call off the runtime.
pub fn measure(seconds: f64, threads: usize) -> anyhow::Result<Baseline> {
    let single = hashes_per_second(1, seconds)?;
    let parallel = hashes_per_second(threads, seconds)?;
    Ok(Baseline {
        single,
        threads,
        parallel,
    })
}

fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, Some(OUTPUT_LEN))
        .map_err(|e| anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Each of `threads` threads hashes for `seconds`; total hashes over the time the slowest
/// thread took. Blocking.
pub fn hashes_per_second(threads: usize, seconds: f64) -> anyhow::Result<f64> {
    let length = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || -> anyhow::Result<u64> {
                let argon = argon2()?;
                let mut salt = [0u8; 16];
                salt[..8].copy_from_slice(&(t as u64).to_le_bytes());
                let mut out = [0u8; OUTPUT_LEN];
                let deadline = Instant::now() + length;
                let mut count = 0u64;
                while Instant::now() < deadline {
                    argon
                        .hash_password_into(b"correct horse battery staple", &salt, &mut out)
                        .map_err(|e| anyhow!("argon2: {e}"))?;
                    count += 1;
                }
                Ok(count)
            })
        })
        .collect();
    let mut total = 0u64;
    for handle in handles {
        total += handle
            .join()
            .map_err(|_| anyhow!("an argon2 thread panicked"))?
            .context("argon2 thread")?;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}
