//! Fuzz target: an accepted path is always a regular file under the root
//! (`xsendfiled::fuzzing::check_resolution`), over a tree with symlinks pointing in and out.
#![no_main]
use std::os::unix::fs::symlink;
use std::sync::OnceLock;

struct Fixture {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    policy: xsendfiled::guard::Policy,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        for d in ["root/sub/deep", "root/.git", "root-private", "outside"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
        }
        for f in ["root/plain.txt", "root/sub/in.txt", "root/sub/deep/f.txt", "root/.hidden", "root-private/s", "outside/s"] {
            std::fs::write(dir.path().join(f), "x").expect("write");
        }
        symlink("plain.txt", root.join("in")).expect("symlink");
        symlink("../outside/s", root.join("out")).expect("symlink");
        symlink("../root-private/s", root.join("sib")).expect("symlink");
        symlink("sub", root.join("dirlink")).expect("symlink");
        symlink("/etc", root.join("etc")).expect("symlink");
        let policy =
            xsendfiled::guard::Policy::build(&root, xsendfiled::guard::Backend::Nginx, Some("/p"), None, false)
                .expect("policy");
        Fixture { root, policy, _dir: dir }
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let f = fixture();
    xsendfiled::fuzzing::check_resolution(&f.root, &f.policy, data);
});
