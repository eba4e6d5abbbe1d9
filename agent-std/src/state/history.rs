//! The sFlow history: SQLite (WAL) in the data directory, written by one thread that
//! takes samples off a bounded queue and commits them in batches, and read by the
//! JSON-RPC API.
//!
//! Tables (open the file with `sqlite3` to look): `hosts` and `vms` (one row per
//! entity, with its host_descr), `host_samples` and `vm_samples` (one row per counters
//! sample; column names are the API's, `record_mask` says which records it carried).
//!
//! Retention: full resolution for `raw`, then one sample per entity per minute until
//! `minute`, then one per hour until `keep`, then deleted. Thinning keeps the last
//! sample of each bucket, so counters stay exact and rates over a bucket stay right.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};

use crate::sflow::columns::{Column, Kind, Method, Values, HOST, VM};
use crate::sflow::sample::{Description, Entity, HostKey, Ingest};

/// The file name in the data directory.
pub const FILE: &str = "sflow-history.sqlite3";
const SCHEMA_VERSION: i64 = 1;
/// Most samples per transaction: bounds a commit's latency, not its throughput.
const BATCH: usize = 8192;
const MINUTE_MS: i64 = 60_000;
/// Hosts, and apart VMs, whose row ids the writer keeps at hand; past it the map starts
/// over, so a flood of new agent addresses costs lookups, not memory.
const MAX_CACHED: usize = 65_536;
const HOUR_MS: i64 = 3_600_000;

/// How long samples are kept, at which resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Every sample is kept this long.
    pub raw: Duration,
    /// Then one per minute until this age.
    pub minute: Duration,
    /// Then one per hour until this age, when samples are deleted.
    pub keep: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw: Duration::from_secs(6 * 3600),
            minute: Duration::from_secs(48 * 3600),
            keep: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What the writer did, for `/metrics`.
#[derive(Debug, Default)]
pub struct HistoryStats {
    /// Samples committed.
    pub committed: AtomicU64,
    /// Samples refused because the queue was full.
    pub queue_drops: AtomicU64,
    /// Samples lost to a failed write or commit.
    pub write_errors: AtomicU64,
    /// Samples removed by retention and thinning.
    pub deleted: AtomicU64,
    /// Samples queued.
    pub queued: AtomicU64,
}

/// The store's read side and counters.
pub struct History {
    path: PathBuf,
    reader: Mutex<Connection>,
    /// What the writer did.
    pub stats: Arc<HistoryStats>,
}

/// The writer's end of the queue: `offer` never blocks.
#[derive(Clone)]
pub struct Queue {
    tx: SyncSender<Ingest>,
    stats: Arc<HistoryStats>,
}

