//! Group calls through the server's SFU, with str0m peers standing in for browsers over
//! real UDP on 127.0.0.1: three members join with their offers, answer the server's
//! offers, and each receives the other two's audio and video; whoever blocks a member
//! receives nothing of them (and hears nothing of their speaking) while the others do; a
//! leaver stops being forwarded; a muted member's audio stops; the last one out ends the
//! call for the whole group, with its record.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dialtone_sfu::testing::TestPeer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, Ws, WsEvent};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";

/// A member's device in the call: its socket, its peer once joined, and what it heard.
struct Member {
    phone: &'static str,
    ws: Ws,
    peer: Option<TestPeer>,
    /// The last `call_members` seen: stream id → phone.
    streams: HashMap<String, String>,
    ended: Option<Value>,
    records: Vec<Value>,
    speaking: Vec<Value>,
    /// Hung up.
    left: bool,
}

impl Member {
    fn new(phone: &'static str, ws: Ws) -> Member {
        Member {
            phone,
            ws,
            peer: None,
            streams: HashMap::new(),
            ended: None,
            records: Vec::new(),
            speaking: Vec::new(),
            left: false,
        }
    }

    /// Reads what has come, answering the server's offers, for at most `wait`.
    async fn pump(&mut self, call_id: &str, wait: Duration) {
        let until = Instant::now() + wait;
        while Instant::now() < until {
            let Ok(event) = tokio::time::timeout(Duration::from_millis(20), self.ws.next()).await
            else {
                continue;
            };
            let WsEvent::Frame(f) = event else {
                panic!("{} closed", self.phone);
            };
            match f["type"].as_str() {
                Some("call_signal") if f["kind"] == "offer" => {
                    let peer = self.peer.as_ref().expect("an offer before joining");
                    let answer = match peer.answer_offer(f["sdp"].as_str().unwrap()).await {
                        Ok(answer) => answer,
                        // An offer made before this device left, read after.
                        Err(_) if self.left => continue,
                        Err(e) => panic!("{}: {e:?}", self.phone),
                    };
                    send(&mut self.ws, json!({ "type": "call_signal", "call_id": call_id, "kind": "answer", "sdp": answer })).await;
                }
                Some("call_members") => {
                    self.streams = f["members"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| {
                            (
                                m["stream"].as_str().unwrap().to_owned(),
                                m["phone"].as_str().unwrap().to_owned(),
                            )
                        })
                        .collect();
                }
                Some("call_ended") => self.ended = Some(f),
                Some("call_speaking") => self.speaking.push(f),
                Some("message") if f["message"]["kind"] == "call" => {
                    self.records.push(f["message"]["call"].clone());
                }
                // Hanging up a call the other members' leaving has just ended.
                Some("error") if self.left && f["code"] == "call_not_found" => {}
                Some("error") => panic!("{}: {f}", self.phone),
                _ => {}
            }
        }
    }

    /// Joins: the offer, the SFU's answer (answering any offer that comes first is not
    /// expected: the server offers only once the device is connected).
    async fn join(&mut self, call_id: &str) {
        let (offering, offer) = TestPeer::offer().await.unwrap();
        send(
            &mut self.ws,
            json!({ "type": "call_join", "call_id": call_id, "sdp": offer }),
        )
        .await;
        let answer = loop {
            let f = self.ws.frame().await;
            match f["type"].as_str() {
                Some("call_signal") => {
                    assert_eq!(f["kind"], "answer", "{f}");
                    break f["sdp"].as_str().unwrap().to_owned();
                }
                Some("error") => panic!("{}: {f}", self.phone),
                Some("call_members") => {
                    self.streams = f["members"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| {
                            (
                                m["stream"].as_str().unwrap().to_owned(),
                                m["phone"].as_str().unwrap().to_owned(),
                            )
                        })
                        .collect();
                }
                _ => {}
            }
        };
        self.peer = Some(offering.accept_answer(&answer).await.unwrap());
    }

