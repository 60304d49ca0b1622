//! The Debian package (scripts/package.sh, packaging/deb/): built from the
//! binary under test, checked with lintian, installed with `dpkg -i` over
//! openvswitch-common's script (diverted to /usr/bin/ovs-docker.upstream),
//! used, reinstalled, upgraded, removed and purged; the machine ends as it
//! began, with the upstream script at /usr/bin/ovs-docker.
//!
//! One test function: every step changes the same system-wide files.
//! Tests of other files that run the upstream script find it wherever it is
//! ([`common::upstream_script`]). A killed run is undone by
//! `scripts/testbed.sh clean` (the mark file below).

mod common;

use std::path::Path;

use common::*;

const PACKAGE: &str = "ovs-docker";
/// While it exists, `scripts/testbed.sh clean` purges the package.
const MARK: &str = "/run/ovs-docker-testbed/package-under-test";

fn sha256(path: &str) -> String {
    let out = run("sha256sum", &[path]);
    out.ok();
    out.stdout.split_whitespace().next().unwrap_or_default().to_string()
}

fn installed() -> bool {
    run("dpkg-query", &["-W", "-f=${db:Status-Status}", PACKAGE]).stdout.trim() == "installed"
}

fn diverted_by() -> String {
    run("dpkg-divert", &["--listpackage", UPSTREAM]).ok().stdout.trim().to_string()
}

/// Purges the package on drop (a failed step must not leave it installed:
/// the next test files run the upstream script).
struct PackageGuard;

impl PackageGuard {
    fn new() -> PackageGuard {
        std::fs::create_dir_all("/run/ovs-docker-testbed").expect("create /run/ovs-docker-testbed");
        std::fs::write(MARK, "tests/packaging.rs\n").expect("write the package mark");
        PackageGuard
    }
}

impl Drop for PackageGuard {
    fn drop(&mut self) {
        let _ = try_run("dpkg", &["--purge", PACKAGE], std::time::Duration::from_secs(120));
        let _ = std::fs::remove_file(MARK);
    }
}

/// Build the .deb from the binary under test into `dir`; its path.
fn build_package(dir: &Path) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/package.sh");
    let out = run("bash", &[script, "--binary", bin(), "--out", dir.to_str().unwrap(), "--compression", "gzip"]);
    out.ok();
    let deb = out.stdout.lines().last().unwrap_or_default().to_string();
    let version = env!("CARGO_PKG_VERSION");
    let arch = run("dpkg", &["--print-architecture"]).ok().stdout.trim().to_string();
    assert!(deb.ends_with(&format!("/ovs-docker_{version}_{arch}.deb")), "last line is not the .deb's path:\n{out}");
    assert!(Path::new(&deb).is_file(), "{deb} does not exist:\n{out}");
    deb
}

/// The same package under another version, as an upgrade would bring.
fn repack_as(deb: &str, version: &str, dir: &Path) -> String {
    let tree = dir.join("tree");
    let tree = tree.to_str().unwrap();
    run("dpkg-deb", &["-R", deb, tree]).ok();
    let control = format!("{tree}/DEBIAN/control");
    let text = std::fs::read_to_string(&control).unwrap();
    let text: String = text
        .lines()
        .map(|l| if l.starts_with("Version:") { format!("Version: {version}") } else { l.to_string() } + "\n")
        .collect();
    std::fs::write(&control, text).unwrap();
    let out = dir.join(format!("ovs-docker_{version}.deb"));
    let out = out.to_str().unwrap().to_string();
    run("dpkg-deb", &["--root-owner-group", "-b", tree, &out]).ok();
    out
}

/// Ours is at /usr/bin/ovs-docker, the upstream script (unchanged) at its
/// diverted path, and the test helper finds it there.
#[track_caller]
fn assert_installed(upstream_hash: &str, context: &str) {
    assert!(installed(), "{context}: the package is not installed");
    let v = run(UPSTREAM, &["--version"]);
    v.ok();
    assert_eq!(v.stdout.trim(), format!("ovs-docker {}", env!("CARGO_PKG_VERSION")), "{context}: not ours:\n{v}");
    assert_eq!(diverted_by(), PACKAGE, "{context}: /usr/bin/ovs-docker is not diverted by the package");
    let truename = run("dpkg-divert", &["--truename", UPSTREAM]).ok().stdout.trim().to_string();
    assert_eq!(truename, UPSTREAM_DIVERTED, "{context}");
    assert_eq!(sha256(UPSTREAM_DIVERTED), upstream_hash, "{context}: the diverted upstream script changed");
    assert_eq!(upstream_script(), Some(UPSTREAM_DIVERTED), "{context}: the tests' helper does not find the script");
}

/// The upstream script is back at /usr/bin/ovs-docker and nothing of the
/// package is left.
#[track_caller]
fn assert_gone(upstream_hash: &str, files: &[String], context: &str) {
    assert_eq!(sha256(UPSTREAM), upstream_hash, "{context}: /usr/bin/ovs-docker is not the upstream script");
    assert!(!Path::new(UPSTREAM_DIVERTED).exists(), "{context}: {UPSTREAM_DIVERTED} is left");
    assert_eq!(diverted_by(), "", "{context}: the diversion is left");
    for f in files.iter().filter(|f| f.as_str() != UPSTREAM) {
        assert!(!Path::new(f).exists(), "{context}: {f} of the package is left");
    }
    assert!(!Path::new("/usr/share/doc/ovs-docker").exists(), "{context}: /usr/share/doc/ovs-docker is left");
    assert_eq!(upstream_script(), Some(UPSTREAM), "{context}");
}

