//! Group calls: a conference of a group conversation, its media through this node's SFU
//! (`dialtone-sfu`, one room per call, one participant per device).
//!
//! A conference lives on the node it started on (`CallRecord::node_id`): that node keeps
//! its participants in memory and owns its SFU room. What a member's device does (join,
//! answer the SFU's offers, microphone and camera, the video layer it wants, leave) goes
//! to that node as a [`ConferenceCommand`] on the bus, from whatever node the device is
//! connected to; what comes back (the SFU's answer and offers, errors, the member list,
//! who speaks, the end) goes to devices as call frames. The device's media goes straight
//! to the running node's SFU (the address in its answer).
//!
//! Privacy: the call rings only members the caller may reach, and inside the room nothing
//! of a member reaches another who does not accept them (`Sfu::exclude`, decided by the
//! messages' rule from the recipient's side, when either joins and when either side's
//! privacy changes).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use dialtone_bus::{CallTarget, ConferenceCommand, Event};
use dialtone_core::{ConversationId, UserId};
use dialtone_protocol::{
    CallEndReason, CallLevel, CallMedia, CallMember, CallSignalFrame, ErrorCode, ServerFrame,
    SignalKind, VideoLayer,
};
use dialtone_sfu::{Layer, SfuEvent};
use dialtone_store::{CallRecord, UserRecord};

use super::CallService;
use crate::ServiceError;

/// A conference this node runs.
pub(super) struct Room {
    pub conversation_id: ConversationId,
    pub media: CallMedia,
    pub caller_id: UserId,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Who is in it, by device (session id).
    pub participants: BTreeMap<String, Participant>,
    /// Who took part.
    pub joined: HashSet<UserId>,
    /// (subscriber, publisher) SFU names: nothing of the publisher reaches the subscriber.
    pub excluded: HashSet<(String, String)>,
}

/// A device in a conference.
#[derive(Clone)]
pub(super) struct Participant {
    pub user: UserRecord,
    /// Its name in the SFU room, which is also the id of its media streams as others
    /// receive them (`call_members` says whose it is): random, so it tells nothing of the
    /// device.
    pub stream: String,
    pub audio: bool,
    pub video: bool,
}

impl Room {
    /// The device (session id) whose SFU name is `stream`.
    fn session_of(&self, stream: &str) -> Option<&str> {
        self.participants
            .iter()
            .find(|(_, p)| p.stream == stream)
            .map(|(s, _)| s.as_str())
    }

    /// The SFU name of a device.
    fn stream_of(&self, session: &str) -> Option<String> {
        self.participants.get(session).map(|p| p.stream.clone())
    }
}

impl CallService {
    /// Starts the conference of a group (or gives the one going on): the `call` rings the
    /// members the caller may reach.
    pub(super) async fn start_conference(
        self: &Arc<Self>,
        user: &UserRecord,
        session: &str,
        conversation_id: &ConversationId,
        media: CallMedia,
        members: &[UserRecord],
        not_rung: &[UserId],
    ) -> Result<Arc<dialtone_protocol::Call>, ServiceError> {
        if self.deps.sfu.is_none() {
            return Err(ServiceError::InvalidInput(
                "group calls are not available on this server".into(),
            ));
        }
        if let Some(going) = self
            .deps
            .store
            .calls
            .live_conference(conversation_id)
            .await?
        {
            let caller = self
                .deps
                .social
                .user_by_id(&going.caller_id)
                .await?
                .ok_or(ServiceError::CallNotFound)?;
            return Ok(Arc::new(conference_of(&going, &caller)));
        }
        let now = self.now();
        let record = CallRecord {
            id: crate::crypto::new_id(),
            conversation_id: conversation_id.to_string(),
            caller_id: user.id.to_string(),
            caller_session: session.to_owned(),
            callee_id: String::new(),
            callee_session: None,
            media: media.as_str().to_owned(),
            state: dialtone_store::CallState::Active,
            reaches: true,
            conference: true,
            node_id: self.deps.node_id.clone(),
            started_at: now,
            answered_at: Some(now),
            ended_at: None,
            end_reason: None,
        };
        self.deps.store.calls.create_call(&record).await?;
        self.rooms().insert(
            record.id.clone(),
            Room {
                conversation_id: conversation_id.clone(),
                media,
                caller_id: user.id.clone(),
                started_at: now,
                participants: BTreeMap::new(),
                joined: HashSet::new(),
                excluded: HashSet::new(),
            },
        );
        let call = Arc::new(conference_of(&record, user));
        let others: Vec<UserRecord> = members
            .iter()
            .filter(|m| m.id != user.id && !not_rung.contains(&m.id))
            .cloned()
            .collect();
        let views = self
            .deps
            .social
            .audience(user, &others, dialtone_core::privacy::Flow::Message, true)
            .await?;
        let rung: Vec<CallTarget> = others
            .iter()
            .filter(|m| views.get(&m.id).is_some_and(|v| v.visible))
            .map(|m| CallTarget::all(m.id.clone()))
            .collect();
        self.send(rung, ServerFrame::Call { call: call.clone() })
            .await;
        self.empty_room_timer(record.id.clone());
        Ok(call)
    }