impl Queue {
    /// Queues a sample, or counts it dropped when the writer is behind.
    pub fn offer(&self, sample: Ingest) {
        match self.tx.try_send(sample) {
            Ok(()) => {
                self.stats.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.stats.queue_drops.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn sql_type(c: &Column) -> &'static str {
    if c.kind == Kind::Float {
        "REAL"
    } else {
        "INTEGER"
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // WAL: readers never block the writer. synchronous=NORMAL: a commit survives the
    // agent being killed (it is in the WAL file); only a power cut can lose the last
    // commits, never corrupt the file.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

fn create_schema(conn: &Connection) -> Result<(), String> {
    let cols = |list: &[Column]| {
        list.iter()
            .map(|c| format!(", {} {}", c.name, sql_type(c)))
            .collect::<String>()
    };
    let description = "hostname TEXT, uuid TEXT, machine_type TEXT, os_name TEXT, os_release TEXT, first_seen INTEGER NOT NULL";
    conn.execute_batch(&format!(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
         CREATE TABLE IF NOT EXISTS hosts (id INTEGER PRIMARY KEY, agent TEXT NOT NULL,
             sub_agent INTEGER NOT NULL, source_ip TEXT NOT NULL, {description},
             UNIQUE (agent, sub_agent));
         CREATE TABLE IF NOT EXISTS vms (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
             host_id INTEGER NOT NULL REFERENCES hosts(id), {description});
         CREATE TABLE IF NOT EXISTS host_samples (host_id INTEGER NOT NULL REFERENCES hosts(id),
             timestamp INTEGER NOT NULL, record_mask INTEGER NOT NULL{host_cols});
         CREATE INDEX IF NOT EXISTS host_samples_by_host ON host_samples (host_id, timestamp);
         CREATE INDEX IF NOT EXISTS host_samples_by_time ON host_samples (timestamp);
         CREATE TABLE IF NOT EXISTS vm_samples (vm_id INTEGER NOT NULL REFERENCES vms(id),
             host_id INTEGER NOT NULL REFERENCES hosts(id), timestamp INTEGER NOT NULL,
             record_mask INTEGER NOT NULL{vm_cols});
         CREATE INDEX IF NOT EXISTS vm_samples_by_vm ON vm_samples (vm_id, timestamp);
         CREATE INDEX IF NOT EXISTS vm_samples_by_time ON vm_samples (timestamp);
         CREATE INDEX IF NOT EXISTS vm_samples_by_host ON vm_samples (host_id);
         CREATE INDEX IF NOT EXISTS vms_by_host ON vms (host_id);
         INSERT OR IGNORE INTO meta VALUES ('schema_version', {SCHEMA_VERSION});
         COMMIT;",
        host_cols = cols(HOST),
        vm_cols = cols(VM),
    ))
    .map_err(|e| e.to_string())?;
    let version: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    if version != SCHEMA_VERSION {
        return Err(format!(
            "history schema version {version}, this agent writes {SCHEMA_VERSION}"
        ));
    }
    Ok(())
}

/// Opens (creating) the store in `dir` and starts its writer thread. Returns the read
/// side, the queue the collector offers samples to (bounded at `queue` samples), and
/// the writer, which ends once every queue handle is dropped and what it held is
/// committed.
///
/// # Errors
/// The database cannot be opened or holds another schema version.
pub fn open(
    dir: &Path,
    retention: Retention,
    queue: usize,
) -> Result<(History, Queue, std::thread::JoinHandle<()>), String> {
    let path = dir.join(FILE);
    let fail = |e: rusqlite::Error| format!("{}: {e}", path.display());
    let writer_conn = open_connection(&path).map_err(fail)?;
    create_schema(&writer_conn).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = open_connection(&path).map_err(fail)?;
    let stats = Arc::new(HistoryStats::default());
    let (tx, rx) = std::sync::mpsc::sync_channel(queue.max(1));
    let mut writer = Writer::new(writer_conn, retention, stats.clone()).map_err(fail)?;
    let handle = std::thread::Builder::new()
        .name("sflow-history".into())
        .spawn(move || writer.run(rx))
        .map_err(|e| format!("history writer thread: {e}"))?;
    Ok((
        History {
            path,
            reader: Mutex::new(reader),
            stats: stats.clone(),
        },
        Queue { tx, stats },
        handle,
    ))
}

/// The writer's view of an entity: its row id and what the row says now.
struct Known {
    id: i64,
    host_id: i64,
    descr: Option<Description>,
}

struct Writer {
    conn: Connection,
    retention: Retention,
    stats: Arc<HistoryStats>,
    hosts: HashMap<HostKey, Known>,
    vms: HashMap<String, Known>,
    /// Up to where each tier has been thinned (epoch ms, bucket-aligned).
    thinned_to_minute: i64,
    thinned_to_hour: i64,
    last_maintenance: Option<Instant>,
    last_error_log: Option<Instant>,
    /// The two inserts, built once: the statement cache is keyed by their text.
    insert_host: String,
    insert_vm: String,
}

fn insert_sql(table: &str, keys: &str, columns: &[Column]) -> String {
    let names: String = columns.iter().map(|c| format!(", {}", c.name)).collect();
    let n = keys.split(',').count() + 1 + columns.len();
    let marks = vec!["?"; n].join(", ");
    format!("INSERT INTO {table} ({keys}, record_mask{names}) VALUES ({marks})")
}

impl Writer {
    fn new(
        conn: Connection,
        retention: Retention,
        stats: Arc<HistoryStats>,
    ) -> rusqlite::Result<Self> {
        let mut hosts = HashMap::new();
        {
            let mut q = conn.prepare(
                "SELECT id, agent, sub_agent, hostname, uuid, machine_type, os_name, os_release FROM hosts",
            )?;
            let mut rows = q.query([])?;
            while let Some(r) = rows.next()? {
                let agent: String = r.get(1)?;
                let Ok(agent) = agent.parse() else { continue };
                let key = HostKey {
                    agent,
                    sub_agent: r.get(2)?,
                };
                let id = r.get(0)?;
                hosts.insert(
                    key,
                    Known {
                        id,
                        host_id: id,
                        descr: None,
                    },
                );
            }
        }
        let mut vms = HashMap::new();
        {
            let mut q = conn.prepare("SELECT id, name, host_id FROM vms")?;
            let mut rows = q.query([])?;
            while let Some(r) = rows.next()? {
                vms.insert(
                    r.get(1)?,
                    Known {
                        id: r.get(0)?,
                        host_id: r.get(2)?,
                        descr: None,
                    },
                );
            }
        }
        Ok(Writer {
            conn,
            retention,
            stats,
            hosts,
            vms,
            thinned_to_minute: 0,
            thinned_to_hour: 0,
            last_maintenance: None,
            last_error_log: None,
            insert_host: insert_sql("host_samples", "host_id, timestamp", HOST),
            insert_vm: insert_sql("vm_samples", "vm_id, host_id, timestamp", VM),
        })
    }

    fn run(&mut self, rx: Receiver<Ingest>) {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let closed = match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(first) => {
                    batch.push(first);
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(s) => batch.push(s),
                            Err(_) => break,
                        }
                    }
                    false
                }
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => true,
            };
            if !batch.is_empty() {
                let n = batch.len() as u64;
                match self.commit(&batch) {
                    Ok(()) => self.stats.committed.fetch_add(n, Ordering::Relaxed),
                    Err(e) => {
                        self.log_error(&format!("{n} samples not stored: {e}"));
                        self.stats.write_errors.fetch_add(n, Ordering::Relaxed)
                    }
                };
                batch.clear();
            }
            if closed {
                return;
            }
            if self
                .last_maintenance
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(60))
            {
                self.last_maintenance = Some(Instant::now());
                if let Err(e) = self.maintain(crate::clock::now_ms()) {
                    self.log_error(&format!("retention: {e}"));
                }
            }
        }
    }