/// Attach two containers with the installed /usr/bin/ovs-docker and ping.
fn installed_binary_attaches_and_pings() {
    let s = Subnet::new();
    let br = TestBridge::new();
    let (c1, c2) = (TestContainer::new(), TestContainer::new());
    for (c, host) in [(&c1, 2), (&c2, 3)] {
        run(UPSTREAM, &["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", s.v4p(host))]).ok();
    }
    assert_eq!(rows_of(&c1).len(), 1, "{:#?}", rows_of(&c1));
    assert_ping(&c1, &s.v4(3));
    let listed = run(UPSTREAM, &["list", &br.name, "--format", "json"]);
    listed.ok();
    assert_eq!(listed.json().as_array().map(Vec::len), Some(2), "{listed}");
    run(UPSTREAM, &["del-ports", &br.name, &c1.name]).ok();
    assert!(rows_of(&c1).is_empty());
}

#[test]
fn deb_package_replaces_the_upstream_script_and_gives_it_back() {
    testbed_with_upstream();
    for tool in ["dpkg-deb", "dpkg-divert", "lintian", "man", "strip"] {
        let found = run("sh", &["-c", &format!("command -v {tool}")]);
        assert!(found.success(), "test bed not ready: `{tool}` is missing; run `scripts/testbed.sh up`");
    }
    assert!(
        !installed(),
        "the ovs-docker package is already installed: `scripts/testbed.sh clean` removes one a killed test left"
    );
    assert_eq!(upstream_script(), Some(UPSTREAM), "the upstream script must be at {UPSTREAM} before the test");
    let upstream_hash = sha256(UPSTREAM);

    let dir = std::env::temp_dir().join(format!("{PREFIX}-deb-{}", rand_hex(8)));
    std::fs::create_dir_all(&dir).unwrap();
    let deb = build_package(&dir);

    // What the package holds and declares.
    let listing = run("dpkg-deb", &["-c", &deb]);
    listing.ok();
    let files: Vec<String> = listing
        .stdout
        .lines()
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_whitespace().last())
        .map(|p| p.trim_start_matches('.').to_string())
        .collect();
    for want in [
        "/usr/bin/ovs-docker",
        "/usr/share/man/man1/ovs-docker.1.gz",
        "/usr/share/bash-completion/completions/ovs-docker",
        "/usr/share/zsh/vendor-completions/_ovs-docker",
        "/usr/share/fish/vendor_completions.d/ovs-docker.fish",
        "/lib/systemd/system/ovs-docker-plugin.service",
        "/lib/systemd/system/ovs-docker-watch.service",
        "/usr/share/doc/ovs-docker/copyright",
        "/usr/share/doc/ovs-docker/changelog.gz",
    ] {
        assert!(files.iter().any(|f| f == want), "{want} is not in the package:\n{listing}");
    }
    let field = |name: &str| run("dpkg-deb", &["-f", &deb, name]).ok().stdout.trim().to_string();
    assert!(field("Depends").split(", ").any(|d| d == "openvswitch-switch"), "Depends: {}", field("Depends"));
    assert!(field("Recommends").contains("docker.io"), "Recommends: {}", field("Recommends"));
    let lint = run("lintian", &["--fail-on", "error", &deb]);
    assert!(lint.success() && !lint.stdout.lines().any(|l| l.starts_with("E:")), "lintian reports errors:\n{lint}");

    // Install: ours at /usr/bin/ovs-docker, the script diverted, still running.
    let _guard = PackageGuard::new();
    run("dpkg", &["-i", &deb]).ok();
    assert_installed(&upstream_hash, "after dpkg -i");
    let help = upstream(&["--help"]);
    help.ok().stdout_contains("Performs integration of Open vSwitch with Docker");
    let man = run("man", &["-w", "ovs-docker"]);
    assert_eq!(man.ok().stdout.trim(), "/usr/share/man/man1/ovs-docker.1.gz", "{man}");
    // The units are there, not enabled.
    let enabled = run("sh", &["-c", "ls -R /etc/systemd/system 2>/dev/null | grep -c '^ovs-docker' || true"]);
    assert_eq!(enabled.stdout.trim(), "0", "a unit of the package is enabled:\n{enabled}");
    installed_binary_attaches_and_pings();

    // Reinstall and upgrade keep the diversion.
    run("dpkg", &["-i", &deb]).ok();
    assert_installed(&upstream_hash, "after reinstalling");
    let newer = repack_as(&deb, &format!("{}+test1", env!("CARGO_PKG_VERSION")), &dir);
    run("dpkg", &["-i", &newer]).ok();
    assert_installed(&upstream_hash, "after upgrading");
    let version = run("dpkg-query", &["-W", "-f=${Version}", PACKAGE]).ok().stdout.clone();
    assert!(version.ends_with("+test1"), "the upgrade did not happen: {version}");

    // Remove: the script is back, nothing of ours is left; purge after it.
    run("dpkg", &["-r", PACKAGE]).ok();
    assert_gone(&upstream_hash, &files, "after dpkg -r");
    run("sh", &["-c", "command -v ovs-docker"]).ok();
    upstream(&["--help"]).ok();
    run("dpkg", &["--purge", PACKAGE]).ok();
    assert_gone(&upstream_hash, &files, "after dpkg --purge");

    let status = run("dpkg-query", &["-W", "-f=${db:Status-Status}", PACKAGE]);
    assert!(!status.success() || status.stdout.trim() == "not-installed", "dpkg still knows the package:\n{status}");

    let _ = std::fs::remove_dir_all(&dir);
}
