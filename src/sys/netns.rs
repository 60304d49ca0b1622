//! Network namespaces. We never switch the threads of the runtime: work that
//! must happen inside a namespace (opening a netlink socket, writing
//! /proc/sys/net) runs on a short-lived thread that enters it and exits.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::sched::{setns, CloneFlags};

/// An open network namespace.
#[derive(Debug)]
pub struct Netns {
    fd: OwnedFd,
    inode: u64,
    dev: u64,
}

impl Netns {
    /// Open a namespace file such as /proc/PID/ns/net or Docker's sandbox
    /// key (/var/run/docker/netns/ID).
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        // Non-blocking: the path comes from OVSDB or Docker, and opening a
        // FIFO put there would otherwise wait for a writer forever, freezing
        // the single-threaded runtime; the nsfs check below refuses it.
        // No controlling terminal either, should it name a tty.
        let flags = libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY;
        let file = OpenOptions::new().read(true).custom_flags(flags).open(path.as_ref())?;
        let meta = file.metadata()?;
        // A bind-mounted namespace is an nsfs inode; anything else (a
        // regular file put there by mistake or malice) is refused.
        let fs = nix::sys::statfs::fstatfs(file.as_fd()).map_err(io::Error::from)?;
        if fs.filesystem_type() != nix::sys::statfs::NSFS_MAGIC {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a network namespace file"));
        }
        Ok(Netns { fd: file.into(), inode: meta.ino(), dev: meta.dev() })
    }

    /// The namespace of this process (the host's, for us).
    pub fn current() -> io::Result<Self> {
        Self::open("/proc/thread-self/ns/net")
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Whether two handles name the same namespace.
    pub fn same_as(&self, other: &Netns) -> bool {
        self.inode == other.inode && self.dev == other.dev
    }

    /// Run `f` on a fresh thread that has entered this namespace. The thread
    /// ends with `f`, so no other thread ever changes namespace. The tokio
    /// context is carried over so that sockets made inside can register
    /// with the runtime.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> io::Result<T> + Send) -> io::Result<T> {
        let rt = tokio::runtime::Handle::try_current().ok();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _guard = rt.as_ref().map(|h| h.enter());
                setns(self.fd.as_fd(), CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
                f()
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("namespace worker thread panicked")))
        })
    }
}

/// Write a sysctl under /proc/sys/net for an interface. /proc/sys/net
/// follows the namespace of the thread that opens it, so call this through
/// [`Netns::run`] for a container's interface.
pub fn write_sysctl(path: &str, value: &str) -> io::Result<()> {
    std::fs::write(path, value)
}

/// The path of `rel` (such as `ipv4/ip_forward`) among the network sysctls
/// of the host namespace: under `$OVS_DOCKER_SYSCTL_NET` if set, else
/// /proc/sys/net. A Docker managed plugin has a read-only /proc/sys and is
/// given a writable bind mount of the host's /proc/sys/net instead (see
/// scripts/docker-plugin.sh). Only for the host namespace: a write inside a
/// container goes through /proc/sys/net from a thread in its namespace.
pub fn host_net_sysctl(rel: &str) -> String {
    let root = std::env::var("OVS_DOCKER_SYSCTL_NET").ok().filter(|r| !r.is_empty());
    format!("{}/{rel}", root.as_deref().unwrap_or("/proc/sys/net").trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_not_a_namespace() {
        let e = Netns::open("/proc/self/status").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_fifo_is_refused_at_once_not_waited_on() {
        let dir = std::env::temp_dir().join(format!("ovs-docker-netns-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR).unwrap();
        // On a thread: a blocking open would never return.
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || tx.send(Netns::open(path).map(|_| ()).map_err(|e| e.kind())));
        let got = rx.recv_timeout(std::time::Duration::from_secs(5));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(got.expect("Netns::open blocked on a FIFO"), Err(io::ErrorKind::InvalidInput));
    }

    #[test]
    fn the_current_namespace_is_itself() {
        let a = Netns::current().unwrap();
        let b = Netns::open("/proc/self/ns/net").unwrap();
        assert!(a.same_as(&b));
        let inode = a.run(|| Ok(std::fs::metadata("/proc/thread-self/ns/net")?.ino())).unwrap();
        assert_eq!(inode, a.inode);
    }
}
