//! Reading RTP datagrams with the time the kernel received them (`SO_TIMESTAMPNS`), so the
//! relay knows how long each packet waited in its socket before it was read: the delay the
//! relay itself adds, whatever the sender's own timing. Where the kernel gives no stamp
//! the wait is unknown and not counted.

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Asks the kernel to stamp every datagram the socket receives.
pub(super) fn enable(socket: &UdpSocket) -> io::Result<()> {
    setsockopt(socket, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)
}

/// One datagram read into the caller's buffer.
pub(super) struct Datagram {
    pub len: usize,
    pub from: SocketAddr,
    /// How long it waited in the socket, when the kernel stamped it.
    pub waited: Option<Duration>,
}

/// Waits for the next datagram on `socket` and reads it into `buffer`.
pub(super) async fn recv(socket: &UdpSocket, buffer: &mut [u8]) -> io::Result<Datagram> {
    socket
        .async_io(Interest::READABLE, || read_now(socket, buffer))
        .await
}

fn read_now(socket: &UdpSocket, buffer: &mut [u8]) -> io::Result<Datagram> {
    let mut control = nix::cmsg_space!(TimeSpec);
    let mut slices = [IoSliceMut::new(buffer)];
    let message = recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut slices,
        Some(&mut control),
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    let read_at = SystemTime::now();
    let from = message
        .address
        .as_ref()
        .and_then(socket_address)
        .ok_or_else(|| io::Error::other("a datagram without a sender's address"))?;
    let stamp = message.cmsgs().ok().and_then(|mut cmsgs| {
        cmsgs.find_map(|cmsg| match cmsg {
            ControlMessageOwned::ScmTimestampns(stamp) => Some(stamp),
            _ => None,
        })
    });
    let waited = stamp.and_then(|stamp| {
        let received = UNIX_EPOCH + Duration::from(stamp);
        read_at.duration_since(received).ok()
    });
    Ok(Datagram {
        len: message.bytes,
        from,
        waited,
    })
}

fn socket_address(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    let v6 = address.as_sockaddr_in6()?;
    Some(SocketAddr::V6((*v6).into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_datagram_read_late_says_how_long_it_waited() {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        enable(&socket).unwrap();
        // The kernel turns receive stamps on for the whole machine a moment after the
        // first socket asks for them.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sent_from = sender.local_addr().unwrap();
        sender
            .send_to(b"first", socket.local_addr().unwrap())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        let mut buffer = [0u8; 64];
        let datagram = recv(&socket, &mut buffer).await.unwrap();
        assert_eq!(&buffer[..datagram.len], b"first");
        assert_eq!(datagram.from, sent_from);
        let waited = datagram.waited.unwrap();
        assert!(
            waited >= Duration::from_millis(55) && waited < Duration::from_secs(5),
            "{waited:?}"
        );

        sender
            .send_to(b"second", socket.local_addr().unwrap())
            .await
            .unwrap();
        let datagram = recv(&socket, &mut buffer).await.unwrap();
        assert!(datagram.waited.unwrap() < Duration::from_millis(55));
    }
}
