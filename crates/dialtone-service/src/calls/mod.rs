//! One-to-one calls (`docs/api/calls.md`): who may call whom, the call's state (ringing,
//! taken by one device of the callee, over), the signalling between the two devices, and
//! the record each call leaves in its conversation.
//!
//! A call's state is in the store ([`CallRepo`]), each move one conditional statement,
//! so devices on any node race fairly: the first `call_accept` takes the call, exactly
//! one end writes the record. Frames go to devices through the bus
//! ([`Event::CallFrame`], aimed at sessions), so a callee's devices ring on whatever node
//! they are connected to. The node a call started on runs its timers (no answer within
//! the ring timeout; a device that went away) and re-decides it when either side's
//! privacy changes.
//!
//! Privacy: whether the caller may reach the callee is the messages' rule
//! (`SocialService::audience` with `Flow::Message`), decided when the call starts. A call
//! that may not reach its callee goes on for its caller exactly as a call to someone with
//! no connected device (`call_started`, then `no_answer`): nothing rings, it never makes
//! the callee busy, and its record is withheld from the callee.

mod conference;
mod ice;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use dialtone_bus::{CallTarget, ConferenceCommand, Event, EventBus};
use dialtone_core::privacy::Flow;
use dialtone_core::{Clock, ConversationId, ConversationKind, PhoneNumber, UserId};
use dialtone_protocol::{
    Call, CallAddFrame, CallEndReason, CallJoinFrame, CallLayerFrame, CallMedia, CallMediaFrame,
    CallOutcome, CallSignalFrame, CallStartFrame, CallSummary, IceServers, ServerFrame,
};
use dialtone_store::{CallRecord, CallState, Store, UserRecord};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use ice::{ice_servers, turn_password};

use crate::crypto::new_id;
use crate::messaging::MessagingService;
use crate::notify::NotifyService;
use crate::social::SocialService;
use crate::{ServiceError, ServiceResult};

/// Longest `client_id` of a `call_start`.
const MAX_CLIENT_ID_CHARS: usize = 64;

/// Calls: timers, ICE servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallsConfig {
    /// Seconds a call rings before it ends as `no_answer`.
    pub ring_timeout_secs: u64,
    /// Seconds a device of a call may be gone (no live connection on this node) before
    /// its call ends.
    pub reconnect_grace_secs: u64,
    /// STUN URLs given to clients (`stun:host:port`); empty: none.
    pub stun_urls: Vec<String>,
    /// TURN URLs given to clients (`turn:host:3478?transport=udp`, `turns:...`); used
    /// only with `turn_secret`.
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN servers (coturn `static-auth-secret`); unset: no
    /// TURN (calls still work on open networks).
    pub turn_secret: Option<String>,
    /// Lifetime of the TURN credentials given out, in seconds.
    pub turn_ttl_secs: u64,
    /// The SFU's one UDP socket (group calls' media), e.g. `0.0.0.0:3479`.
    pub sfu_bind: std::net::SocketAddr,
    /// The address clients reach the SFU at (its ICE candidate); unset: the bound
    /// address, or 127.0.0.1 when bound to every interface.
    pub sfu_public_ip: Option<std::net::IpAddr>,
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self {
            ring_timeout_secs: 45,
            reconnect_grace_secs: 20,
            stun_urls: Vec::new(),
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_ttl_secs: 3600,
            sfu_bind: std::net::SocketAddr::from(([0, 0, 0, 0], 3479)),
            sfu_public_ip: None,
        }
    }
}

/// What the call service works with.
pub struct CallDeps {
    /// Calls, accounts.
    pub store: Store,
    /// The privacy policy's one door.
    pub social: Arc<SocialService>,
    /// Where call records are written.
    pub messaging: Arc<MessagingService>,
    /// Where frames go out.
    pub bus: Arc<dyn EventBus>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Timers and ICE servers.
    pub config: CallsConfig,
    /// This process's id among the nodes (the hub's).
    pub node_id: String,
    /// This node's SFU, for group calls (none: group calls are refused).
    pub sfu: Option<dialtone_sfu::Sfu>,
}

/// Calls.
pub struct CallService {
    deps: CallDeps,
    /// Timers (ring timeouts, devices gone), cancelled at stop.
    timers: TaskTracker,
    stopping: CancellationToken,
    /// Live connections on this node per device (session id).
    devices: Mutex<HashMap<String, usize>>,
    /// The conferences this node runs, by call id.
    rooms: Mutex<HashMap<String, conference::Room>>,
    /// Wakes the callee's devices that are not connected (Web Push), once attached.
    notify: std::sync::OnceLock<Arc<NotifyService>>,
}

