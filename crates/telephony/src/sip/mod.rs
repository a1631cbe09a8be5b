//! The SIP adapter: one user agent per node on a SIP trunk, built on `rsipstack`. It rings
//! callers ("call me") and contacts through the trunk with digest authentication, answers
//! callers dialling in and asks for their PIN, bridges the two legs' audio through the
//! node's own RTP relay, reads keypad digits (RFC 4733 and SIP INFO), and reports every
//! step as an [`Event`]. Contact and caller numbers appear only in requests to the trunk.

pub mod config;
mod endings;
mod inbound;
mod legs;
mod outbound;
pub mod sdp;
mod session_timer;
mod speech;

use crate::media::{Leg, Media, Prompts};
use crate::{CallKey, Capabilities, Command, Event, LineKey, SessionKey, Telephony};
use config::{SipConfig, SipTransport};
use rsipstack::EndpointBuilder;
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::registration::Registration;
use rsipstack::sip::{HostWithPort, Method, StatusCode, Transport, Uri};
use rsipstack::transaction::TransactionReceiver;
use rsipstack::transaction::endpoint::EndpointInnerRef;
use rsipstack::transport::tcp_listener::TcpListenerConnection;
use rsipstack::transport::{SipAddr, TransportLayer, udp::UdpConnection};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Why the SIP adapter could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is wrong.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The SIP port could not be opened.
    #[error("cannot listen for SIP on {address}: {reason}")]
    Listen {
        /// The address asked for.
        address: std::net::SocketAddr,
        /// What the stack said.
        reason: String,
    },
}

/// The running SIP adapter.
pub struct SipTelephony {
    shared: Arc<Shared>,
    events: Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
    stop: CancellationToken,
}

/// What every leg task shares.
pub(crate) struct Shared {
    pub config: SipConfig,
    pub media: Media,
    pub prompts: Prompts,
    pub dialogs: Arc<DialogLayer>,
    pub endpoint: EndpointInnerRef,
    pub events: mpsc::UnboundedSender<Event>,
    /// The SIP port the node listens on (the configured one, or the one the OS chose).
    pub sip_port: u16,
    pub sessions: Mutex<HashMap<SessionKey, legs::CallerLine>>,
    /// Each contact call on this node, with the session it is bridged into.
    pub calls: Mutex<HashMap<CallKey, (SessionKey, mpsc::UnboundedSender<legs::Control>)>>,
    pub lines: Mutex<HashMap<LineKey, mpsc::UnboundedSender<inbound::LineControl>>>,
    pub next_line: AtomicU64,
}

impl SipTelephony {
    /// Opens the SIP port, starts the user agent (and registration when asked for) and
    /// returns the adapter.
    pub async fn start(
        config: SipConfig,
        media: Media,
        prompts: Prompts,
    ) -> Result<Arc<Self>, StartError> {
        config.check()?;
        let stop = CancellationToken::new();
        let transport = TransportLayer::new(stop.clone());
        let listen_error = |reason: String| StartError::Listen {
            address: config.listen,
            reason,
        };
        let external = config
            .public_ip
            .map(|ip| std::net::SocketAddr::new(ip, config.listen.port()));
        let udp =
            UdpConnection::create_connection(config.listen, external, Some(stop.child_token()))
                .await
                .map_err(|e| listen_error(e.to_string()))?;
        let udp_port = udp
            .get_addr()
            .addr
            .port
            .map_or(config.listen.port(), u16::from);
        transport.add_transport(udp.into());
        if config.trunk.transport == SipTransport::Tcp {
            // The trunk's requests in the call (a BYE, a refresh) may come on a connection
            // of its own, to the same port as UDP.
            let local = std::net::SocketAddr::new(config.listen.ip(), udp_port);
            let external = config
                .public_ip
                .map(|ip| std::net::SocketAddr::new(ip, udp_port));
            let tcp = TcpListenerConnection::new(local, external)
                .await
                .map_err(|e| listen_error(e.to_string()))?;
            transport.add_transport(tcp.into());
        }
        let endpoint = EndpointBuilder::new()
            .with_cancel_token(stop.clone())
            .with_transport_layer(transport)
            .with_user_agent("Barnstorm")
            .build();
        let sip_port = endpoint
            .get_addrs()
            .first()
            .and_then(|addr| addr.addr.port.map(u16::from))
            .unwrap_or(config.listen.port());
        let incoming = endpoint
            .incoming_transactions()
            .map_err(|e| listen_error(e.to_string()))?;
        let inner = endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(error) = inner.serve().await {
                tracing::error!(%error, "the SIP user agent stopped");
            }
        });
        let (events, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            dialogs: Arc::new(DialogLayer::new(endpoint.inner.clone())),
            endpoint: endpoint.inner.clone(),
            config,
            media,
            prompts,
            events,
            sip_port,
            sessions: Mutex::default(),
            calls: Mutex::default(),
            lines: Mutex::default(),
            next_line: AtomicU64::new(1),
        });
        tokio::spawn(serve_incoming(shared.clone(), incoming));
        if shared.config.register {
            tokio::spawn(keep_registered(shared.clone(), stop.clone()));
        }
        tracing::info!(trunk = %shared.config.trunk, port = sip_port, "SIP user agent listening");
        Ok(Arc::new(Self {
            shared,
            events: Mutex::new(Some(receiver)),
            stop,
        }))
    }

    /// The SIP port the node listens on.
    pub fn sip_port(&self) -> u16 {
        self.shared.sip_port
    }
}

