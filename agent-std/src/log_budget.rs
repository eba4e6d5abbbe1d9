//! A log that input can flood, held to a few lines a minute: the sFlow collector's
//! rejected datagrams and the gateway listener's refused connections come from the
//! network, and a spoofed or scripted flood must not become a line per packet.

use std::time::{Duration, Instant};

/// How long one budget lasts.
pub const LOG_EVERY: Duration = Duration::from_secs(60);
/// Lines per [`LOG_EVERY`], all sources together.
pub const LOG_LINES: u32 = 10;

/// The log's room for one kind of line in the current minute.
pub struct LogBudget {
    /// What the lines are about (`sflow`, `gateway`), their prefix.
    topic: &'static str,
    /// The events, plural (`rejected datagrams`).
    events: &'static str,
    /// Where their full count is.
    counted_in: &'static str,
    since: Instant,
    lines: u32,
    /// Events this minute that were due a line and did not get one.
    held: u64,
}

impl LogBudget {
    /// A budget for `events` under `topic`, whose full count is `counted_in`.
    pub fn new(topic: &'static str, events: &'static str, counted_in: &'static str) -> Self {
        LogBudget {
            topic,
            events,
            counted_in,
            since: Instant::now(),
            lines: 0,
            held: 0,
        }
    }

    /// Whether a line may be written now; a new minute starts with a word on the last.
    pub fn open(&mut self) -> bool {
        if self.since.elapsed() >= LOG_EVERY {
            if self.held > 0 {
                eprintln!(
                    "ferrostat-agent: {}: {} more {} went unlogged in the last minute (at most {LOG_LINES} lines a minute; {})",
                    self.topic, self.held, self.events, self.counted_in
                );
            }
            self.since = Instant::now();
            self.lines = 0;
            self.held = 0;
        }
        self.lines < LOG_LINES
    }

    /// Notes a line written (`logged`) or one due that was not (`held`).
    pub fn spent(&mut self, logged: bool, held: bool) {
        self.lines += u32::from(logged);
        self.held += u64::from(held);
    }

    /// Writes `line` (under the topic) if the budget allows, else counts it as held.
    pub fn log(&mut self, line: impl FnOnce() -> String) {
        let open = self.open();
        if open {
            eprintln!("ferrostat-agent: {}: {}", self.topic, line());
        }
        self.spent(open, !open);
    }
}