impl CallService {
    /// Builds the service.
    pub fn new(deps: CallDeps) -> Self {
        Self {
            deps,
            timers: TaskTracker::new(),
            stopping: CancellationToken::new(),
            devices: Mutex::new(HashMap::new()),
            rooms: Mutex::new(HashMap::new()),
            notify: std::sync::OnceLock::new(),
        }
    }

    /// Pushes ringing calls to the callee's devices that are not connected.
    pub fn attach_notify(&self, notify: Arc<NotifyService>) {
        let _ = self.notify.set(notify);
    }

    /// Starts taking this node's SFU events (offers to pass on, who speaks, devices
    /// gone), until the service stops.
    pub fn listen_to_sfu(self: &Arc<Self>) {
        let Some(mut events) = self.deps.sfu.as_ref().and_then(|sfu| sfu.events()) else {
            return;
        };
        let this = self.clone();
        self.timers.spawn(async move {
            loop {
                tokio::select! {
                    () = this.stopping.cancelled() => break,
                    event = events.recv() => match event {
                        Some(event) => this.sfu_event(event).await,
                        None => break,
                    },
                }
            }
        });
    }

    /// Ends the timers (server stop). Calls that were ringing stay so in the store and are
    /// not counted as busy once their ring time has passed.
    pub async fn stop(&self) {
        self.stopping.cancel();
        self.timers.close();
        self.timers.wait().await;
        if let Some(sfu) = &self.deps.sfu {
            sfu.stop().await;
        }
    }

    /// The ICE servers `user` may use now.
    pub fn ice_servers(&self, user: &UserRecord) -> IceServers {
        ice_servers(&self.deps.config, &user.id, self.deps.clock.now())
    }

    fn now(&self) -> DateTime<Utc> {
        self.deps.clock.now()
    }