    /// Errors are logged at most once a minute: a full disk must not flood the log.
    fn log_error(&mut self, what: &str) {
        if self
            .last_error_log
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(60))
        {
            self.last_error_log = Some(Instant::now());
            eprintln!("ferrostat-agent: sflow history: {what}");
        }
    }

    fn commit(&mut self, batch: &[Ingest]) -> rusqlite::Result<()> {
        self.conn.execute_batch("BEGIN")?;
        match self.insert(batch) {
            Ok(()) => self.conn.execute_batch("COMMIT"),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                // Entities made in the rolled-back transaction are gone: look them up again.
                self.hosts.clear();
                self.vms.clear();
                Err(e)
            }
        }
    }

    fn insert(&mut self, batch: &[Ingest]) -> rusqlite::Result<()> {
        for sample in batch {
            let host_id = self.host_id(sample)?;
            match &sample.entity {
                Entity::Host(values) => {
                    let mut stmt = self.conn.prepare_cached(&self.insert_host)?;
                    bind_values(&mut stmt, &[host_id, sample.at_ms], HOST, values)?;
                    stmt.raw_execute()?;
                }
                Entity::Vm { name, values } => {
                    let vm_id = self.vm_id(name, host_id, sample)?;
                    let mut stmt = self.conn.prepare_cached(&self.insert_vm)?;
                    bind_values(&mut stmt, &[vm_id, host_id, sample.at_ms], VM, values)?;
                    stmt.raw_execute()?;
                }
                Entity::Other => {}
            }
        }
        Ok(())
    }

    fn host_id(&mut self, sample: &Ingest) -> rusqlite::Result<i64> {
        let host_descr = match sample.entity {
            Entity::Vm { .. } => None,
            _ => sample.descr.as_ref(),
        };
        if let Some(known) = self.hosts.get(&sample.host) {
            if host_descr.is_none() || known.descr.as_ref() == host_descr {
                return Ok(known.id);
            }
        }
        let agent = sample.host.agent.to_string();
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO hosts (agent, sub_agent, source_ip, first_seen) VALUES (?, ?, ?, ?)",
            )?
            .execute(params![
                agent,
                sample.host.sub_agent,
                sample.source.to_string(),
                sample.at_ms
            ])?;
        let id: i64 = self
            .conn
            .prepare_cached("SELECT id FROM hosts WHERE agent = ? AND sub_agent = ?")?
            .query_row(params![agent, sample.host.sub_agent], |r| r.get(0))?;
        if let Some(d) = host_descr {
            write_description(&self.conn, "hosts", id, d)?;
            self.conn
                .prepare_cached("UPDATE hosts SET source_ip = ? WHERE id = ?")?
                .execute(params![sample.source.to_string(), id])?;
        }
        let descr = host_descr
            .cloned()
            .or_else(|| self.hosts.get(&sample.host).and_then(|k| k.descr.clone()));
        if self.hosts.len() >= MAX_CACHED {
            self.hosts.clear();
        }
        self.hosts.insert(
            sample.host,
            Known {
                id,
                host_id: id,
                descr,
            },
        );
        Ok(id)
    }

    fn vm_id(&mut self, name: &str, host_id: i64, sample: &Ingest) -> rusqlite::Result<i64> {
        if let Some(known) = self.vms.get(name) {
            if known.host_id == host_id && (sample.descr.is_none() || known.descr == sample.descr) {
                return Ok(known.id);
            }
        }
        self.conn
            .prepare_cached(
                "INSERT INTO vms (name, host_id, first_seen) VALUES (?, ?, ?)
                 ON CONFLICT (name) DO UPDATE SET host_id = excluded.host_id",
            )?
            .execute(params![name, host_id, sample.at_ms])?;
        let id: i64 = self
            .conn
            .prepare_cached("SELECT id FROM vms WHERE name = ?")?
            .query_row([name], |r| r.get(0))?;
        if let Some(d) = &sample.descr {
            write_description(&self.conn, "vms", id, d)?;
        }
        let descr = sample
            .descr
            .clone()
            .or_else(|| self.vms.get(name).and_then(|k| k.descr.clone()));
        if self.vms.len() >= MAX_CACHED {
            self.vms.clear();
        }
        self.vms
            .insert(name.to_owned(), Known { id, host_id, descr });
        Ok(id)
    }

    /// Deletes what is past `keep` and thins what is past `raw` and `minute`.
    fn maintain(&mut self, now: i64) -> rusqlite::Result<()> {
        let r = self.retention;
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let keep_cut = now.saturating_sub(ms(r.keep));
        let minute_cut = now.saturating_sub(ms(r.raw)).div_euclid(MINUTE_MS) * MINUTE_MS;
        let hour_cut = now.saturating_sub(ms(r.minute)).div_euclid(HOUR_MS) * HOUR_MS;
        let mut deleted = 0;
        for (table, entity) in [("host_samples", "host_id"), ("vm_samples", "vm_id")] {
            deleted += self.conn.execute(
                &format!("DELETE FROM {table} WHERE timestamp < ?"),
                [keep_cut],
            )?;
            deleted += thin(
                &self.conn,
                table,
                entity,
                self.thinned_to_minute,
                minute_cut,
                MINUTE_MS,
            )?;
            deleted += thin(
                &self.conn,
                table,
                entity,
                self.thinned_to_hour,
                hour_cut,
                HOUR_MS,
            )?;
        }
        self.thinned_to_minute = self.thinned_to_minute.max(minute_cut);
        self.thinned_to_hour = self.thinned_to_hour.max(hour_cut);
        self.stats
            .deleted
            .fetch_add(deleted as u64, Ordering::Relaxed);
        self.forget_entities(keep_cut)
    }

    /// Deletes the VMs, then the hosts, first seen before `keep_cut` of which no sample
    /// is left: VMs come and go, and without this their rows, and the writer's map of
    /// them, would grow for as long as the agent runs.
    fn forget_entities(&mut self, keep_cut: i64) -> rusqlite::Result<()> {
        let vms = self.conn.execute(
            "DELETE FROM vms WHERE first_seen < ?1
               AND NOT EXISTS (SELECT 1 FROM vm_samples s WHERE s.vm_id = vms.id)",
            [keep_cut],
        )?;
        let hosts = self.conn.execute(
            "DELETE FROM hosts WHERE first_seen < ?1
               AND NOT EXISTS (SELECT 1 FROM host_samples s WHERE s.host_id = hosts.id)
               AND NOT EXISTS (SELECT 1 FROM vms v WHERE v.host_id = hosts.id)
               AND NOT EXISTS (SELECT 1 FROM vm_samples s WHERE s.host_id = hosts.id)",
            [keep_cut],
        )?;
        if vms + hosts > 0 {
            // The maps only save lookups; they fill again from the tables as samples come.
            self.hosts.clear();
            self.vms.clear();
        }
        Ok(())
    }
}