    /// Ends a conference nobody is in once the ring time is up.
    fn empty_room_timer(self: &Arc<Self>, call_id: String) {
        let this = self.clone();
        let wait = std::time::Duration::from_secs(self.deps.config.ring_timeout_secs.min(3600));
        self.timers.spawn(async move {
            tokio::select! {
                () = this.stopping.cancelled() => {}
                () = tokio::time::sleep(wait) => {
                    let empty = this
                        .rooms()
                        .get(&call_id)
                        .is_some_and(|r| r.participants.is_empty());
                    if empty {
                        this.end_conference(&call_id).await;
                    }
                }
            }
        });
    }

    pub(super) fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A member's device does something in a conference: checked here (a member of the
    /// group, the call going on), then carried out by the node that runs it.
    pub(super) async fn conference_command(
        &self,
        user: &UserRecord,
        session: &str,
        call: &CallRecord,
        command: ConferenceCommand,
    ) -> Result<(), ServiceError> {
        let conversation_id = ConversationId::from(call.conversation_id.as_str());
        // A member of the group (the roster is the messages' own check).
        self.deps
            .messaging
            .roster(user, &conversation_id)
            .await
            .map_err(|e| match e {
                ServiceError::ConversationNotFound => ServiceError::CallNotFound,
                e => e,
            })?;
        let event = Event::ConferenceCommand {
            node_id: call.node_id.clone(),
            call_id: call.id.clone(),
            user_id: user.id.clone(),
            session_id: session.to_owned(),
            command,
        };
        if let Err(e) = self.deps.bus.publish(event).await {
            tracing::warn!(error = %e, "conference command not published");
        }
        Ok(())
    }

    /// Carries out a member's command on the node that runs the conference (the hub
    /// passes every `ConferenceCommand` event here; others' are ignored). Failures go back
    /// to the device as `error` frames.
    pub async fn run_conference_command(
        self: &Arc<Self>,
        node_id: &str,
        call_id: &str,
        user_id: &UserId,
        session: &str,
        command: ConferenceCommand,
    ) {
        if node_id != self.deps.node_id {
            return;
        }
        if let Err((code, message)) = self.run_command(call_id, user_id, session, command).await {
            let frame = ServerFrame::Error {
                code,
                message,
                client_id: None,
                conversation_id: None,
                call_id: Some(call_id.to_owned()),
            };
            self.send(
                vec![CallTarget::device(user_id.clone(), session.to_owned())],
                frame,
            )
            .await;
        }
    }

