//! A small seeded mutator for the stable-toolchain fuzz runs (`tests/tests/fuzz.rs`,
//! `bindings-c/tests/fuzz.rs`): from a corpus of valid inputs it makes inputs near them, by byte
//! flips, deletions, duplications, splices between seeds and insertions of tokens that matter to
//! the parsers (JSON punctuation, huge and negative numbers, money, weekdays, escapes, bytes
//! that are not UTF-8). Deterministic for a seed, so a failure is reproduced by its seed and
//! iteration. Depends on `std` only (the C tests include it with `#[path]`).

/// Tokens inserted by the mutator.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e400",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"0.0000000000000000000000000001",
    b"100001",
    b"\\u0000",
    b"\\ud800",
    b"\\\"",
    b"$",
    b"\xe2\x82\xac",
    b"\xc2\xa5",
    b"per",
    b"month",
    b"week",
    b"Sunday",
    b"weekday",
    b"first",
    b"then",
    b"after",
    b"up to",
    b"each",
    b"shipment",
    b"copy",
    b"returned",
    b"not billed",
    b"minimum",
    b"cap",
    b"free",
    b"%",
    b"half",
    b"twenty",
    b"0.5",
    b"99999999999999999999",
    b"2026-02-30",
    b"9999-12-31T23:59:59Z",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\t",
    b"\n",
    b"\0",
    b" ",
    b"'; DROP TABLE x; --",
];

/// A xorshift64* generator: fast, deterministic, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced by a constant).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A mutant of one of `corpus`'s inputs: one to four mutations.
pub fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut data = corpus[rng.below(corpus.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                data.drain(i..i + n);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let piece = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, piece);
            }
            3 => {
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let to = from + rng.below(other.len() - from + 1);
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[from..to].iter().copied());
                }
            }
            4 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next_u64() as u8;
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
        }
    }
    data
}

/// The number of inputs each target runs: `AI_BILLING_FUZZ_ITERATIONS`, or `default`.
pub fn iterations(default: u64) -> u64 {
    std::env::var("AI_BILLING_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `target` on `iterations` mutants of `corpus` (seeded by `seed`), each inside
/// `catch_unwind`. Returns the number run; panics naming every input that panicked, each written
/// to a file under the temp directory so it can be added to the regression corpus.
pub fn run(
    name: &str,
    seed: u64,
    iterations: u64,
    corpus: &[Vec<u8>],
    target: impl Fn(&[u8]),
) -> u64 {
    let mut rng = Rng::new(seed);
    let mut crashes = Vec::new();
    // The corpus itself first: every seed and regression input must pass too.
    let inputs = corpus
        .iter()
        .cloned()
        .chain((0..iterations).map(|_| mutate(&mut rng, corpus)));
    let mut count = 0;
    let hook = std::panic::take_hook();
    // Keep the first panic's message (and where it happened) for the report.
    let first = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let seen = first.clone();
    std::panic::set_hook(Box::new(move |info| {
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.is_none() {
            *seen = Some(info.to_string());
        }
    }));
    for (i, input) in inputs.enumerate() {
        count += 1;
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(&input))).is_err() {
            let path = std::env::temp_dir().join(format!("ai-billing-fuzz-{name}-{seed}-{i}"));
            let _ = std::fs::write(&path, &input);
            crashes.push(path.display().to_string());
        }
    }
    std::panic::set_hook(hook);
    let first = first.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(
        crashes.is_empty(),
        "{name}: {} crashes, the first {:?}: {first:?}",
        crashes.len(),
        crashes.first()
    );
    count
}
