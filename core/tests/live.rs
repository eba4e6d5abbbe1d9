//! This machine's live /proc, checked against independent sources (sysinfo(2),
//! sysconf(3), getrusage(2), getpid(2)), and the nasty cases created for real on the
//! running kernel: hostile thread names via prctl(PR_SET_NAME) and tmpfs mounts on
//! escaped paths with an empty source, in a private mount namespace.

// sysinfo fields are c_ulong: u64 here, u32 on 32-bit targets, so the casts stay.
#![allow(clippy::unnecessary_cast)]

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use ferrostat_core::procfs::*;
use ferrostat_core::Table;

fn proc(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sysinfo() -> libc::sysinfo {
    // SAFETY: sysinfo only writes into the struct we pass.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::sysinfo(&mut info) }, 0);
    info
}

fn sysconf(name: libc::c_int) -> i64 {
    let v = unsafe { libc::sysconf(name) };
    assert!(v > 0);
    v as i64
}

#[test]
fn meminfo_matches_sysinfo() {
    let m = meminfo::parse(&proc("/proc/meminfo")).unwrap();
    let info = sysinfo();
    let unit = info.mem_unit as u64;
    // Both come from the same totalram_pages(): exact.
    assert_eq!(m.mem_total().unwrap() * 1024, info.totalram as u64 * unit);
    assert_eq!(m.swap_total().unwrap() * 1024, info.totalswap as u64 * unit);
    let free_diff = (m.mem_free().unwrap() * 1024).abs_diff(info.freeram as u64 * unit);
    // Read microseconds apart: only a burst of allocation elsewhere moves it.
    assert!(
        free_diff < 256 << 20,
        "MemFree differs from sysinfo by {free_diff} bytes"
    );
}

#[test]
fn stat_matches_sysconf_and_clock() {
    let mut s = stat::Stat::<4096>::default();
    stat::parse_into(&proc("/proc/stat"), &mut s).unwrap();
    assert_eq!(s.cpus.len() as i64, sysconf(libc::_SC_NPROCESSORS_ONLN));
    assert_eq!(s.cpus.dropped(), 0);
    let u = uptime::parse(&proc("/proc/uptime")).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let boot = s.btime.unwrap() as f64;
    assert!(
        (boot + u.uptime_secs - now).abs() < 3.0,
        "btime {boot} + uptime {} != now {now}",
        u.uptime_secs
    );
    // The total line is the per-CPU sum (the kernel sums the same per-CPU counters).
    let user: u64 = s.cpus.iter().map(|c| c.times.user).sum();
    assert!(
        user.abs_diff(s.total.user) <= s.cpus.len() as u64,
        "{user} vs {}",
        s.total.user
    );
    assert!(s.processes.unwrap() > 0 && s.ctxt.unwrap() > 0);
}

#[test]
fn uptime_and_loadavg_match_sysinfo() {
    let u = uptime::parse(&proc("/proc/uptime")).unwrap();
    let l = loadavg::parse(&proc("/proc/loadavg")).unwrap();
    let info = sysinfo();
    assert!(
        (u.uptime_secs - info.uptime as f64).abs() < 2.0,
        "{} vs {}",
        u.uptime_secs,
        info.uptime
    );
    // sysinfo loads are fixed point with 16 fractional bits; /proc/loadavg rounds to 2 digits.
    let one = info.loads[0] as f64 / 65536.0;
    // Both read the same avenrun[]; an update (every 5 s) may fall between the two reads.
    assert!((l.one - one).abs() < 0.5, "{} vs {one}", l.one);
    assert!(l.total as i64 >= 1 && l.running >= 1);
    assert!(
        l.total.abs_diff(info.procs as u32) < 64,
        "{} vs {}",
        l.total,
        info.procs
    );
}

#[test]
fn own_process_matches_getrusage_and_getpid() {
    // Burn some CPU so the comparison is meaningful.
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed().as_millis() < 300 {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    // Per thread on both sides, so tests running beside this one do not blur the figures.
    let stat_bytes = proc("/proc/thread-self/stat");
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) },
        0
    );
    let s = pid_stat::parse(&stat_bytes).unwrap();
    let hz = sysconf(libc::_SC_CLK_TCK) as u64;
    let stat_ms = s.cpu_ticks() * 1000 / hz;
    let tv_ms = |tv: libc::timeval| tv.tv_sec as u64 * 1000 + tv.tv_usec as u64 / 1000;
    let rusage_ms = tv_ms(usage.ru_utime) + tv_ms(usage.ru_stime);
    // However loaded the machine, the busy loop got some CPU.
    assert!(
        rusage_ms > 0,
        "{rusage_ms} ms of CPU after a 300 ms busy loop"
    );
    assert!(
        stat_ms.abs_diff(rusage_ms) <= 60,
        "stat {stat_ms} ms vs getrusage {rusage_ms} ms"
    );
    assert_eq!(s.pid, unsafe { libc::syscall(libc::SYS_gettid) } as i64);
    assert_eq!(s.ppid, unsafe { libc::getppid() } as i64);
    assert_eq!(s.state, b'R');

    let status_bytes = proc("/proc/self/status");
    let status = pid_status::parse(&status_bytes).unwrap();
    assert_eq!(status.tgid, Some(std::process::id() as u64));
    assert_eq!(status.uid.unwrap()[0], unsafe { libc::getuid() });
    assert_eq!(status.ppid, Some(s.ppid as u64));
    let statm = pid_statm::parse(&proc("/proc/self/statm")).unwrap();
    let page_kb = sysconf(libc::_SC_PAGESIZE) as u64 / 1024;
    let rss_diff = (statm.resident * page_kb).abs_diff(status.vm_rss.unwrap());
    assert!(
        rss_diff < 8 * 1024,
        "statm {} pages vs VmRSS {} kB",
        statm.resident,
        status.vm_rss.unwrap()
    );
    let io = pid_io::parse(&proc("/proc/self/io")).unwrap();
    assert!(io.rchar.unwrap() > 0 && io.syscr.unwrap() > 0);
}