    /// What this device received from the member `phone` (audio, video packets).
    fn from(&self, phone: &str) -> (u64, u64) {
        let Some(peer) = &self.peer else {
            return (0, 0);
        };
        peer.received()
            .iter()
            .filter(|(stream, _)| self.streams.get(*stream).map(String::as_str) == Some(phone))
            .fold((0, 0), |(a, v), (_, r)| {
                (a + r.audio_packets, v + r.video_packets)
            })
    }
}

/// Logs each number in and puts the others in its address book; their tokens.
async fn friends(app: &TestApp, phones: &[&'static str]) -> Vec<String> {
    let mut tokens = Vec::new();
    for phone in phones {
        tokens.push(app.code_login(phone, "d").await);
    }
    for (token, me) in tokens.iter().zip(phones) {
        let others: Vec<Value> = phones
            .iter()
            .filter(|p| *p != me)
            .map(|p| json!({ "name": p, "phones": [p] }))
            .collect();
        let book = json!({ "contacts": others });
        assert_eq!(app.put_contacts(token, book).await.status, StatusCode::OK);
    }
    tokens
}

/// A group made by `token`'s user with `others`; its id.
async fn group_of(app: &TestApp, token: &str, others: &[&str]) -> String {
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(token),
            Some(json!({ "kind": "group", "name": "friends", "members": others })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body["id"].as_str().unwrap().to_owned()
}

/// Each user online (past `ready`), as a member of calls to come.
async fn online(app: &TestApp, tokens: &[String], phones: &[&'static str]) -> Vec<Member> {
    let mut members = Vec::new();
    for (token, phone) in tokens.iter().zip(phones) {
        let mut ws = app.ws(token).await;
        assert_eq!(ws.frame().await["type"], "ready");
        members.push(Member::new(phone, ws));
    }
    members
}

/// `call_start` from a member's device; the call's id from `call_started`.
async fn start_call(m: &mut Member, conversation: &str, media: &str) -> String {
    send(&mut m.ws, json!({ "type": "call_start", "client_id": "k1", "conversation_id": conversation, "media": media })).await;
    loop {
        let f = m.ws.frame().await;
        if f["type"] == "call_started" {
            return f["call"]["id"].as_str().unwrap().to_owned();
        }
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send_text(&v.to_string()).await;
}

/// Everyone reads for `wait`.
async fn pump_all(members: &mut [Member], call_id: &str, wait: Duration) {
    let slice = Duration::from_millis(100);
    let until = Instant::now() + wait;
    while Instant::now() < until {
        for m in members.iter_mut() {
            m.pump(call_id, slice).await;
        }
    }
}

/// Reads until `done` holds for everyone, or fails after 15 s saying what.
async fn until(members: &mut [Member], call_id: &str, what: &str, done: impl Fn(&Member) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if members.iter().all(&done) {
            return;
        }
        assert!(Instant::now() < deadline, "not within 15 s: {what}");
        pump_all(members, call_id, Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_group_call_forwards_everyone_to_everyone_but_whom_they_block() {
    let app = TestApp::spawn().await;
    let phones = [ALICE, BOB, CAROL];
    let tokens = friends(&app, &phones).await;
    let group = group_of(&app, &tokens[0], &[BOB, CAROL]).await;
    let mut members = online(&app, &tokens, &phones).await;
    // Alice starts the group's call; Bob and Carol ring.
    send(&mut members[0].ws, json!({ "type": "call_start", "client_id": "k1", "conversation_id": group, "media": "video" })).await;
    let started = loop {
        let f = members[0].ws.frame().await;
        if f["type"] == "call_started" {
            break f;
        }
    };
    let call = &started["call"];
    assert_eq!(
        (call["group"].as_bool(), call["callee"].is_null()),
        (Some(true), true),
        "{call}"
    );
    let call_id = call["id"].as_str().unwrap().to_owned();
    for m in &mut members[1..] {
        let f = loop {
            let f = m.ws.frame().await;
            if f["type"] != "presence" {
                break f;
            }
        };
        assert_eq!(
            (f["type"].as_str(), f["call"]["id"].as_str()),
            (Some("call"), Some(call_id.as_str())),
            "{f}"
        );
    }
    // Starting again gives the call going on.
    send(&mut members[1].ws, json!({ "type": "call_start", "client_id": "k2", "conversation_id": group, "media": "voice" })).await;
    let again = members[1].ws.frame().await;
    assert_eq!(
        (again["type"].as_str(), again["call"]["id"].as_str()),
        (Some("call_started"), Some(call_id.as_str())),
        "{again}"
    );

    for m in members.iter_mut() {
        m.join(&call_id).await;
    }
    // Everyone receives the two others' audio and video.
    until(&mut members, &call_id, "everyone receives everyone", |m| {
        phones.iter().filter(|p| **p != m.phone).all(|p| {
            let (a, v) = m.from(p);
            a > 10 && v > 10
        })
    })
    .await;
    for m in &members {
        assert_eq!(m.streams.len(), 3, "{}: {:?}", m.phone, m.streams);
    }

    // Carol blocks Bob: she stops receiving him, Alice still does, and Bob still receives
    // Carol (he is kept from nothing).
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{BOB}"),
            Some(&tokens[2]),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    pump_all(&mut members, &call_id, Duration::from_secs(1)).await;
    let carol_had = members[2].from(BOB);
    let alice_had = members[0].from(BOB);
    let bob_had = members[1].from(CAROL);
    pump_all(&mut members, &call_id, Duration::from_secs(2)).await;
    assert_eq!(
        members[2].from(BOB),
        carol_had,
        "nothing of Bob reaches Carol"
    );
    assert!(
        members[0].from(BOB).1 > alice_had.1 + 20,
        "Alice still receives Bob"
    );
    assert!(
        members[1].from(CAROL).1 > bob_had.1 + 20,
        "Bob still receives Carol"
    );
    assert!(members[2].from(ALICE).1 > 0);

    // Bob mutes his microphone: his audio stops reaching Alice, his video goes on.
    send(
        &mut members[1].ws,
        json!({ "type": "call_media", "call_id": call_id, "audio": false, "video": true }),
    )
    .await;
    pump_all(&mut members, &call_id, Duration::from_secs(1)).await;
    let (audio, video) = members[0].from(BOB);
    pump_all(&mut members, &call_id, Duration::from_secs(2)).await;
    let (audio_after, video_after) = members[0].from(BOB);
    assert_eq!(audio_after, audio, "a muted member's audio stops");
    assert!(video_after > video + 20, "his video goes on");

    // Alice leaves: the other two stop receiving her.
    send(
        &mut members[0].ws,
        json!({ "type": "call_hangup", "call_id": call_id }),
    )
    .await;
    until(&mut members, &call_id, "Alice is out of the list", |m| {
        m.streams.values().all(|p| p != ALICE)
    })
    .await;
    pump_all(&mut members, &call_id, Duration::from_secs(1)).await;
    let had = (members[1].from(ALICE), members[2].from(ALICE));
    pump_all(&mut members, &call_id, Duration::from_secs(2)).await;
    assert_eq!(
        (members[1].from(ALICE), members[2].from(ALICE)),
        had,
        "a leaver is not forwarded"
    );

    // The last two leave: the call is over for the whole group, with its record.
    for i in [1, 2] {
        members[i].left = true;
        send(
            &mut members[i].ws,
            json!({ "type": "call_hangup", "call_id": call_id }),
        )
        .await;
    }
    until(
        &mut members,
        &call_id,
        "the call ended for everyone, with its record",
        |m| m.ended.is_some() && !m.records.is_empty(),
    )
    .await;
    for m in &members {
        let ended = m.ended.as_ref().unwrap();
        assert_eq!(ended["reason"], "hung_up", "{ended}");
        assert_eq!(m.records[0]["outcome"], "answered", "{:?}", m.records);
        assert_eq!(m.records[0]["media"], "video", "{:?}", m.records);
    }
    drop(members);
    app.stop().await;
}

#[tokio::test]
async fn speaking_is_told_only_to_those_who_receive_the_speaker() {
    let app = TestApp::spawn().await;
    let phones = [ALICE, BOB, CAROL];
    let tokens = friends(&app, &phones).await;
    // Carol blocks Bob before anything.
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{BOB}"),
            Some(&tokens[2]),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    let group = group_of(&app, &tokens[0], &[BOB, CAROL]).await;
    let mut members = online(&app, &tokens, &phones).await;
    let call_id = start_call(&mut members[1], &group, "voice").await;
    // Carol, who blocks Bob, is not rung by him; she joins the call going on anyway.
    for i in [1, 0, 2] {
        members[i].join(&call_id).await;
    }
    until(&mut members, &call_id, "Alice receives both", |m| {
        m.phone != ALICE || (m.from(BOB).0 > 10 && m.from(CAROL).0 > 10)
    })
    .await;
    members[1]
        .peer
        .as_ref()
        .unwrap()
        .set_audio_level(-10)
        .await
        .unwrap();
    until(&mut members, &call_id, "Alice hears Bob speaking", |m| {
        m.phone != ALICE
            || m.speaking.iter().any(|f| {
                f["levels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["phone"] == BOB)
            })
    })
    .await;
    pump_all(&mut members, &call_id, Duration::from_secs(1)).await;
    let carol = &members[2];
    assert!(
        carol.speaking.iter().all(|f| f["levels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["phone"] != BOB)),
        "Carol never hears of Bob speaking: {:?}",
        carol.speaking
    );
    assert_eq!(carol.from(BOB), (0, 0), "nothing of Bob reaches Carol");
    assert!(carol.from(ALICE).0 > 0);
    // A device that connects while the call goes on hears who is in it.
    let mut late = app.ws(&tokens[0]).await;
    assert_eq!(late.frame().await["type"], "ready");
    let f = loop {
        let f = late.frame().await;
        if f["type"] == "call_members" {
            break f;
        }
    };
    assert_eq!(f["call_id"], call_id.as_str(), "{f}");
    assert_eq!(f["members"].as_array().unwrap().len(), 3, "{f}");
    drop((members, late));
    app.stop().await;
}

#[tokio::test]
async fn a_member_on_another_node_joins_the_call_where_it_runs() {
    let Some(mut nodes) =
        TestApp::spawn_deployment("a_member_on_another_node_joins_the_call_where_it_runs", 2).await
    else {
        return;
    };
    let second = nodes.pop().unwrap();
    let first = nodes.pop().unwrap();
    let phones = [ALICE, BOB];
    let a = first.code_login(ALICE, "a").await;
    let b = first.code_login(BOB, "b").await;
    for (token, other) in [(&a, BOB), (&b, ALICE)] {
        let book = json!({ "contacts": [{ "name": other, "phones": [other] }] });
        assert_eq!(first.put_contacts(token, book).await.status, StatusCode::OK);
    }
    let r = first
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "two", "members": [BOB] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let group = r.body["id"].as_str().unwrap().to_owned();
    let mut members = Vec::new();
    for (app, token, phone) in [(&first, &a, ALICE), (&second, &b, BOB)] {
        let mut ws = app.ws(token).await;
        assert_eq!(ws.frame().await["type"], "ready");
        members.push(Member::new(phone, ws));
    }
    // The call runs on the first node; Bob is connected to the second.
    let call_id = start_call(&mut members[0], &group, "video").await;
    for m in members.iter_mut() {
        m.join(&call_id).await;
    }
    until(
        &mut members,
        &call_id,
        "both receive each other across nodes",
        |m| {
            phones.iter().filter(|p| **p != m.phone).all(|p| {
                let (a, v) = m.from(p);
                a > 10 && v > 10
            })
        },
    )
    .await;
    for m in members.iter_mut() {
        m.left = true;
        send(
            &mut m.ws,
            json!({ "type": "call_hangup", "call_id": call_id }),
        )
        .await;
    }
    until(
        &mut members,
        &call_id,
        "the call ended on both nodes",
        |m| m.ended.is_some() && !m.records.is_empty(),
    )
    .await;
    drop(members);
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn bad_conference_frames_get_an_error_and_the_call_goes_on() {
    let app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    let c = app.code_login(CAROL, "c").await;
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "two", "members": [BOB] })),
        )
        .await;
    let group = r.body["id"].as_str().unwrap().to_owned();
    let mut wa = app.ws(&a).await;
    assert_eq!(wa.frame().await["type"], "ready");
    let mut wc = app.ws(&c).await;
    assert_eq!(wc.frame().await["type"], "ready");
    send(&mut wa, json!({ "type": "call_start", "client_id": "k1", "conversation_id": group, "media": "voice" })).await;
    let call_id = loop {
        let f = wa.frame().await;
        if f["type"] == "call_started" {
            break f["call"]["id"].as_str().unwrap().to_owned();
        }
    };
    // Carol is not in the group: the call does not exist for her.
    let (_, offer) = TestPeer::offer().await.unwrap();
    send(
        &mut wc,
        json!({ "type": "call_join", "call_id": call_id, "sdp": offer }),
    )
    .await;
    let f = wc.frame().await;
    assert_eq!(
        (f["type"].as_str(), f["code"].as_str()),
        (Some("error"), Some("call_not_found")),
        "{f}"
    );
    let cases = [
        (
            json!({ "type": "call_join", "call_id": call_id, "sdp": "v=0\r\nthis is no offer\r\n" }),
            "invalid_input",
        ),
        (
            json!({ "type": "call_join", "call_id": call_id, "sdp": "hello" }),
            "invalid_input",
        ),
        (
            json!({ "type": "call_join", "call_id": call_id }),
            "malformed_frame",
        ),
        (
            json!({ "type": "call_signal", "call_id": call_id, "kind": "offer", "sdp": "v=0\r\n" }),
            "invalid_input",
        ),
        (
            json!({ "type": "call_media", "call_id": call_id, "audio": false, "video": false }),
            "call_not_found",
        ),
        (
            json!({ "type": "call_hangup", "call_id": call_id }),
            "call_not_found",
        ),
        (
            json!({ "type": "call_layer", "call_id": call_id, "phone": BOB, "layer": "medium" }),
            "malformed_frame",
        ),
        (
            json!({ "type": "call_join", "call_id": "nope", "sdp": "v=0\r\n" }),
            "call_not_found",
        ),
    ];
    for (bad, code) in cases {
        send(&mut wa, bad.clone()).await;
        let f = loop {
            let f = wa.frame().await;
            if f["type"] == "error" {
                break f;
            }
        };
        assert_eq!(f["code"], code, "{bad} -> {f}");
    }
    // A good join still works, and Bob's does too.
    let mut wb = app.ws(&b).await;
    assert_eq!(wb.frame().await["type"], "ready");
    let mut members: Vec<Member> = [(ALICE, wa), (BOB, wb)]
        .into_iter()
        .map(|(phone, ws)| Member::new(phone, ws))
        .collect();
    for m in members.iter_mut() {
        m.join(&call_id).await;
    }
    until(&mut members, &call_id, "both hear each other", |m| {
        let other = if m.phone == ALICE { BOB } else { ALICE };
        m.from(other).0 > 10
    })
    .await;
    drop((members, wc));
    app.stop().await;
}

#[tokio::test]
async fn adding_people_to_a_call_moves_it_into_a_group_call() {
    let app = TestApp::spawn().await;
    let phones = [ALICE, BOB, CAROL];
    let tokens = friends(&app, &phones).await;
    let ab = app.direct_id(&tokens[0], BOB).await;
    let mut members = online(&app, &tokens, &phones).await;
    /// The next frame of a type other than presence.
    async fn next(ws: &mut Ws) -> Value {
        loop {
            let f = ws.frame().await;
            if f["type"] != "presence" {
                return f;
            }
        }
    }
    send(
        &mut members[0].ws,
        json!({ "type": "call_start", "client_id": "k1", "conversation_id": ab, "media": "video" }),
    )
    .await;
    let direct = next(&mut members[0].ws).await["call"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(next(&mut members[1].ws).await["type"], "call");
    send(
        &mut members[1].ws,
        json!({ "type": "call_accept", "call_id": direct }),
    )
    .await;
    assert_eq!(next(&mut members[1].ws).await["type"], "call_accepted");
    assert_eq!(next(&mut members[0].ws).await["type"], "call_accepted");

    // Carol may not be added by someone who is not in the call.
    send(
        &mut members[2].ws,
        json!({ "type": "call_add", "call_id": direct, "phones": [CAROL] }),
    )
    .await;
    assert_eq!(next(&mut members[2].ws).await["code"], "call_not_found");
    send(
        &mut members[0].ws,
        json!({ "type": "call_add", "call_id": direct, "phones": ["13800"] }),
    )
    .await;
    assert_eq!(next(&mut members[0].ws).await["code"], "invalid_input");

    // Alice adds Carol: both devices of the call hear where it goes on; Carol rings.
    send(
        &mut members[0].ws,
        json!({ "type": "call_add", "call_id": direct, "phones": [CAROL] }),
    )
    .await;
    let mut group_call = None;
    for m in &mut members[..2] {
        let f = loop {
            let f = next(&mut m.ws).await;
            if f["type"] == "call_ended" {
                break f;
            }
        };
        assert_eq!(f["reason"], "moved", "{f}");
        let to = f["moved_to"].clone();
        assert_eq!(to["group"], true, "{f}");
        group_call = Some(to);
    }
    let group_call = group_call.unwrap();
    let call_id = group_call["id"].as_str().unwrap().to_owned();
    let rung = loop {
        let f = next(&mut members[2].ws).await;
        if f["type"] == "call" {
            break f;
        }
    };
    assert_eq!(rung["call"]["id"], call_id.as_str());
    // The group is there, with the three.
    let group = app
        .get_auth(
            &format!(
                "/v1/conversations/{}",
                group_call["conversation_id"].as_str().unwrap()
            ),
            &tokens[2],
        )
        .await;
    assert_eq!(group.status, StatusCode::OK, "{group:?}");
    assert_eq!(
        group.body["members"].as_array().unwrap().len(),
        3,
        "{group:?}"
    );
    for m in members.iter_mut() {
        m.join(&call_id).await;
    }
    until(
        &mut members,
        &call_id,
        "everyone receives everyone in the group call",
        |m| {
            phones.iter().filter(|p| **p != m.phone).all(|p| {
                let (a, v) = m.from(p);
                a > 10 && v > 10
            })
        },
    )
    .await;
    // The one-to-one call left its record, answered.
    let r = app
        .get_auth(&format!("/v1/conversations/{ab}/messages"), &tokens[1])
        .await;
    let records: Vec<&Value> = r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "call")
        .collect();
    assert_eq!(records.len(), 1, "{r:?}");
    assert_eq!(records[0]["call"]["outcome"], "answered", "{r:?}");
    drop(members);
    app.stop().await;
}

#[tokio::test]
async fn a_member_removed_from_the_group_is_out_of_its_call() {
    let app = TestApp::spawn().await;
    let phones = [ALICE, BOB, CAROL];
    let tokens = friends(&app, &phones).await;
    let group = group_of(&app, &tokens[0], &[BOB, CAROL]).await;
    let mut members = online(&app, &tokens, &phones).await;
    let call_id = start_call(&mut members[0], &group, "video").await;
    for m in members.iter_mut() {
        m.join(&call_id).await;
    }
    until(&mut members, &call_id, "everyone receives everyone", |m| {
        phones
            .iter()
            .filter(|p| **p != m.phone)
            .all(|p| m.from(p).1 > 10)
    })
    .await;
    // Alice (admin) removes Carol from the group: Carol's call ends, the others stop
    // receiving her and she them.
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{group}/members/{CAROL}"),
            Some(&tokens[0]),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{r:?}");
    members[2].left = true;
    until(&mut members, &call_id, "Carol is out", |m| {
        if m.phone == CAROL {
            m.ended.is_some()
        } else {
            m.streams.values().all(|p| p != CAROL)
        }
    })
    .await;
    pump_all(&mut members, &call_id, Duration::from_secs(1)).await;
    let had = (members[0].from(CAROL), members[2].from(ALICE));
    pump_all(&mut members, &call_id, Duration::from_secs(2)).await;
    assert_eq!(
        (members[0].from(CAROL), members[2].from(ALICE)),
        had,
        "nothing flows with Carol"
    );
    assert!(
        members[0].ended.is_none(),
        "the call goes on for the others"
    );
    drop(members);
    app.stop().await;
}