impl Drop for SipTelephony {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Telephony for SipTelephony {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            bridged: true,
            dial_in: self.shared.config.dial_in_number.is_some(),
        }
    }

    fn send(&self, command: Command) {
        let shared = self.shared.clone();
        match command {
            Command::RingCaller {
                session,
                number,
                caller_id,
            } => outbound::ring_caller(shared, session, number, caller_id),
            Command::Dial {
                session,
                call,
                number,
                caller_id,
                ring_timeout,
            } => outbound::dial(shared, session, call, number, caller_id, ring_timeout),
            Command::HangUp { call } => shared.control_call(call, legs::Control::Hangup),
            Command::EndSession { session } => {
                shared.control_session(session, legs::Control::Hangup)
            }
            Command::Say { session, speech } => speech::say(shared, session, speech),
            Command::AdmitLine { line, session } => {
                shared.control_line(line, inbound::LineControl::Admit(session))
            }
            Command::RefuseLine { line } => shared.control_line(line, inbound::LineControl::Refuse),
        }
    }

    fn take_events(&self) -> Option<mpsc::UnboundedReceiver<Event>> {
        self.events.lock().ok()?.take()
    }

    fn media_stats(&self) -> Option<crate::media::MediaStats> {
        Some(self.shared.media.stats())
    }
}

impl Shared {
    pub(crate) fn emit(&self, event: Event) {
        // The engine stopped listening only when the node is shutting down.
        let _ = self.events.send(event);
    }

    /// A SIP URI for a number at the trunk: `sip:+442079460001@trunk.example.org`.
    pub(crate) fn trunk_uri(&self, user: &str) -> Uri {
        let trunk = &self.config.trunk;
        Uri {
            scheme: Some(rsipstack::sip::Scheme::Sip),
            auth: Some(rsipstack::sip::Auth {
                user: user.to_string(),
                password: None,
            }),
            host_with_port: host_with_port(&trunk.host, trunk.port),
            params: self.transport_params(),
            ..Default::default()
        }
    }

    /// `;transport=tcp` on this node's URIs when the trunk is reached over TCP.
    fn transport_params(&self) -> Vec<rsipstack::sip::Param> {
        match self.config.trunk.transport {
            SipTransport::Udp => Vec::new(),
            SipTransport::Tcp => vec![rsipstack::sip::Param::Transport(Transport::Tcp)],
        }
    }

    /// Where requests go: the outbound proxy, else the trunk.
    pub(crate) fn destination(&self) -> SipAddr {
        let trunk = &self.config.trunk;
        let (host, port) = self
            .config
            .outbound_proxy
            .clone()
            .unwrap_or_else(|| (trunk.host.clone(), trunk.port));
        let transport = match trunk.transport {
            SipTransport::Udp => Transport::Udp,
            SipTransport::Tcp => Transport::Tcp,
        };
        SipAddr::new(transport, host_with_port(&host, port))
    }

    /// This node's Contact.
    pub(crate) fn contact(&self) -> Uri {
        Uri {
            scheme: Some(rsipstack::sip::Scheme::Sip),
            auth: Some(rsipstack::sip::Auth {
                user: "barnstorm".to_string(),
                password: None,
            }),
            host_with_port: host_with_port(&self.config.advertised_ip().to_string(), self.sip_port),
            params: self.transport_params(),
            ..Default::default()
        }
    }

    pub(crate) fn credential(&self) -> Option<Credential> {
        let trunk = &self.config.trunk;
        Some(Credential {
            username: trunk.user.clone()?,
            password: trunk.password.clone()?,
            realm: None,
            auth_username: None,
        })
    }