/// Keeps the last sample per entity per `bucket` ms among those in `[from, to)`.
fn thin(
    conn: &Connection,
    table: &str,
    entity: &str,
    from: i64,
    to: i64,
    bucket: i64,
) -> rusqlite::Result<usize> {
    if to <= from {
        return Ok(0);
    }
    conn.execute(
        &format!(
            "DELETE FROM {table} WHERE timestamp >= ?1 AND timestamp < ?2 AND rowid NOT IN
             (SELECT max(rowid) FROM {table} WHERE timestamp >= ?1 AND timestamp < ?2
              GROUP BY {entity}, timestamp / ?3)"
        ),
        params![from, to, bucket],
    )
}

fn write_description(
    conn: &Connection,
    table: &str,
    id: i64,
    d: &Description,
) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "UPDATE {table} SET hostname = ?, uuid = ?, machine_type = ?, os_name = ?, os_release = ? WHERE id = ?"
    ))?
    .execute(params![
        d.hostname.as_str(),
        d.uuid_text(),
        d.machine_type_name(),
        d.os_name_name(),
        d.os_release.as_str(),
        id
    ])?;
    Ok(())
}

fn bind_values<const N: usize>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    keys: &[i64],
    columns: &[Column],
    values: &Values<N>,
) -> rusqlite::Result<()> {
    let mut at = 1;
    for k in keys {
        stmt.raw_bind_parameter(at, k)?;
        at += 1;
    }
    stmt.raw_bind_parameter(at, values.record_mask)?;
    at += 1;
    for i in 0..columns.len() {
        match values.get(columns, i) {
            Some(crate::sflow::columns::Value::Int(v)) => stmt.raw_bind_parameter(at, v)?,
            Some(crate::sflow::columns::Value::Real(v)) => stmt.raw_bind_parameter(at, v)?,
            None => stmt.raw_bind_parameter(at, rusqlite::types::Null)?,
        }
        at += 1;
    }
    Ok(())
}

