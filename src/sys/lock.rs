//! Per-port locks between concurrent ovs-docker runs on one host.
//!
//! A lock is an abstract unix socket bound to a name made of the container's
//! full ID and the interface: only one process can hold the name, and the
//! kernel releases it when the process dies, even by SIGKILL. So nothing is
//! ever left on disk, and a lock that can be taken proves that nobody is
//! half-way through that port: whatever is found for it is left from a
//! crash, and safe to clean up.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::time::{Duration, Instant};

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct PortLock {
    _socket: UnixListener,
}

fn lock_name(container_id: &str, iface: &str) -> String {
    // 108 bytes at most: "ovs-docker/" (11) + 64 + "/" + 15 fits. A longer
    // ID (a --netns path) is replaced by a digest of it.
    if container_id.len() <= 64 {
        return format!("ovs-docker/{container_id}/{iface}");
    }
    // FNV-1a, 128 bits from two lanes: stable across processes and builds.
    let lane = |seed: u64| container_id.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("ovs-docker/{:016x}{:016x}/{iface}", lane(0xcbf2_9ce4_8422_2325), lane(0x84222325cbf29ce4))
}

impl PortLock {
    /// Take the lock now, or `Ok(None)` if another process holds it.
    pub fn try_acquire(container_id: &str, iface: &str) -> io::Result<Option<PortLock>> {
        let addr = SocketAddr::from_abstract_name(lock_name(container_id, iface).as_bytes())?;
        match UnixListener::bind_addr(&addr) {
            Ok(s) => Ok(Some(PortLock { _socket: s })),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Take the lock, waiting up to `timeout` for another run to finish.
    pub async fn acquire(container_id: &str, iface: &str, timeout: Duration) -> io::Result<Option<PortLock>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = Self::try_acquire(container_id, iface)? {
                return Ok(Some(l));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let id = format!("test-{}", std::process::id());
        let a = PortLock::try_acquire(&id, "eth1").unwrap().expect("free lock");
        assert!(PortLock::try_acquire(&id, "eth1").unwrap().is_none());
        // Another interface is another lock.
        assert!(PortLock::try_acquire(&id, "eth2").unwrap().is_some());
        drop(a);
        assert!(PortLock::try_acquire(&id, "eth1").unwrap().is_some());
    }

    #[tokio::test]
    async fn acquire_waits_then_gives_up() {
        let id = format!("test-wait-{}", std::process::id());
        let _held = PortLock::try_acquire(&id, "eth1").unwrap().unwrap();
        let start = Instant::now();
        assert!(PortLock::acquire(&id, "eth1", Duration::from_millis(50)).await.unwrap().is_none());
        assert!(start.elapsed() >= Duration::from_millis(50));
    }
}
