//! Deleting links without waiting for the kernel's slow half.
//!
//! The kernel deletes a link in two halves. Under the RTNL lock it takes
//! the link down, unlists it (its name and index are free again, it is gone
//! from every listing, and a veth's peer goes with it) and announces
//! RTM_DELLINK; that takes about a millisecond. Then, with the lock
//! released but still inside the caller's `sendmsg`, it waits for an RCU
//! barrier and for the last references before freeing the memory: 15 to 20
//! ms on this kind of machine, and the acknowledgement comes only after it.
//!
//! Nothing anyone can see depends on the second half, so we do not wait for
//! it: a forked child sends the request and waits for the acknowledgement,
//! while the caller listens for the RTM_DELLINK announcements and returns
//! as soon as every link it asked for is unlisted. A failure the child is
//! told about (EPERM, ENODEV...) reaches the caller through a pipe. If the
//! announcements are lost (the listening socket overflowed), the caller
//! falls back to the child's acknowledgement, so correctness never depends
//! on the fast path.
//!
//! The child only makes system calls on memory prepared before the fork
//! (no allocation, no lock), which is what a fork from a threaded process
//! allows. It closes every descriptor it does not need first, so it holds
//! neither the caller's output pipes nor its port locks.

use std::collections::BTreeSet;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use rtnetlink::packet_core::{NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_REQUEST};
use rtnetlink::packet_route::link::{LinkAttribute, LinkMessage};
use rtnetlink::packet_route::RouteNetlinkMessage;

/// How long to wait for the kernel before giving up (it normally answers
/// in about a millisecond, or 20 if the fast path fails).
const TIMEOUT: Duration = Duration::from_secs(30);

/// The one thing the child reads itself (it may not allocate, so no
/// parser): the type of the kernel's answer.
const NLMSG_ERROR: u16 = 2;
const RTMGRP_LINK: u32 = 1;

/// What to delete: one link by index, or every link of a link group (as
/// `ip link delete group N`, one kernel batch for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Index(u32),
    Group(u32),
}

/// Delete `target` in this process's network namespace and return once the
/// links `indices` (those of `target` the caller knows of) are unlisted.
/// `Ok(false)`: the kernel said there was nothing to delete (ENODEV).
pub fn delete(target: Target, indices: &[u32]) -> io::Result<bool> {
    let mut waiting: BTreeSet<u32> = indices.iter().copied().collect();
    if let Target::Index(i) = target {
        waiting.insert(i);
    }
    let request = request(target);
    // Listen before asking, so that no announcement can be missed.
    let monitor = netlink_socket(RTMGRP_LINK)?;
    let sender = netlink_socket(0)?;
    let (status_r, status_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;

    // SAFETY: the child only makes async-signal-safe system calls on
    // memory that exists before the fork (see `child`), then `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        child(sender.as_raw_fd(), status_w.as_raw_fd(), &request);
    }
    drop(sender);
    drop(status_w);
    let outcome = wait(&monitor, &status_r, &mut waiting);
    reap(pid);
    outcome
}

/// The RTM_DELLINK request: a netlink header and an ifinfomsg, plus
/// IFLA_GROUP for a group.
fn request(target: Target) -> Vec<u8> {
    let mut link = LinkMessage::default();
    match target {
        Target::Index(i) => link.header.index = i,
        Target::Group(g) => link.attributes.push(LinkAttribute::Group(g)),
    }
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_ACK;
    header.sequence_number = 1;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(RouteNetlinkMessage::DelLink(link)));
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