/// A stored sample as the API shows it.
#[derive(Clone, Debug)]
pub struct Row<const N: usize> {
    /// The agent address of the host that sent it.
    pub host_ip: String,
    /// The VM's name (`virt.*` rows only).
    pub hostname: Option<String>,
    /// Collector receive time, epoch ms.
    pub timestamp: i64,
    /// The values.
    pub values: Values<N>,
}

/// One host for `host.description`.
#[derive(Clone, Debug)]
pub struct HostDescriptionRow {
    /// Agent address.
    pub host_ip: String,
    /// Hostname.
    pub hostname: String,
    /// Machine type name.
    pub machine_type: String,
    /// OS name.
    pub os_name: String,
    /// OS release.
    pub os_release: String,
}

fn read_values<const N: usize>(
    r: &rusqlite::Row<'_>,
    first: usize,
    columns: &[Column],
) -> rusqlite::Result<Values<N>> {
    let mut v = Values::<N>::default();
    v.record_mask = r.get(first)?;
    for (i, c) in columns.iter().enumerate() {
        let at = first + 1 + i;
        if c.kind == Kind::Float {
            v.set_real(i, r.get::<_, Option<f64>>(at)?);
        } else {
            v.set_int(i, r.get::<_, Option<i64>>(at)?.map(|x| x.max(0) as u64));
        }
    }
    Ok(v)
}