/// Sets the calling thread's name with prctl(PR_SET_NAME). The kernel keeps at most 15
/// bytes (TASK_COMM_LEN - 1), cutting wherever that falls, as for any process.
fn set_thread_name(name: &[u8]) {
    let mut c_name = name.to_vec();
    c_name.push(0);
    let r = unsafe { libc::prctl(libc::PR_SET_NAME, c_name.as_ptr() as libc::c_ulong, 0, 0, 0) };
    assert_eq!(r, 0);
}

fn own_task_file(file: &str) -> Vec<u8> {
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    proc(&format!("/proc/self/task/{tid}/{file}"))
}

#[test]
fn hostile_thread_name_with_newline_and_fake_fields() {
    let hostile = b"foo\nbar) S 1";
    let (stat_bytes, status_bytes) = std::thread::spawn(move || {
        set_thread_name(hostile);
        (own_task_file("stat"), own_task_file("status"))
    })
    .join()
    .unwrap();
    // The kernel wrote the raw name into stat: the line really contains a newline.
    assert!(stat_bytes.windows(4).any(|w| w == b"foo\n"));
    let s = pid_stat::parse(&stat_bytes).unwrap();
    assert_eq!(s.comm.as_bytes(), hostile);
    assert_eq!(s.state, b'R');
    assert_eq!(s.ppid, unsafe { libc::getppid() } as i64);
    assert!(s.num_threads >= 2);

    // status escapes it instead.
    let st = pid_status::parse(&status_bytes).unwrap();
    let name = st.name.unwrap();
    assert_eq!(name.raw(), b"foo\\nbar) S 1");
    assert!(name.decodes_to(hostile));
    assert_eq!(st.state, Some(b'R'));
}

#[test]
fn thread_name_cut_inside_a_utf8_character() {
    // 14 ASCII bytes then "é" (2 bytes): TASK_COMM_LEN keeps 15, half the character.
    let name = "abcdefghijklmné".as_bytes();
    assert_eq!(name.len(), 16);
    let (stat_bytes, status_bytes) = std::thread::spawn(move || {
        set_thread_name(name);
        (own_task_file("stat"), own_task_file("status"))
    })
    .join()
    .unwrap();
    let s = pid_stat::parse(&stat_bytes).unwrap();
    assert_eq!(s.comm.as_bytes(), &name[..15]);
    assert!(s.comm.to_str().is_none());
    assert_eq!(s.comm.to_string(), "abcdefghijklmn\u{FFFD}");
    let st = pid_status::parse(&status_bytes).unwrap();
    let n = st.name.unwrap();
    assert!(n.decodes_to(&name[..15]));
    assert_eq!(n.to_string(), "abcdefghijklmn\u{FFFD}");
    assert!(st.vm_rss.is_some());
}

