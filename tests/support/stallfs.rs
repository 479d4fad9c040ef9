//! A FUSE file system whose lookups stall (`stallfs.py`, fusepy over libfuse): a read-only view of
//! a backing directory in which names starting with `slow` wait a configurable time
//! ([`StallFs::delay`]) or hang until released ([`StallFs::hang`], [`StallFs::release`]).
//!
//! Mounting needs `/dev/fuse`, Debian's `python3-fusepy` (for `/usr/bin/python3`, over libfuse2,
//! which mounts by itself as root) and `fuse3` for `fusermount3` (`scripts/install-deps.sh`); as
//! root it works in these containers. Missing or failing, the test
//! fails (CI) — never skips, except a developer run with `XSENDFILED_ALLOW_SKIP=1`.
//! Dropped, it releases every stalled lookup, unmounts its own mount point (lazily) and stops its
//! process by PID.

use super::{spawn, Proc};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PYTHON: &str = "/usr/bin/python3";

/// A mounted stalling file system.
pub struct StallFs {
    /// Where it is mounted.
    pub mount: PathBuf,
    ctl: PathBuf,
    proc_: Option<Proc>,
}

/// Whether the FUSE test file system can run here; panics (CI, or without
/// `XSENDFILED_ALLOW_SKIP=1`) when it cannot.
pub fn require() -> bool {
    if !super::require(&[PYTHON, "fusermount3", "/dev/fuse"]) {
        return false;
    }
    let fusepy = Command::new(PYTHON).args(["-c", "import fusepy"]).status().is_ok_and(|s| s.success());
    if fusepy {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !ci && std::env::var("XSENDFILED_ALLOW_SKIP").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: python3-fusepy missing (XSENDFILED_ALLOW_SKIP=1)");
        return false;
    }
    panic!("python3-fusepy missing for {PYTHON}: run ./scripts/install-deps.sh");
}

fn mounted(at: &Path) -> bool {
    let want = at.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split(' ').nth(1) == Some(want.as_str()) && l.contains("fuse"))
}

impl StallFs {
    /// Mounts a view of `backing` at `mount` (created), with its control files in `ctl`
    /// (created) and its log in `ctl/stallfs.log`.
    pub fn mount(backing: &Path, mount: &Path, ctl: &Path) -> StallFs {
        std::fs::create_dir_all(mount).expect("mount point");
        std::fs::create_dir_all(ctl).expect("ctl dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/stallfs.py");
        let mut cmd = Command::new(PYTHON);
        cmd.arg(script).arg(backing).arg(mount).arg(ctl);
        let mut p = spawn(cmd, "stallfs", &ctl.join("stallfs.log"));
        let start = Instant::now();
        while !mounted(mount) {
            if start.elapsed() > Duration::from_secs(10) || p.wait_exit(Duration::from_millis(20)).is_some() {
                panic!("mounting the FUSE test file system at {} failed:\n{}", mount.display(), p.log_text());
            }
        }
        StallFs { mount: mount.to_owned(), ctl: ctl.to_owned(), proc_: Some(p) }
    }

    /// Every `slow*` lookup from now on waits `d` first.
    pub fn delay(&self, d: Duration) {
        std::fs::write(self.ctl.join("delay"), format!("{}", d.as_secs_f64())).expect("write delay");
    }

    /// Every `slow*` lookup from now on waits until [`StallFs::release`].
    pub fn hang(&self) {
        std::fs::write(self.ctl.join("hang"), b"").expect("write hang");
    }

    /// The hung lookups answer, and new ones do not hang.
    pub fn release(&self) {
        let _ = std::fs::remove_file(self.ctl.join("hang"));
    }

    /// Every read of a `slow*` file from now on waits until [`StallFs::release_reads`].
    pub fn hang_reads(&self) {
        std::fs::write(self.ctl.join("hang-reads"), b"").expect("write hang-reads");
    }

    /// The hung reads answer, and new ones do not hang.
    pub fn release_reads(&self) {
        let _ = std::fs::remove_file(self.ctl.join("hang-reads"));
    }
}

impl Drop for StallFs {
    fn drop(&mut self) {
        self.release();
        self.release_reads();
        let _ = std::fs::remove_file(self.ctl.join("delay"));
        // Our own mount point only; lazily, so a file still open there cannot keep it.
        let _ = Command::new("fusermount3").arg("-u").arg("-z").arg(&self.mount).status();
        drop(self.proc_.take());
    }
}
