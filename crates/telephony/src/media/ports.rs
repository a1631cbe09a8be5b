//! The node's RTP ports: which even ports of the range are held by open legs, binding the
//! next free one, and giving it back once the leg's socket is closed. It does not read or
//! write packets.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::UdpSocket;

use super::{MediaError, MediaShared};

/// The even ports of the range and which are taken.
pub(super) struct PortTable {
    first: u16,
    last: u16,
    taken: Mutex<Taken>,
}

struct Taken {
    ports: HashSet<u16>,
    cursor: u16,
}

impl PortTable {
    pub(super) fn new(range: RangeInclusive<u16>) -> Result<PortTable, MediaError> {
        let (first, last) = (*range.start(), *range.end());
        let first_even = first_even_port(first);
        if first_even > last || first_even % 2 == 1 {
            return Err(MediaError::PortRange { first, last });
        }
        let taken = Taken {
            ports: HashSet::new(),
            cursor: first_even,
        };
        Ok(PortTable {
            first,
            last,
            taken: Mutex::new(taken),
        })
    }

    fn even_ports_from(&self, start: u16) -> impl Iterator<Item = u16> + use<> {
        let first_even = first_even_port(self.first);
        let last = self.last;
        let start = if start < first_even || start > last || start % 2 == 1 {
            first_even
        } else {
            start
        };
        let after = (start..=last).step_by(2);
        let before = (first_even..start).step_by(2);
        after.chain(before)
    }
}

fn first_even_port(first: u16) -> u16 {
    let first = first.max(2);
    first.saturating_add(first % 2)
}

/// Gives a port back when the leg that held it is gone. It is the last field of the leg's
/// state, so it runs after the socket has been closed and the port really is free.
pub(super) struct PortReservation {
    media: Arc<MediaShared>,
    port: u16,
}

impl PortReservation {
    pub(super) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortReservation {
    fn drop(&mut self) {
        let mut taken = self
            .media
            .ports
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        taken.ports.remove(&self.port);
    }
}

/// Binds the next free even port after the last one handed out (so a port just given back
/// is not reused at once, and late packets of an ended call do not reach a new one).
pub(super) fn bind_free_port(
    media: &Arc<MediaShared>,
) -> Result<(UdpSocket, PortReservation), MediaError> {
    let table = &media.ports;
    let mut taken = table.taken.lock().unwrap_or_else(PoisonError::into_inner);
    for port in table.even_ports_from(taken.cursor) {
        if taken.ports.contains(&port) {
            continue;
        }
        let address = SocketAddr::new(media.bind, port);
        let socket = match bind_nonblocking(address) {
            Ok(socket) => socket,
            Err(error) if error.kind() == ErrorKind::AddrInUse => continue,
            Err(source) => return Err(MediaError::Bind { address, source }),
        };
        taken.ports.insert(port);
        taken.cursor = port.saturating_add(2);
        let reservation = PortReservation {
            media: Arc::clone(media),
            port,
        };
        return Ok((socket, reservation));
    }
    Err(MediaError::PortsExhausted {
        first: table.first,
        last: table.last,
    })
}

fn bind_nonblocking(address: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = std::net::UdpSocket::bind(address)?;
    socket.set_nonblocking(true)?;
    let socket = UdpSocket::from_std(socket)?;
    super::stamped::enable(&socket)?;
    Ok(socket)
}