    fn ring_timeout(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.deps.config.ring_timeout_secs.min(3600) as i64)
    }

    /// Starts a call from `user`'s device `session` in a conversation: the call as the
    /// caller sees it (`call_started`). The callee's devices ring if the caller may reach
    /// them and they are not in another call (else the call ends `busy` at once).
    pub async fn start(
        self: &Arc<Self>,
        user: &UserRecord,
        session: &str,
        frame: &CallStartFrame,
    ) -> ServiceResult<Arc<Call>> {
        let id_len = frame.client_id.chars().count();
        if id_len == 0 || id_len > MAX_CLIENT_ID_CHARS {
            return Err(ServiceError::InvalidInput(format!(
                "client_id has 1 to {MAX_CLIENT_ID_CHARS} characters"
            )));
        }
        let conversation_id = ConversationId::from(frame.conversation_id.as_str());
        let messaging = &self.deps.messaging;
        let roster = messaging.roster(user, &conversation_id).await?;
        let conversation = messaging.conversation_record(&conversation_id).await?;
        if conversation.kind == ConversationKind::Group {
            return self
                .start_conference(
                    user,
                    session,
                    &conversation_id,
                    frame.media,
                    &roster.members,
                    &[],
                )
                .await;
        }
        let callee = roster
            .members
            .iter()
            .find(|m| m.id != user.id)
            .cloned()
            .ok_or(ServiceError::ConversationNotFound)?;
        let reaches = self.reaches(user, &callee).await?;
        let now = self.now();
        let record = CallRecord {
            id: new_id(),
            conversation_id: conversation_id.to_string(),
            caller_id: user.id.to_string(),
            caller_session: session.to_owned(),
            callee_id: callee.id.to_string(),
            callee_session: None,
            media: frame.media.as_str().to_owned(),
            state: CallState::Ringing,
            reaches,
            conference: false,
            node_id: self.deps.node_id.clone(),
            started_at: now,
            answered_at: None,
            ended_at: None,
            end_reason: None,
        };
        let busy = reaches && self.in_a_call(&callee.id, now).await?;
        self.deps.store.calls.create_call(&record).await?;
        let call = Arc::new(call_of(&record, user, &callee));
        if busy {
            // After the caller's `call_started` (the answer this returns), which the
            // caller's device is sent first.
            let this = self.clone();
            let id = record.id.clone();
            self.timers.spawn(async move {
                tokio::task::yield_now().await;
                this.end(&id, CallEndReason::Busy, None).await;
            });
        } else {
            if reaches {
                self.send(
                    vec![CallTarget::all(callee.id.clone())],
                    ServerFrame::Call { call: call.clone() },
                )
                .await;
                if let Some(notify) = self.notify.get() {
                    let ring = u32::try_from(self.deps.config.ring_timeout_secs).unwrap_or(60);
                    notify.call_ringing(
                        &record.id,
                        &conversation_id,
                        user,
                        &callee.id,
                        frame.media,
                        ring,
                    );
                }
            }
            self.ring_timer(record.id.clone());
        }
        Ok(call)
    }

    /// Ends the call as `no_answer` when the ring time is up and nobody took it.
    fn ring_timer(self: &Arc<Self>, call_id: String) {
        let this = self.clone();
        let wait = Duration::from_secs(self.deps.config.ring_timeout_secs.min(3600));
        self.timers.spawn(async move {
            tokio::select! {
                () = this.stopping.cancelled() => {}
                () = tokio::time::sleep(wait) => {
                    match this.deps.store.calls.call(&call_id).await {
                        Ok(Some(c)) if c.state == CallState::Ringing => {
                            this.end(&call_id, CallEndReason::NoAnswer, None).await;
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, %call_id, "ring timeout not checked"),
                    }
                }
            }
        });
    }

    /// Whether the caller may reach the callee (the callee's lists, hidden entries,
    /// allow-only mode: the rule of messages).
    async fn reaches(&self, from: &UserRecord, to: &UserRecord) -> ServiceResult<bool> {
        let views = self
            .deps
            .social
            .audience(from, std::slice::from_ref(to), Flow::Message, true)
            .await?;
        Ok(views.get(&to.id).is_some_and(|v| v.visible))
    }

    /// Whether a user is in a call others can see: one they take part in, or one ringing
    /// them (within its ring time). A call that does not reach its callee never counts
    /// for the callee.
    async fn in_a_call(&self, user_id: &str, now: DateTime<Utc>) -> ServiceResult<bool> {
        let stale = now - self.ring_timeout() - chrono::Duration::seconds(10);
        Ok(self
            .deps
            .store
            .calls
            .live_calls(user_id)
            .await?
            .iter()
            .any(|c| {
                !c.conference
                    && (c.caller_id == user_id || c.reaches)
                    && (c.state == CallState::Active || c.started_at > stale)
            }))
    }

    /// The call `call_id` if `user` is a party of it, with its parties.
    async fn party(
        &self,
        user: &UserRecord,
        call_id: &str,
    ) -> ServiceResult<(CallRecord, UserRecord, UserRecord)> {
        if call_id.len() > MAX_CLIENT_ID_CHARS {
            return Err(ServiceError::CallNotFound);
        }
        let call = self
            .deps
            .store
            .calls
            .call(call_id)
            .await?
            .filter(|c| c.state != CallState::Ended)
            .filter(|c| c.caller_id == *user.id || (c.callee_id == *user.id && c.reaches))
            .ok_or(ServiceError::CallNotFound)?;
        let (caller, callee) = self.parties(&call).await?;
        Ok((call, caller, callee))
    }

    async fn parties(&self, call: &CallRecord) -> ServiceResult<(UserRecord, UserRecord)> {
        let social = &self.deps.social;
        let caller = social.user_by_id(&call.caller_id).await?;
        let callee = social.user_by_id(&call.callee_id).await?;
        caller.zip(callee).ok_or(ServiceError::CallNotFound)
    }

    /// The callee's device `session` takes a ringing call: `call_accepted` to it and to
    /// the caller's device, the callee's other devices stop ringing.
    pub async fn accept(
        &self,
        user: &UserRecord,
        session: &str,
        call_id: &str,
    ) -> ServiceResult<()> {
        let (call, caller, callee) = self.party(user, call_id).await?;
        if call.callee_id != *user.id || call.state != CallState::Ringing {
            return Err(ServiceError::CallNotFound);
        }
        let taken = self
            .deps
            .store
            .calls
            .accept_call(call_id, session, self.now())
            .await?
            .ok_or(ServiceError::CallNotFound)?;
        if let Some(notify) = self.notify.get() {
            notify.call_stopped(call_id);
        }
        let frame = ServerFrame::CallAccepted {
            call: Arc::new(call_of(&taken, &caller, &callee)),
        };
        self.send(
            vec![
                CallTarget::device(caller.id.clone(), taken.caller_session.clone()),
                CallTarget::device(callee.id.clone(), session.to_owned()),
            ],
            frame,
        )
        .await;
        self.send(
            vec![CallTarget::all_but(callee.id.clone(), session.to_owned())],
            ServerFrame::CallEnded {
                call_id: call_id.to_owned(),
                reason: CallEndReason::AnsweredElsewhere,
                duration_ms: None,
                moved_to: None,
            },
        )
        .await;
        Ok(())
    }

    /// The callee declines a call ringing on their device `session`.
    pub async fn decline(
        &self,
        user: &UserRecord,
        session: &str,
        call_id: &str,
    ) -> ServiceResult<()> {
        let (call, _, _) = self.party(user, call_id).await?;
        if call.callee_id != *user.id || call.state != CallState::Ringing {
            return Err(ServiceError::CallNotFound);
        }
        if self
            .end(call_id, CallEndReason::Declined, Some(session))
            .await
        {
            Ok(())
        } else {
            Err(ServiceError::CallNotFound)
        }
    }

    /// A party ends the call from its device `session`: the caller cancels one that
    /// rings, either side hangs up one that was taken (a ringing callee declines).
    pub async fn hangup(
        &self,
        user: &UserRecord,
        session: &str,
        call_id: &str,
    ) -> ServiceResult<()> {
        if let Some(call) = self.conference(call_id).await? {
            return self
                .conference_command(user, session, &call, ConferenceCommand::Leave)
                .await;
        }
        let (call, _, _) = self.party(user, call_id).await?;
        let reason = match call.state {
            CallState::Ringing if call.caller_session == session => CallEndReason::Cancelled,
            CallState::Ringing if call.callee_id == *user.id => CallEndReason::Declined,
            CallState::Active if is_device_of(&call, session) => CallEndReason::HungUp,
            _ => return Err(ServiceError::CallNotFound),
        };
        if self.end(call_id, reason, Some(session)).await {
            Ok(())
        } else {
            Err(ServiceError::CallNotFound)
        }
    }

    /// Relays an offer, answer or candidate from one device of a taken call to the other.
    pub async fn signal(
        &self,
        user: &UserRecord,
        session: &str,
        frame: CallSignalFrame,
    ) -> ServiceResult<()> {
        frame
            .check()
            .map_err(|why| ServiceError::InvalidInput(why.to_owned()))?;
        if let Some(call) = self.conference(&frame.call_id).await? {
            let command = match (frame.kind, frame.sdp) {
                (dialtone_protocol::SignalKind::Answer, Some(sdp)) => {
                    ConferenceCommand::Answer { sdp }
                }
                // The SFU is reached at the address of its answer: the device's
                // candidates are not needed.
                (dialtone_protocol::SignalKind::Candidate, _) => return Ok(()),
                _ => {
                    return Err(ServiceError::InvalidInput(
                        "in a group call the server makes the offers: join with call_join".into(),
                    ));
                }
            };
            return self.conference_command(user, session, &call, command).await;
        }
        let (call, caller, callee) = self.party(user, &frame.call_id).await?;
        if call.state != CallState::Active || !is_device_of(&call, session) {
            return Err(ServiceError::CallNotFound);
        }
        let to = if call.caller_session == session && caller.id == user.id {
            CallTarget::device(callee.id, call.callee_session.clone().unwrap_or_default())
        } else {
            CallTarget::device(caller.id, call.caller_session.clone())
        };
        self.send(vec![to], ServerFrame::CallSignal(frame)).await;
        Ok(())
    }

    /// A party of a taken one-to-one call adds people: a new group (the two parties and
    /// those added whom the adder may reach, as any new group), its group call started
    /// (ringing those added), and the one-to-one call ended as `moved` with that call,
    /// which both devices join.
    pub async fn add(
        self: &Arc<Self>,
        user: &UserRecord,
        session: &str,
        frame: CallAddFrame,
    ) -> ServiceResult<()> {
        if frame.phones.is_empty() || frame.phones.len() > 48 {
            return Err(ServiceError::InvalidInput("add 1 to 48 people".into()));
        }
        let mut added = Vec::with_capacity(frame.phones.len());
        for phone in &frame.phones {
            added.push(PhoneNumber::parse_e164(phone).map_err(|_| {
                ServiceError::InvalidInput(format!("{phone:?} is not an E.164 number"))
            })?);
        }
        let (call, caller, callee) = self.party(user, &frame.call_id).await?;
        if call.state != CallState::Active || !is_device_of(&call, session) {
            return Err(ServiceError::CallNotFound);
        }
        let other = if caller.id == user.id {
            &callee
        } else {
            &caller
        };
        let mut phones = vec![other.phone.clone()];
        phones.extend(
            added
                .into_iter()
                .filter(|p| *p != user.phone && *p != other.phone),
        );
        let name = match frame
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(name) => name.to_owned(),
            None => std::iter::once(&user.phone)
                .chain(phones.iter())
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
                .chars()
                .take(100)
                .collect(),
        };
        let group = self
            .deps
            .messaging
            .create_group(user, &name, &phones)
            .await?;
        let conversation_id = group.record.id.clone();
        let roster = self.deps.messaging.roster(user, &conversation_id).await?;
        let conference = self
            .start_conference(
                user,
                session,
                &conversation_id,
                media_of(&call),
                &roster.members,
                std::slice::from_ref(&other.id),
            )
            .await?;
        // The one-to-one call is over: both devices move to the group call.
        if !self
            .end_into(
                &call.id,
                CallEndReason::Moved,
                Some(session),
                Some(conference),
            )
            .await
        {
            return Err(ServiceError::CallNotFound);
        }
        Ok(())
    }

    /// The conference `call_id`, if it is one and is going on.
    async fn conference(&self, call_id: &str) -> ServiceResult<Option<CallRecord>> {
        if call_id.len() > MAX_CLIENT_ID_CHARS {
            return Ok(None);
        }
        Ok(self
            .deps
            .store
            .calls
            .call(call_id)
            .await?
            .filter(|c| c.conference && c.state != CallState::Ended))
    }

    /// A member's device joins a group call with its SDP offer; the SFU's answer comes
    /// as `call_signal`.
    pub async fn join(
        &self,
        user: &UserRecord,
        session: &str,
        frame: CallJoinFrame,
    ) -> ServiceResult<()> {
        let probe = CallSignalFrame {
            call_id: frame.call_id.clone(),
            kind: dialtone_protocol::SignalKind::Offer,
            sdp: Some(frame.sdp),
            candidate: None,
        };
        probe
            .check()
            .map_err(|why| ServiceError::InvalidInput(why.to_owned()))?;
        let call = self
            .conference(&frame.call_id)
            .await?
            .ok_or(ServiceError::CallNotFound)?;
        let sdp = probe.sdp.unwrap_or_default();
        self.conference_command(user, session, &call, ConferenceCommand::Join { sdp })
            .await
    }

    /// Microphone and camera of a device in a group call.
    pub async fn media(
        &self,
        user: &UserRecord,
        session: &str,
        frame: CallMediaFrame,
    ) -> ServiceResult<()> {
        let call = self
            .conference(&frame.call_id)
            .await?
            .ok_or(ServiceError::CallNotFound)?;
        let command = ConferenceCommand::Media {
            audio: frame.audio,
            video: frame.video,
        };
        self.conference_command(user, session, &call, command).await
    }

    /// The video layer a device wants of a member in a group call.
    pub async fn layer(
        &self,
        user: &UserRecord,
        session: &str,
        frame: CallLayerFrame,
    ) -> ServiceResult<()> {
        let call = self
            .conference(&frame.call_id)
            .await?
            .ok_or(ServiceError::CallNotFound)?;
        if frame.phone.len() > 32 {
            return Err(ServiceError::InvalidInput(
                "phone is an E.164 number".into(),
            ));
        }
        let command = ConferenceCommand::Layer {
            phone: frame.phone,
            layer: frame.layer,
        };
        self.conference_command(user, session, &call, command).await
    }

    /// The `call` frames of the calls ringing for `user` now: a device that connects while
    /// a call rings rings too.
    pub async fn ringing_for(&self, user: &UserRecord) -> ServiceResult<Vec<ServerFrame>> {
        let now = self.now();
        let mut frames = Vec::new();
        for call in self.deps.store.calls.live_calls(&user.id).await? {
            if call.conference
                || call.callee_id != *user.id
                || call.state != CallState::Ringing
                || !call.reaches
                || call.started_at + self.ring_timeout() < now
            {
                continue;
            }
            let (caller, callee) = self.parties(&call).await?;
            frames.push(ServerFrame::Call {
                call: Arc::new(call_of(&call, &caller, &callee)),
            });
        }
        Ok(frames)
    }

    /// A user's privacy settings, lists or address book changed: each of their calls
    /// that this node runs is decided again. A ringing call that may no longer reach its
    /// callee stops ringing (its caller goes on calling, as if nobody were there); a taken
    /// call where either side no longer lets the other reach them ends (`hung_up`).
    pub async fn recheck(&self, user_id: &UserId) -> ServiceResult<()> {
        self.recheck_conferences(user_id).await;
        let calls = self.deps.store.calls.live_calls(user_id).await?;
        for call in calls
            .into_iter()
            .filter(|c| c.node_id == self.deps.node_id && !c.conference)
        {
            let (caller, callee) = self.parties(&call).await?;
            match call.state {
                CallState::Ringing if call.reaches => {
                    if !self.reaches(&caller, &callee).await?
                        && self.deps.store.calls.silence_call(&call.id).await?
                    {
                        if let Some(notify) = self.notify.get() {
                            notify.call_stopped(&call.id);
                        }
                        self.send(
                            vec![CallTarget::all(callee.id.clone())],
                            ServerFrame::CallEnded {
                                call_id: call.id.clone(),
                                reason: CallEndReason::Cancelled,
                                duration_ms: None,
                                moved_to: None,
                            },
                        )
                        .await;
                    }
                }
                CallState::Active => {
                    if !self.reaches(&caller, &callee).await?
                        || !self.reaches(&callee, &caller).await?
                    {
                        self.end(&call.id, CallEndReason::HungUp, None).await;
                    }
                }
                CallState::Ringing | CallState::Ended => {}
            }
        }
        Ok(())
    }

    /// A live connection of device `session` opened on this node.
    pub fn device_connected(&self, session: &str) {
        let mut devices = self.devices.lock().unwrap_or_else(|e| e.into_inner());
        *devices.entry(session.to_owned()).or_default() += 1;
    }

    /// A live connection of `user`'s device `session` closed on this node. If the device
    /// has no connection here after the grace time, its calls end (a caller's ringing
    /// call is cancelled, a taken call hung up).
    pub fn device_disconnected(self: &Arc<Self>, user: &UserRecord, session: &str) {
        {
            let mut devices = self.devices.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = devices.get_mut(session) {
                *n = n.saturating_sub(1);
                if *n > 0 {
                    return;
                }
                devices.remove(session);
            }
        }
        let this = self.clone();
        let user_id = user.id.clone();
        let session = session.to_owned();
        let grace = Duration::from_secs(self.deps.config.reconnect_grace_secs.min(3600));
        self.timers.spawn(async move {
            // Most devices that go are in no call: nothing waits for them.
            if this.calls_left_by(&user_id, &session).await.is_empty() {
                return;
            }
            tokio::select! {
                () = this.stopping.cancelled() => {}
                () = tokio::time::sleep(grace) => this.device_gone(&user_id, &session).await,
            }
        });
    }

    async fn device_gone(&self, user_id: &UserId, session: &str) {
        if self
            .devices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(session)
        {
            return;
        }
        for (call_id, reason) in self.calls_left_by(user_id, session).await {
            self.end(&call_id, reason, Some(session)).await;
        }
    }

    /// The one-to-one calls the device `session` of a user would end by going, and how:
    /// the caller's ringing call is cancelled, a taken call hung up.
    async fn calls_left_by(&self, user_id: &UserId, session: &str) -> Vec<(String, CallEndReason)> {
        let calls = match self.deps.store.calls.live_calls(user_id).await {
            Ok(calls) => calls,
            Err(e) => {
                tracing::warn!(error = %e, "calls of a device gone not read");
                return Vec::new();
            }
        };
        calls
            .into_iter()
            .filter(|c| !c.conference)
            .filter_map(|call| {
                let reason = match call.state {
                    CallState::Ringing if call.caller_session == session => {
                        CallEndReason::Cancelled
                    }
                    CallState::Active if is_device_of(&call, session) => CallEndReason::HungUp,
                    _ => return None,
                };
                Some((call.id, reason))
            })
            .collect()
    }

    /// Ends a call for `reason` (by the device `by`, when a device did it): tells each
    /// device what it needs to hear and writes the call's record. Whether this ended it
    /// (false: it was over already).
    async fn end(&self, call_id: &str, reason: CallEndReason, by: Option<&str>) -> bool {
        self.end_into(call_id, reason, by, None).await
    }

    /// [`Self::end`], telling the devices of a call that goes on as a group call
    /// (`moved`) which call that is.
    async fn end_into(
        &self,
        call_id: &str,
        reason: CallEndReason,
        by: Option<&str>,
        moved_to: Option<Arc<Call>>,
    ) -> bool {
        let now = self.now();
        let before = match self
            .deps
            .store
            .calls
            .end_call(call_id, reason.as_str(), now)
            .await
        {
            Ok(Some(before)) => before,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(error = %e, %call_id, "call not ended");
                return false;
            }
        };
        if before.state == CallState::Ringing
            && let Some(notify) = self.notify.get()
        {
            notify.call_stopped(call_id);
        }
        let duration_ms = before
            .answered_at
            .filter(|_| reason.outcome() == CallOutcome::Answered)
            .map(|at| millis_between(at, now));
        let ended = |reason| ServerFrame::CallEnded {
            call_id: call_id.to_owned(),
            reason,
            duration_ms,
            moved_to: moved_to.clone(),
        };
        let caller = UserId::from(before.caller_id.as_str());
        let callee = UserId::from(before.callee_id.as_str());
        let caller_device = CallTarget::device(caller.clone(), before.caller_session.clone());
        match (before.state, reason) {
            (CallState::Active, _) => {
                let callee_device = before.callee_session.clone().unwrap_or_default();
                self.send(
                    vec![caller_device, CallTarget::device(callee, callee_device)],
                    ended(reason),
                )
                .await;
            }
            (_, CallEndReason::Declined) => {
                let by = by.unwrap_or_default().to_owned();
                self.send(
                    vec![
                        caller_device,
                        CallTarget::device(callee.clone(), by.clone()),
                    ],
                    ended(reason),
                )
                .await;
                self.send(
                    vec![CallTarget::all_but(callee, by)],
                    ended(CallEndReason::DeclinedElsewhere),
                )
                .await;
            }
            // Busy: the callee's devices never rang.
            (_, CallEndReason::Busy) => self.send(vec![caller_device], ended(reason)).await,
            _ => {
                let mut to = vec![caller_device];
                if before.reaches {
                    to.push(CallTarget::all(callee));
                }
                self.send(to, ended(reason)).await;
            }
        }
        self.write_record(&before, reason, duration_ms).await;
        true
    }

    /// The call's line in its conversation, by the caller (withheld from a callee the
    /// caller may not reach, as any message).
    async fn write_record(&self, call: &CallRecord, reason: CallEndReason, duration: Option<u64>) {
        let caller = match self.deps.social.user_by_id(&call.caller_id).await {
            Ok(Some(caller)) => caller,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e.report(), call_id = %call.id, "call record not written");
                return;
            }
        };
        let summary = CallSummary {
            media: media_of(call),
            outcome: reason.outcome(),
            duration_ms: duration,
        };
        self.deps
            .messaging
            .post_call(
                &caller,
                &ConversationId::from(call.conversation_id.as_str()),
                &summary,
            )
            .await;
    }

    async fn send(&self, to: Vec<CallTarget>, frame: ServerFrame) {
        let event = Event::CallFrame {
            to,
            frame: Arc::new(frame),
        };
        if let Err(e) = self.deps.bus.publish(event).await {
            tracing::warn!(error = %e, "call frame not published");
        }
    }
}

/// Whether `session` is one of the call's two devices.
fn is_device_of(call: &CallRecord, session: &str) -> bool {
    call.caller_session == session || call.callee_session.as_deref() == Some(session)
}

/// The call as the contract shows it.
fn call_of(record: &CallRecord, caller: &UserRecord, callee: &UserRecord) -> Call {
    Call {
        id: record.id.clone(),
        conversation_id: record.conversation_id.clone(),
        media: media_of(record),
        group: false,
        caller: caller.phone.to_string(),
        callee: Some(callee.phone.to_string()),
        started_at: record
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    }
}

/// A stored call's media (the service wrote it; an unknown word reads as voice).
pub(super) fn media_of(record: &CallRecord) -> CallMedia {
    CallMedia::parse(&record.media).unwrap_or(CallMedia::Voice)
}

/// Milliseconds from `from` to `to` (0 if `to` is earlier).
pub(super) fn millis_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_milliseconds()).unwrap_or(0)
}