fn netlink_socket(groups: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain system calls; the descriptor is owned at once.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_nl is plain data, zeroed is a valid value.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    addr.nl_groups = groups;
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// The forked child: send the request, wait for the kernel's answer,
/// report its errno (0 for success) on `status`, exit.
fn child(sender: RawFd, status: RawFd, request: &[u8]) -> ! {
    // SAFETY: only async-signal-safe system calls, on the stack or on
    // memory allocated before the fork; never returns.
    unsafe {
        close_all_but(sender, status);
        let mut errno: i32 = libc::EIO;
        if libc::send(sender, request.as_ptr().cast(), request.len(), 0) == request.len() as isize {
            let mut buf = [0u8; 1024];
            loop {
                let n = libc::recv(sender, buf.as_mut_ptr().cast(), buf.len(), 0);
                if n < 0 && *libc::__errno_location() == libc::EINTR {
                    continue;
                }
                if n >= 20 && u16::from_ne_bytes([buf[4], buf[5]]) == NLMSG_ERROR {
                    errno = -i32::from_ne_bytes([buf[16], buf[17], buf[18], buf[19]]);
                }
                break;
            }
        }
        let bytes = errno.to_ne_bytes();
        libc::write(status, bytes.as_ptr().cast(), bytes.len());
        libc::_exit(0)
    }
}

/// Close every descriptor but `a` and `b` (close_range, Linux 5.9).
unsafe fn close_all_but(a: RawFd, b: RawFd) {
    let (lo, hi) = (a.min(b) as libc::c_uint, a.max(b) as libc::c_uint);
    let close = |first: libc::c_uint, last: libc::c_uint| {
        if first <= last {
            libc::syscall(libc::SYS_close_range, first, last, 0);
        }
    };
    if lo > 0 {
        close(0, lo - 1);
    }
    close(lo + 1, hi.wrapping_sub(1));
    close(hi.saturating_add(1), libc::c_uint::MAX);
}

/// Wait until every index in `waiting` is announced deleted, or the child
/// reports.
fn wait(monitor: &OwnedFd, status: &OwnedFd, waiting: &mut BTreeSet<u32>) -> io::Result<bool> {
    let deadline = Instant::now() + TIMEOUT;
    let mut listening = true;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "the kernel did not answer the link deletion"));
        }
        let mut fds = [
            libc::pollfd { fd: status.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: if listening { monitor.as_raw_fd() } else { -1 }, events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: two valid pollfd entries.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, left.as_millis().min(i32::MAX as u128) as i32) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if fds[0].revents != 0 {
            return child_status(status);
        }
        if fds[1].revents != 0 {
            // SAFETY: reading into a buffer we own.
            let n = unsafe { libc::recv(monitor.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
            if n < 0 {
                match io::Error::last_os_error().raw_os_error() {
                    Some(libc::EINTR) | Some(libc::EAGAIN) => continue,
                    // ENOBUFS: announcements were dropped; rely on the child.
                    _ => {
                        listening = false;
                        continue;
                    }
                }
            }
            for index in deleted_indices(&buf[..n as usize]) {
                waiting.remove(&index);
            }
            if waiting.is_empty() {
                return Ok(true);
            }
        }
    }
}

/// The errno the child wrote: 0 done, ENODEV nothing to delete.
fn child_status(status: &OwnedFd) -> io::Result<bool> {
    let mut bytes = [0u8; 4];
    // SAFETY: reading into a buffer we own.
    let n = unsafe { libc::read(status.as_raw_fd(), bytes.as_mut_ptr().cast(), 4) };
    if n != 4 {
        return Err(io::Error::other("the process deleting the link died before the kernel answered"));
    }
    match i32::from_ne_bytes(bytes) {
        0 => Ok(true),
        libc::ENODEV => Ok(false),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// Link indices of the RTM_DELLINK messages in a netlink datagram.
fn deleted_indices(mut data: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    while let Ok(buf) = NetlinkBuffer::new_checked(data) {
        let len = buf.length() as usize;
        if let Ok(NetlinkMessage { payload: NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)), .. }) =
            NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[..len])
        {
            out.push(m.header.index);
        }
        data = &data[((len + 3) & !3).min(data.len())..];
    }
    out
}

/// Reap the child: now if it is done, else on a thread of its own (in a
/// daemon, children must not pile up as zombies).
fn reap(pid: libc::pid_t) {
    let pid = nix::unistd::Pid::from_raw(pid);
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    if let Ok(WaitStatus::StillAlive) = waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        std::thread::spawn(move || {
            let _ = waitpid(pid, None);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From linux/rtnetlink.h and linux/if_link.h: the wire format is
    /// checked against the kernel's numbers, not the crate's.
    const RTM_DELLINK: u16 = 17;
    const IFLA_GROUP: u16 = 27;

    #[test]
    fn requests_are_well_formed() {
        let one = request(Target::Index(7));
        assert_eq!(one.len(), 32);
        assert_eq!(u32::from_ne_bytes(one[0..4].try_into().unwrap()), 32);
        assert_eq!(u16::from_ne_bytes(one[4..6].try_into().unwrap()), RTM_DELLINK);
        assert_eq!(i32::from_ne_bytes(one[20..24].try_into().unwrap()), 7);
        let group = request(Target::Group(0x0d0c_0001));
        assert_eq!(group.len(), 40);
        assert_eq!(u32::from_ne_bytes(group[0..4].try_into().unwrap()), 40);
        assert_eq!(i32::from_ne_bytes(group[20..24].try_into().unwrap()), 0);
        assert_eq!(u16::from_ne_bytes(group[34..36].try_into().unwrap()), IFLA_GROUP);
        assert_eq!(u32::from_ne_bytes(group[36..40].try_into().unwrap()), 0x0d0c_0001);
    }

    #[test]
    fn announcements_are_parsed() {
        // Two messages in one datagram: a RTM_NEWLINK for 3, a RTM_DELLINK for 9.
        let mut d = Vec::new();
        for (kind, index) in [(16u16, 3i32), (RTM_DELLINK, 9)] {
            d.extend_from_slice(&32u32.to_ne_bytes());
            d.extend_from_slice(&kind.to_ne_bytes());
            d.extend_from_slice(&[0u8; 10]);
            d.extend_from_slice(&[0u8; 4]);
            d.extend_from_slice(&index.to_ne_bytes());
            d.extend_from_slice(&[0u8; 8]);
        }
        assert_eq!(deleted_indices(&d), vec![9]);
        assert_eq!(deleted_indices(&d[..20]), Vec::<u32>::new());
    }
}