    async fn run_command(
        self: &Arc<Self>,
        call_id: &str,
        user_id: &UserId,
        session: &str,
        command: ConferenceCommand,
    ) -> Result<(), (ErrorCode, String)> {
        let not_found = || (ErrorCode::CallNotFound, "no such call".to_owned());
        let Some(sfu) = self.deps.sfu.clone() else {
            return Err(not_found());
        };
        if !self.rooms().contains_key(call_id) {
            return Err(not_found());
        }
        let sfu_error = |e: dialtone_sfu::SfuError| match e {
            dialtone_sfu::SfuError::InvalidSdp(why) => (ErrorCode::InvalidInput, why),
            dialtone_sfu::SfuError::NotInRoom | dialtone_sfu::SfuError::NoPendingOffer => {
                not_found()
            }
            other => (ErrorCode::InvalidInput, other.to_string()),
        };
        match command {
            ConferenceCommand::Join { sdp } => {
                let user = self
                    .deps
                    .social
                    .user_by_id(user_id)
                    .await
                    .ok()
                    .flatten()
                    .ok_or_else(not_found)?;
                let others: Vec<Participant> = self
                    .rooms()
                    .get(call_id)
                    .map(|r| r.participants.values().cloned().collect())
                    .unwrap_or_default();
                if self
                    .rooms()
                    .get(call_id)
                    .is_some_and(|r| r.participants.contains_key(session))
                {
                    return Err((ErrorCode::InvalidInput, "this device is in the call".into()));
                }
                let stream = crate::crypto::new_id();
                // Nothing of a member reaches another who does not accept them, both ways.
                for other in &others {
                    let to_me = self.reaches(&other.user, &user).await.unwrap_or(false);
                    let to_them = self.reaches(&user, &other.user).await.unwrap_or(false);
                    self.exclude(&sfu, call_id, &stream, &other.stream, !to_me)
                        .await;
                    self.exclude(&sfu, call_id, &other.stream, &stream, !to_them)
                        .await;
                }
                let media = self.rooms().get(call_id).map(|r| r.media);
                let answer = sfu.join(call_id, &stream, &sdp).await.map_err(sfu_error)?;
                if let Some(room) = self.rooms().get_mut(call_id) {
                    room.joined.insert(user.id.clone());
                    room.participants.insert(
                        session.to_owned(),
                        Participant {
                            user: user.clone(),
                            stream,
                            audio: true,
                            video: media == Some(CallMedia::Video),
                        },
                    );
                }
                self.send(
                    vec![CallTarget::device(user_id.clone(), session.to_owned())],
                    ServerFrame::CallSignal(CallSignalFrame {
                        call_id: call_id.to_owned(),
                        kind: SignalKind::Answer,
                        sdp: Some(answer),
                        candidate: None,
                    }),
                )
                .await;
                self.announce_members(call_id).await;
            }
            ConferenceCommand::Answer { sdp } => {
                let stream = self.stream(call_id, session).ok_or_else(not_found)?;
                sfu.answer(call_id, &stream, &sdp)
                    .await
                    .map_err(sfu_error)?;
            }
            ConferenceCommand::Media { audio, video } => {
                let stream = self.stream(call_id, session).ok_or_else(not_found)?;
                sfu.set_media(call_id, &stream, audio, video)
                    .await
                    .map_err(sfu_error)?;
                if let Some(p) = self
                    .rooms()
                    .get_mut(call_id)
                    .and_then(|r| r.participants.get_mut(session))
                {
                    p.audio = audio;
                    p.video = video;
                }
                self.announce_members(call_id).await;
            }
            ConferenceCommand::Layer { phone, layer } => {
                let stream = self.stream(call_id, session).ok_or_else(not_found)?;
                let publishers: Vec<String> = self
                    .rooms()
                    .get(call_id)
                    .map(|r| {
                        r.participants
                            .values()
                            .filter(|p| p.user.phone.as_str() == phone)
                            .map(|p| p.stream.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                let layer = match layer {
                    VideoLayer::Low => Layer::Low,
                    VideoLayer::High => Layer::High,
                };
                for publisher in publishers {
                    sfu.prefer_layer(call_id, &stream, &publisher, layer)
                        .await
                        .map_err(sfu_error)?;
                }
            }
            ConferenceCommand::Members => {
                if let Some(frame) = self.members_frame(call_id) {
                    self.send(
                        vec![CallTarget::device(user_id.clone(), session.to_owned())],
                        frame,
                    )
                    .await;
                }
            }
            ConferenceCommand::Leave => {
                let gone = self
                    .rooms()
                    .get_mut(call_id)
                    .and_then(|r| r.participants.remove(session))
                    .ok_or_else(not_found)?;
                sfu.leave(call_id, &gone.stream).await;
                self.after_leaving(call_id).await;
            }
        }
        Ok(())
    }

    /// Keeps (or stops keeping) everything of `publisher` from `subscriber` in a room.
    async fn exclude(
        &self,
        sfu: &dialtone_sfu::Sfu,
        call_id: &str,
        subscriber: &str,
        publisher: &str,
        excluded: bool,
    ) {
        if let Some(room) = self.rooms().get_mut(call_id) {
            let pair = (subscriber.to_owned(), publisher.to_owned());
            if excluded {
                room.excluded.insert(pair);
            } else {
                room.excluded.remove(&pair);
            }
        }
        if let Err(e) = sfu.exclude(call_id, subscriber, publisher, excluded).await {
            tracing::warn!(error = %e, %call_id, "exclusion not set");
        }
    }

    /// The SFU name of a device in a conference.
    fn stream(&self, call_id: &str, session: &str) -> Option<String> {
        self.rooms().get(call_id).and_then(|r| r.stream_of(session))
    }

    /// After a device left: the member list, or the end of a conference left empty.
    async fn after_leaving(&self, call_id: &str) {
        let empty = self
            .rooms()
            .get(call_id)
            .is_some_and(|r| r.participants.is_empty());
        if empty {
            self.end_conference(call_id).await;
        } else {
            self.announce_members(call_id).await;
        }
    }

    /// Tells every member of the group who is in the call (those not in it see that a
    /// call is going on, and can join).
    async fn announce_members(&self, call_id: &str) {
        let Some(conversation_id) = self.rooms().get(call_id).map(|r| r.conversation_id.clone())
        else {
            return;
        };
        let Some(frame) = self.members_frame(call_id) else {
            return;
        };
        let to = self.group_targets(&conversation_id).await;
        self.send(to, frame).await;
    }

    /// The `call_members` frame of a conference this node runs.
    fn members_frame(&self, call_id: &str) -> Option<ServerFrame> {
        self.rooms().get(call_id).map(|r| ServerFrame::CallMembers {
            call_id: call_id.to_owned(),
            conversation_id: r.conversation_id.to_string(),
            members: r
                .participants
                .values()
                .map(|p| CallMember {
                    phone: p.user.phone.to_string(),
                    stream: p.stream.clone(),
                    audio: p.audio,
                    video: p.video,
                })
                .collect(),
        })
    }

    /// A device connected: it hears who is in each call going on in its groups (from the
    /// nodes that run them).
    pub async fn conferences_for(
        &self,
        user: &UserRecord,
        session: &str,
    ) -> Result<(), ServiceError> {
        for call in self.deps.store.calls.live_conferences_of(&user.id).await? {
            self.conference_command(user, session, &call, ConferenceCommand::Members)
                .await?;
        }
        Ok(())
    }

    /// Every device of every member of a group.
    async fn group_targets(&self, conversation_id: &ConversationId) -> Vec<CallTarget> {
        match self.deps.messaging.kept_roster(conversation_id).await {
            Ok(roster) => roster
                .members
                .iter()
                .map(|m| CallTarget::all(m.id.clone()))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e.report(), %conversation_id, "group of a call not read");
                Vec::new()
            }
        }
    }

    /// Ends a conference: every member's devices hear it, its record goes in the group.
    pub(super) async fn end_conference(&self, call_id: &str) {
        let Some(room) = self.rooms().remove(call_id) else {
            return;
        };
        if let Some(sfu) = &self.deps.sfu {
            for p in room.participants.values() {
                sfu.leave(call_id, &p.stream).await;
            }
            // The SFU keeps exclusions until lifted, rooms gone or not.
            for (subscriber, publisher) in &room.excluded {
                let _ = sfu.exclude(call_id, subscriber, publisher, false).await;
            }
        }
        let now = self.now();
        let before = match self
            .deps
            .store
            .calls
            .end_call(call_id, CallEndReason::HungUp.as_str(), now)
            .await
        {
            Ok(Some(before)) => before,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, %call_id, "conference not ended");
                return;
            }
        };
        let duration = super::millis_between(room.started_at, now);
        let to = self.group_targets(&room.conversation_id).await;
        self.send(
            to,
            ServerFrame::CallEnded {
                call_id: call_id.to_owned(),
                reason: CallEndReason::HungUp,
                duration_ms: Some(duration),
                moved_to: None,
            },
        )
        .await;
        // Answered when someone besides the caller took part.
        let answered = room.joined.iter().any(|u| *u != room.caller_id);
        let reason = if answered {
            CallEndReason::HungUp
        } else {
            CallEndReason::Cancelled
        };
        self.write_record(&before, reason, answered.then_some(duration))
            .await;
    }

    /// What the SFU reports: offers to pass on, who speaks, devices gone.
    pub(super) async fn sfu_event(&self, event: SfuEvent) {
        match event {
            SfuEvent::Offer {
                room,
                participant,
                sdp,
            } => {
                let device = self.rooms().get(&room).and_then(|r| {
                    let session = r.session_of(&participant)?;
                    let p = r.participants.get(session)?;
                    Some((p.user.id.clone(), session.to_owned()))
                });
                if let Some((user_id, session)) = device {
                    self.send(
                        vec![CallTarget::device(user_id, session)],
                        ServerFrame::CallSignal(CallSignalFrame {
                            call_id: room,
                            kind: SignalKind::Offer,
                            sdp: Some(sdp),
                            candidate: None,
                        }),
                    )
                    .await;
                }
            }
            SfuEvent::Speaking { room, levels } => {
                // Each member hears of the speakers whose media reaches them.
                let frames: Vec<(CallTarget, Vec<CallLevel>)> = self
                    .rooms()
                    .get(&room)
                    .map(|r| {
                        r.participants
                            .iter()
                            .map(|(session, listener)| {
                                let heard = levels
                                    .iter()
                                    .filter(|(stream, _)| {
                                        !r.excluded
                                            .contains(&(listener.stream.clone(), stream.clone()))
                                    })
                                    .filter_map(|(stream, level)| {
                                        let speaker = r.participants.get(r.session_of(stream)?)?;
                                        Some(CallLevel {
                                            phone: speaker.user.phone.to_string(),
                                            level: *level,
                                        })
                                    })
                                    .collect();
                                (
                                    CallTarget::device(listener.user.id.clone(), session.clone()),
                                    heard,
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                for (to, levels) in frames {
                    self.send(
                        vec![to],
                        ServerFrame::CallSpeaking {
                            call_id: room.clone(),
                            levels,
                        },
                    )
                    .await;
                }
            }
            SfuEvent::Gone { room, participant } => {
                let was_in = self
                    .rooms()
                    .get_mut(&room)
                    .and_then(|r| {
                        let session = r.session_of(&participant)?.to_owned();
                        r.participants.remove(&session)
                    })
                    .is_some();
                if was_in {
                    self.after_leaving(&room).await;
                }
            }
            SfuEvent::Connected { .. } => {}
        }
    }

    /// Members left or were removed from a group: their devices leave its call, if this
    /// node runs one.
    pub async fn left_group(&self, conversation_id: &ConversationId, removed: &[UserId]) {
        if removed.is_empty() {
            return;
        }
        // (call, SFU name, device) of each device whose user is out of the group.
        let gone: Vec<(String, String, CallTarget)> = self
            .rooms()
            .iter_mut()
            .filter(|(_, r)| r.conversation_id == *conversation_id)
            .flat_map(|(call_id, r)| {
                let sessions: Vec<String> = r
                    .participants
                    .iter()
                    .filter(|(_, p)| removed.contains(&p.user.id))
                    .map(|(s, _)| s.clone())
                    .collect();
                sessions
                    .into_iter()
                    .filter_map(|s| {
                        let p = r.participants.remove(&s)?;
                        Some((call_id.clone(), p.stream, CallTarget::device(p.user.id, s)))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        for (call_id, stream, device) in &gone {
            if let Some(sfu) = &self.deps.sfu {
                sfu.leave(call_id, stream).await;
            }
            self.send(
                vec![device.clone()],
                ServerFrame::CallEnded {
                    call_id: call_id.clone(),
                    reason: CallEndReason::HungUp,
                    duration_ms: None,
                    moved_to: None,
                },
            )
            .await;
        }
        let calls: HashSet<&String> = gone.iter().map(|(c, _, _)| c).collect();
        for call_id in calls {
            self.after_leaving(call_id).await;
        }
    }

    /// Decides again who receives whom in the conferences this node runs that `user_id`
    /// is in (their privacy or book changed).
    pub(super) async fn recheck_conferences(&self, user_id: &UserId) {
        let Some(sfu) = self.deps.sfu.clone() else {
            return;
        };
        let rooms: Vec<(String, Vec<Participant>)> = self
            .rooms()
            .iter()
            .filter(|(_, r)| r.participants.values().any(|p| p.user.id == *user_id))
            .map(|(id, r)| (id.clone(), r.participants.values().cloned().collect()))
            .collect();
        for (call_id, participants) in rooms {
            for p1 in &participants {
                for p2 in &participants {
                    if p1.stream == p2.stream || (p1.user.id != *user_id && p2.user.id != *user_id)
                    {
                        continue;
                    }
                    // p2 receives p1 only if p2 accepts p1.
                    let reaches = p1.user.id == p2.user.id
                        || self.reaches(&p1.user, &p2.user).await.unwrap_or(false);
                    self.exclude(&sfu, &call_id, &p2.stream, &p1.stream, !reaches)
                        .await;
                }
            }
        }
    }
}

/// A conference as the contract shows it.
fn conference_of(record: &CallRecord, caller: &UserRecord) -> dialtone_protocol::Call {
    dialtone_protocol::Call {
        id: record.id.clone(),
        conversation_id: record.conversation_id.clone(),
        media: super::media_of(record),
        group: true,
        caller: caller.phone.to_string(),
        callee: None,
        started_at: record
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    }
}