impl History {
    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Host samples carrying `method`'s record, of the hosts whose agent address or UDP
    /// source is `ip`, with `from < timestamp <= to`, oldest first; at most `limit`.
    pub fn host_rows<const N: usize>(
        &self,
        ip: &str,
        method: Method,
        from: i64,
        to: i64,
        limit: usize,
    ) -> rusqlite::Result<Vec<Row<N>>> {
        let names: String = HOST.iter().map(|c| format!(", s.{}", c.name)).collect();
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT h.agent, s.timestamp, s.record_mask{names} FROM host_samples s
             JOIN hosts h ON h.id = s.host_id
             WHERE s.host_id IN (SELECT id FROM hosts WHERE agent = ?1 OR source_ip = ?1)
               AND s.timestamp > ?2 AND s.timestamp <= ?3 AND (s.record_mask & ?4) != 0
             ORDER BY s.timestamp, s.rowid LIMIT ?5"
        ))?;
        let rows = stmt.query_map(params![ip, from, to, method.bit(), limit as i64], |r| {
            Ok(Row {
                host_ip: r.get(0)?,
                hostname: None,
                timestamp: r.get(1)?,
                values: read_values(r, 2, HOST)?,
            })
        })?;
        rows.collect()
    }

    /// VM samples of the VM named `hostname` carrying `method`'s record, as
    /// [`History::host_rows`].
    pub fn vm_rows<const N: usize>(
        &self,
        hostname: &str,
        method: Method,
        from: i64,
        to: i64,
        limit: usize,
    ) -> rusqlite::Result<Vec<Row<N>>> {
        let names: String = VM.iter().map(|c| format!(", s.{}", c.name)).collect();
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT h.agent, v.name, s.timestamp, s.record_mask{names} FROM vm_samples s
             JOIN vms v ON v.id = s.vm_id JOIN hosts h ON h.id = s.host_id
             WHERE v.name = ?1 AND s.timestamp > ?2 AND s.timestamp <= ?3
               AND (s.record_mask & ?4) != 0
             ORDER BY s.timestamp, s.rowid LIMIT ?5"
        ))?;
        let rows = stmt.query_map(
            params![hostname, from, to, method.bit(), limit as i64],
            |r| {
                Ok(Row {
                    host_ip: r.get(0)?,
                    hostname: Some(r.get(1)?),
                    timestamp: r.get(2)?,
                    values: read_values(r, 3, VM)?,
                })
            },
        )?;
        rows.collect()
    }

    /// Every host that sent its host_descr, by agent address.
    pub fn host_descriptions(&self) -> rusqlite::Result<Vec<HostDescriptionRow>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT agent, hostname, machine_type, os_name, os_release FROM hosts
             WHERE hostname IS NOT NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(HostDescriptionRow {
                host_ip: r.get(0)?,
                hostname: r.get(1)?,
                machine_type: r.get(2)?,
                os_name: r.get(3)?,
                os_release: r.get(4)?,
            })
        })?;
        rows.collect()
    }

    /// Every VM with the agent address of the host it was last seen on.
    pub fn vm_descriptions(&self) -> rusqlite::Result<Vec<(String, String)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT h.agent, v.name FROM vms v JOIN hosts h ON h.id = v.host_id ORDER BY v.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sflow::columns::{HostValues, H};

    fn sample(agent: &str, at_ms: i64, user: u64) -> Ingest {
        let mut v = HostValues::default();
        v.record_mask = Method::HostCpu.bit();
        v.set_int(H::cpu_user as usize, Some(user));
        Ingest::test_host(agent, at_ms, v)
    }

    fn temp_dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("ferrostat-history-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Retention against real SQLite with a clock we choose: raw inside `raw`, one per
    /// minute then one per hour beyond it, nothing past `keep`.
    #[test]
    fn retention_thins_by_tier_and_deletes_past_keep() {
        let dir = temp_dir("retention");
        let conn = open_connection(&dir.join(FILE)).unwrap();
        create_schema(&conn).unwrap();
        let retention = Retention {
            raw: Duration::from_secs(3600),
            minute: Duration::from_secs(4 * 3600),
            keep: Duration::from_secs(10 * 3600),
        };
        let mut w = Writer::new(conn, retention, Arc::default()).unwrap();
        let now = 100 * HOUR_MS;
        // One sample every 10 s for the last 12 hours.
        let batch: Vec<_> = (0..12 * 360)
            .map(|i| sample("192.0.2.1", now - 12 * HOUR_MS + i * 10_000, i as u64))
            .collect();
        w.commit(&batch).unwrap();
        w.maintain(now).unwrap();
        let count = |w: &Writer, from: i64, to: i64| -> i64 {
            w.conn
                .query_row(
                    "SELECT count(*) FROM host_samples WHERE timestamp >= ? AND timestamp < ?",
                    [from, to],
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert_eq!(count(&w, now - HOUR_MS, now), 360, "the last hour is raw");
        assert_eq!(
            count(&w, now - 4 * HOUR_MS, now - HOUR_MS),
            180,
            "one a minute"
        );
        assert_eq!(
            count(&w, now - 10 * HOUR_MS, now - 4 * HOUR_MS),
            6,
            "one an hour"
        );
        assert_eq!(count(&w, 0, now - 10 * HOUR_MS), 0, "past keep");
        // The kept sample of a bucket is its last, so counters stay exact.
        let last_of_first_hour: i64 = w
            .conn
            .query_row(
                "SELECT cpu_user FROM host_samples WHERE timestamp >= ? AND timestamp < ?",
                [now - 10 * HOUR_MS, now - 9 * HOUR_MS],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(last_of_first_hour, 2 * 360 + 359);
        // Running again changes nothing.
        let before = count(&w, 0, now);
        w.maintain(now).unwrap();
        assert_eq!(count(&w, 0, now), before);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A host or VM is forgotten once its last sample is past `keep`, and not before: a
    /// host stays while a VM's samples from its time on it do.
    #[test]
    fn silent_hosts_and_vms_leave_with_their_last_sample() {
        let dir = temp_dir("forget");
        let conn = open_connection(&dir.join(FILE)).unwrap();
        create_schema(&conn).unwrap();
        let retention = Retention {
            raw: Duration::from_secs(3600),
            minute: Duration::from_secs(3600),
            keep: Duration::from_secs(10 * 3600),
        };
        let mut w = Writer::new(conn, retention, Arc::default()).unwrap();
        let now = 100 * HOUR_MS;
        let vm = Ingest::test_vm;
        w.commit(&[
            sample("192.0.2.1", now - 11 * HOUR_MS, 1),
            vm("192.0.2.1", "vm-gone", now - 11 * HOUR_MS),
            sample("192.0.2.2", now - 11 * HOUR_MS, 2),
            sample("192.0.2.3", now - 11 * HOUR_MS, 3),
            vm("192.0.2.3", "vm-moved", now - 5 * HOUR_MS),
            sample("192.0.2.2", now, 4),
            vm("192.0.2.2", "vm-moved", now),
        ])
        .unwrap();
        let names = |w: &Writer, sql: &str| -> Vec<String> {
            let mut q = w.conn.prepare(sql).unwrap();
            let rows = q.query_map([], |r| r.get(0)).unwrap();
            rows.map(Result::unwrap).collect()
        };
        let hosts = "SELECT agent FROM hosts ORDER BY agent";
        let vms = "SELECT name FROM vms ORDER BY name";
        assert_eq!(names(&w, hosts).len(), 3);
        w.maintain(now).unwrap();
        // .1 and its VM are gone; .3 stays for vm-moved's samples from its time there.
        assert_eq!(names(&w, hosts), ["192.0.2.2", "192.0.2.3"]);
        assert_eq!(names(&w, vms), ["vm-moved"]);
        // Once those are past keep too, .3 goes.
        w.maintain(now + 6 * HOUR_MS).unwrap();
        assert_eq!(names(&w, hosts), ["192.0.2.2"]);
        // A forgotten host that speaks again is new, under a new row.
        w.commit(&[sample("192.0.2.1", now + 6 * HOUR_MS, 5)])
            .unwrap();
        assert_eq!(names(&w, hosts), ["192.0.2.1", "192.0.2.2"]);
        let first_seen: i64 = w
            .conn
            .query_row(
                "SELECT first_seen FROM hosts WHERE agent = '192.0.2.1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(first_seen, now + 6 * HOUR_MS);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