    pub(crate) fn control_call(&self, call: CallKey, control: legs::Control) {
        let sender = self
            .calls
            .lock()
            .ok()
            .and_then(|calls| calls.get(&call).map(|(_, sender)| sender.clone()));
        match sender {
            Some(sender) => {
                let _ = sender.send(control);
            }
            None => tracing::debug!(call = call.0, "no such call on this node"),
        }
    }

    /// The caller of `session` left: their contact's call (if any) ends too.
    pub(crate) fn caller_left(&self, session: SessionKey, ending: crate::Ending) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(&session);
        }
        let calls: Vec<_> = self
            .calls
            .lock()
            .map(|calls| {
                calls
                    .values()
                    .filter(|(s, _)| *s == session)
                    .map(|(_, sender)| sender.clone())
                    .collect()
            })
            .unwrap_or_default();
        for call in calls {
            let _ = call.send(legs::Control::Hangup);
        }
        self.emit(Event::CallerLeft(session, ending));
    }

    pub(crate) fn control_session(&self, session: SessionKey, control: legs::Control) {
        let sender = self
            .sessions
            .lock()
            .ok()
            .and_then(|sessions| sessions.get(&session).map(|line| line.control.clone()));
        match sender {
            Some(sender) => {
                let _ = sender.send(control);
            }
            None => tracing::debug!(session = session.0, "no such session on this node"),
        }
    }

    fn control_line(&self, line: LineKey, control: inbound::LineControl) {
        if let Some(sender) = self
            .lines
            .lock()
            .ok()
            .and_then(|lines| lines.get(&line).cloned())
        {
            let _ = sender.send(control);
        }
    }

    /// The caller's audio leg, when their session is on this node.
    pub(crate) fn session_leg(&self, session: SessionKey) -> Option<Arc<Leg>> {
        self.sessions
            .lock()
            .ok()?
            .get(&session)
            .map(|line| line.media.clone())
    }

    pub(crate) fn next_line(&self) -> LineKey {
        LineKey(self.next_line.fetch_add(1, Ordering::Relaxed))
    }
}

pub(crate) fn host_with_port(host: &str, port: u16) -> HostWithPort {
    HostWithPort::try_from(format!("{host}:{port}").as_str()).unwrap_or_else(|_| HostWithPort {
        host: rsipstack::sip::Host::Domain(host.to_string().into()),
        port: Some(port.into()),
    })
}

/// Routes every request from the network: in-dialog requests to their dialog, new INVITEs
/// to the dial-in line (when the campaign has a number), OPTIONS answered, the rest refused.
async fn serve_incoming(shared: Arc<Shared>, mut incoming: TransactionReceiver) {
    while let Some(mut tx) = incoming.recv().await {
        if let Some(mut dialog) = shared.dialogs.match_dialog(&tx) {
            tokio::spawn(async move {
                if let Err(error) = dialog.handle(&mut tx).await {
                    tracing::debug!(%error, "in-dialog request failed");
                }
            });
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            let reply = match tx.original.method {
                Method::Invite if shared.config.dial_in_number.is_some() => {
                    inbound::answer(shared, tx).await;
                    return;
                }
                Method::Invite => StatusCode::Forbidden,
                Method::Options => StatusCode::OK,
                Method::Ack => return,
                Method::Bye | Method::Cancel | Method::Info | Method::Update => {
                    StatusCode::CallTransactionDoesNotExist
                }
                _ => StatusCode::MethodNotAllowed,
            };
            if let Err(error) = tx.reply(reply).await {
                tracing::debug!(%error, "could not answer a request");
            }
        });
    }
}

/// Registers with the trunk and keeps the registration fresh, backing off on failure.
async fn keep_registered(shared: Arc<Shared>, stop: CancellationToken) {
    let mut registration = Registration::new(shared.endpoint.clone(), shared.credential());
    let server = shared.trunk_uri("").host_with_port;
    let server = Uri {
        scheme: Some(rsipstack::sip::Scheme::Sip),
        host_with_port: server,
        ..Default::default()
    };
    let mut failures = 0;
    loop {
        let wait = match registration.register(server.clone(), None).await {
            Ok(response)
                if response.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful =>
            {
                failures = 0;
                tracing::info!(trunk = %shared.config.trunk, "registered with the trunk");
                rsipstack::dialog::registration::refresh_interval(registration.expires())
            }
            Ok(response) => {
                failures += 1;
                tracing::error!(trunk = %shared.config.trunk, status = response.status_code.code(), "the trunk refused registration");
                rsipstack::dialog::registration::backoff_interval(failures)
            }
            Err(error) => {
                failures += 1;
                tracing::error!(trunk = %shared.config.trunk, %error, "could not register with the trunk");
                rsipstack::dialog::registration::backoff_interval(failures)
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