#[test]
fn tmpfs_mounts_on_escaped_paths_and_with_an_empty_source() {
    let dir = std::env::temp_dir().join(format!("ferrostat-mounts-{}", std::process::id()));
    let names = [
        "with space",
        "with\ttab",
        "back\\slash",
        "new\nline",
        "empty-source",
    ];
    std::fs::create_dir_all(&dir).unwrap();
    for n in names {
        std::fs::create_dir_all(dir.join(n)).unwrap();
    }
    let d = dir.to_str().unwrap();
    // A private user + mount namespace: works as root (CI) and unprivileged alike, and
    // the mounts vanish with the child.
    let script = r#"set -e
d="$1"
for n in "with space" "$(printf 'with\ttab')" 'back\slash' "$(printf 'new\nline')"; do
  mount -t tmpfs 'src with space' "$d/$n"
done
mount -t tmpfs '' "$d/empty-source"
cat /proc/self/mountinfo > "$d/mountinfo.out"
cat /proc/self/mounts > "$d/mounts.out"
"#;
    let st = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
            d,
        ])
        .status()
        .expect("unshare(1) from util-linux");
    assert!(st.success(), "unshare/mount failed: {st}");
    let mountinfo_bytes = std::fs::read(dir.join("mountinfo.out")).unwrap();
    let mounts_bytes = std::fs::read(dir.join("mounts.out")).unwrap();
    std::fs::remove_dir_all(&dir).ok();

    let mut table = Table::<_, 512>::new();
    mountinfo::parse_into(&mountinfo_bytes, &mut table).unwrap();
    for n in names {
        let want = format!("{d}/{n}");
        let m = table
            .iter()
            .find(|m| m.mount_point.decodes_to(want.as_bytes()))
            .unwrap_or_else(|| panic!("no mount for {want:?}"));
        assert!(m.fs_type.decodes_to(b"tmpfs"));
        if n == "empty-source" {
            assert_eq!(m.source.raw(), b"");
        } else {
            assert_eq!(m.source.raw(), br"src\040with\040space");
            assert!(m.source.decodes_to(b"src with space"));
        }
        assert_eq!(m.mount_point.to_string(), want);
    }
    let mut entries = Table::<_, 512>::new();
    mounts::parse_into(&mounts_bytes, &mut entries).unwrap();
    for n in names {
        let want = format!("{d}/{n}");
        let e = entries
            .iter()
            .find(|e| e.file.decodes_to(want.as_bytes()))
            .unwrap();
        assert_eq!(e.spec.raw().is_empty(), n == "empty-source");
        assert!(e.vfstype.decodes_to(b"tmpfs"));
    }
}

#[test]
fn every_other_live_file_parses() {
    let net_dev_bytes = proc("/proc/net/dev");
    let mut t = Table::<_, 256>::new();
    net_dev::parse_into(&net_dev_bytes, &mut t).unwrap();
    assert!(t.iter().any(|i| i.name.as_bytes() == b"lo"));
    let diskstats_bytes = proc("/proc/diskstats");
    let mut d = Table::<_, 1024>::new();
    diskstats::parse_into(&diskstats_bytes, &mut d).unwrap();
    let cpuinfo_bytes = proc("/proc/cpuinfo");
    let mut info = cpuinfo::CpuInfo::<4096>::default();
    cpuinfo::parse_into(&cpuinfo_bytes, &mut info).unwrap();
    assert_eq!(info.logical() as i64, sysconf(libc::_SC_NPROCESSORS_CONF));
    let snmp = net_snmp::parse(&proc("/proc/net/snmp")).unwrap();
    assert_eq!(snmp.Tcp.max_conn, Some(-1));
    let v = vmstat::parse(&proc("/proc/vmstat")).unwrap();
    assert!(v.pgfault().unwrap() > 0);
    for kind in ["cpu", "memory", "io"] {
        let path = format!("/proc/pressure/{kind}");
        if let Ok(bytes) = std::fs::read(&path) {
            let p = pressure::parse(&bytes).unwrap();
            assert!(p.some.is_some(), "{path}");
        }
    }
}
