//! One-to-one calls over the live connection (`docs/api/calls.md`): every device of the
//! callee rings and the first to accept takes the call; signalling goes only between the
//! two devices of the call; decline, cancel, busy, no answer and hang-up end it for
//! everyone who needs to know; each call leaves a `call` record in its conversation; a
//! caller who may not reach the callee gets exactly what calling someone with no
//! connected device gives. Absence is asserted behind a barrier: a later frame that must
//! arrive comes first (one bus carries both, in order).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, Ws};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";
const DAVE: &str = "+8613800138003";

const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const ANSWER: &str = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

/// Everyone has everyone in their book; the direct conversations of Alice with Bob and
/// Dave, and of Carol with Bob.
struct People {
    app: TestApp,
    a: String,
    b1: String,
    b2: String,
    c: String,
    ab: String,
    ad: String,
    cb: String,
}

async fn people(app: TestApp) -> People {
    let a = app.code_login(ALICE, "a").await;
    let b1 = app.code_login(BOB, "b1").await;
    let b2 = app.code_login(BOB, "b2").await;
    let c = app.code_login(CAROL, "c").await;
    let d = app.code_login(DAVE, "d").await;
    let everyone = [ALICE, BOB, CAROL, DAVE];
    for (token, me) in [(&a, ALICE), (&b1, BOB), (&c, CAROL), (&d, DAVE)] {
        // Dave stays offline: his book is all he does.
        let book = json!({ "contacts": everyone.iter().filter(|p| **p != me).map(|p| json!({ "name": p, "phones": [p] })).collect::<Vec<_>>() });
        assert_eq!(app.put_contacts(token, book).await.status, StatusCode::OK);
    }
    let ab = app.direct_id(&a, BOB).await;
    let ad = app.direct_id(&a, DAVE).await;
    let cb = app.direct_id(&c, BOB).await;
    People {
        app,
        a,
        b1,
        b2,
        c,
        ab,
        ad,
        cb,
    }
}

async fn online(app: &TestApp, token: &str) -> Ws {
    let mut ws = app.ws(token).await;
    let f = ws.frame().await;
    assert_eq!(f["type"], "ready", "{f}");
    ws
}

/// The next frame that is not presence.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let f = ws.frame().await;
        if f["type"] != "presence" {
            return f;
        }
    }
}

/// The next frame that is not presence, which must be of type `kind`.
async fn expect(ws: &mut Ws, kind: &str) -> Value {
    let f = next(ws).await;
    assert_eq!(f["type"], kind, "{f}");
    f
}

async fn frame(ws: &mut Ws, v: Value) {
    ws.send_text(&v.to_string()).await;
}

async fn start(ws: &mut Ws, conv: &str, media: &str, client_id: &str) -> Value {
    frame(
        ws,
        json!({ "type": "call_start", "client_id": client_id, "conversation_id": conv, "media": media }),
    )
    .await;
    let f = expect(ws, "call_started").await;
    assert_eq!(f["client_id"], client_id, "{f}");
    f["call"].clone()
}

/// A call from `a` that `b`'s device takes (both hear `call_accepted`); its id.
async fn taken(a: &mut Ws, b: &mut Ws, conv: &str, media: &str, client_id: &str) -> String {
    let id = start(a, conv, media, client_id).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(b, "call").await;
    by_id(b, "call_accept", &id).await;
    expect(b, "call_accepted").await;
    expect(a, "call_accepted").await;
    id
}

async fn by_id(ws: &mut Ws, kind: &str, call_id: &str) {
    frame(ws, json!({ "type": kind, "call_id": call_id })).await;
}

async fn ended(ws: &mut Ws, call_id: &str, reason: &str) -> Value {
    let f = expect(ws, "call_ended").await;
    assert_eq!(
        (f["call_id"].as_str(), f["reason"].as_str()),
        (Some(call_id), Some(reason)),
        "{f}"
    );
    f
}

/// The next frame is the call's record, from `caller`, saying `call`.
async fn record(ws: &mut Ws, caller: &str, call: Value) {
    let f = expect(ws, "message").await;
    let m = &f["message"];
    assert_eq!(
        (m["kind"].as_str(), m["sender"].as_str(), &m["call"]),
        (Some("call"), Some(caller), &call),
        "{f}"
    );
    assert!(m.get("text").is_none(), "{f}");
}

/// The call records of a conversation's history as `token`'s user sees them.
async fn records(app: &TestApp, conv: &str, token: &str) -> Vec<Value> {
    let r = app
        .get_auth(&format!("/v1/conversations/{conv}/messages"), token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "call")
        .map(|m| m["call"].clone())
        .collect()
}

#[tokio::test]
async fn every_device_rings_the_first_to_accept_takes_the_call_and_signals_go_between_the_two() {
    let p = people(TestApp::spawn().await).await;
    let app = &p.app;
    let mut a = online(app, &p.a).await;
    let mut b1 = online(app, &p.b1).await;
    let mut b2 = online(app, &p.b2).await;

    let call = start(&mut a, &p.ab, "video", "k1").await;
    let id = call["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            &call["caller"],
            &call["callee"],
            &call["media"],
            &call["conversation_id"]
        ),
        (&json!(ALICE), &json!(BOB), &json!("video"), &json!(p.ab)),
        "{call}"
    );
    for ws in [&mut b1, &mut b2] {
        let f = expect(ws, "call").await;
        assert_eq!(f["call"], call, "{f}");
    }
    // A device that connects while the call rings rings too.
    let b3_token = app.code_login(BOB, "b3").await;
    let mut b3 = online(app, &b3_token).await;
    assert_eq!(expect(&mut b3, "call").await["call"]["id"], id.as_str());

    // b2 takes it; the caller and b2 hear so, the other devices stop ringing.
    by_id(&mut b2, "call_accept", &id).await;
    assert_eq!(
        expect(&mut b2, "call_accepted").await["call"]["id"],
        id.as_str()
    );
    assert_eq!(
        expect(&mut a, "call_accepted").await["call"]["id"],
        id.as_str()
    );
    ended(&mut b1, &id, "answered_elsewhere").await;
    ended(&mut b3, &id, "answered_elsewhere").await;
    // Too late for b1.
    by_id(&mut b1, "call_accept", &id).await;
    let f = expect(&mut b1, "error").await;
    assert_eq!(
        (f["code"].as_str(), f["call_id"].as_str()),
        (Some("call_not_found"), Some(id.as_str())),
        "{f}"
    );

    // Offer, answer and candidates go between Alice's device and b2 only.
    frame(
        &mut a,
        json!({ "type": "call_signal", "call_id": id, "kind": "offer", "sdp": OFFER }),
    )
    .await;
    let f = expect(&mut b2, "call_signal").await;
    assert_eq!(
        (f["kind"].as_str(), f["sdp"].as_str()),
        (Some("offer"), Some(OFFER)),
        "{f}"
    );
    frame(
        &mut b2,
        json!({ "type": "call_signal", "call_id": id, "kind": "answer", "sdp": ANSWER }),
    )
    .await;
    let f = expect(&mut a, "call_signal").await;
    assert_eq!(
        (f["kind"].as_str(), f["sdp"].as_str()),
        (Some("answer"), Some(ANSWER)),
        "{f}"
    );
    let candidate = json!({ "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdp_mid": "0", "sdp_mline_index": 0 });
    frame(&mut b2, json!({ "type": "call_signal", "call_id": id, "kind": "candidate", "candidate": candidate })).await;
    assert_eq!(expect(&mut a, "call_signal").await["candidate"], candidate);
    // A device that did not take the call may not signal in it.
    frame(
        &mut b1,
        json!({ "type": "call_signal", "call_id": id, "kind": "offer", "sdp": OFFER }),
    )
    .await;
    assert_eq!(expect(&mut b1, "error").await["code"], "call_not_found");

    // Alice hangs up after 61 s: both devices hear it with the duration, and the record
    // is in the conversation for everyone.
    app.advance(chrono::Duration::seconds(61));
    by_id(&mut a, "call_hangup", &id).await;
    let mut durations = Vec::new();
    for ws in [&mut a, &mut b2] {
        let f = ended(ws, &id, "hung_up").await;
        durations.push(f["duration_ms"].as_u64().unwrap());
    }
    let duration = durations[0];
    assert!((61_000..65_000).contains(&duration), "{duration}");
    assert_eq!(durations, vec![duration; 2]);
    let answered = json!({ "media": "video", "outcome": "answered", "duration_ms": duration });
    for ws in [&mut a, &mut b1, &mut b2, &mut b3] {
        record(ws, ALICE, answered.clone()).await;
    }
    assert_eq!(records(app, &p.ab, &p.b1).await, vec![answered.clone()]);
    // Frames after the hang-up.
    frame(
        &mut b2,
        json!({ "type": "call_signal", "call_id": id, "kind": "offer", "sdp": OFFER }),
    )
    .await;
    assert_eq!(expect(&mut b2, "error").await["code"], "call_not_found");
    by_id(&mut a, "call_hangup", &id).await;
    assert_eq!(expect(&mut a, "error").await["code"], "call_not_found");
    // Nobody else can touch it, even knowing its id.
    let mut c = online(app, &p.c).await;
    by_id(&mut c, "call_accept", &id).await;
    assert_eq!(expect(&mut c, "error").await["code"], "call_not_found");
    drop((a, b1, b2, b3, c));
    p.app.stop().await;
}

#[tokio::test]
async fn decline_cancel_busy_and_no_answer_end_the_call_for_everyone_and_leave_a_record() {
    let p = people(TestApp::spawn_with(|c| c.calls.ring_timeout_secs = 1).await).await;
    let app = &p.app;
    let mut a = online(app, &p.a).await;
    let mut b1 = online(app, &p.b1).await;
    let mut b2 = online(app, &p.b2).await;
    let mut c = online(app, &p.c).await;

    // Declined on b1: b2 stops ringing.
    let id = start(&mut a, &p.ab, "voice", "k1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(&mut b1, "call").await;
    expect(&mut b2, "call").await;
    by_id(&mut b1, "call_decline", &id).await;
    ended(&mut a, &id, "declined").await;
    ended(&mut b1, &id, "declined").await;
    ended(&mut b2, &id, "declined_elsewhere").await;
    let declined = json!({ "media": "voice", "outcome": "declined" });
    for ws in [&mut a, &mut b1, &mut b2] {
        record(ws, ALICE, declined.clone()).await;
    }

    // Cancelled by the caller: a missed call.
    let id = start(&mut a, &p.ab, "video", "k2").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(&mut b1, "call").await;
    expect(&mut b2, "call").await;
    by_id(&mut a, "call_hangup", &id).await;
    for ws in [&mut a, &mut b1, &mut b2] {
        ended(ws, &id, "cancelled").await;
    }
    let missed = json!({ "media": "video", "outcome": "missed" });
    for ws in [&mut a, &mut b1, &mut b2] {
        record(ws, ALICE, missed.clone()).await;
    }

    // Busy: Bob is in a call with Alice when Carol calls. Bob's devices do not ring for
    // Carol: the next thing they hear is the record of her missed call.
    let id = start(&mut a, &p.ab, "voice", "k3").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(&mut b1, "call").await;
    expect(&mut b2, "call").await;
    by_id(&mut b1, "call_accept", &id).await;
    expect(&mut b1, "call_accepted").await;
    expect(&mut a, "call_accepted").await;
    ended(&mut b2, &id, "answered_elsewhere").await;
    let carols = start(&mut c, &p.cb, "voice", "k4").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ended(&mut c, &carols, "busy").await;
    let missed_voice = json!({ "media": "voice", "outcome": "missed" });
    record(&mut c, CAROL, missed_voice.clone()).await;
    record(&mut b1, CAROL, missed_voice.clone()).await;
    record(&mut b2, CAROL, missed_voice.clone()).await;
    by_id(&mut b1, "call_hangup", &id).await;
    let duration = ended(&mut a, &id, "hung_up").await["duration_ms"].clone();
    assert!(duration.as_u64().is_some_and(|d| d < 5_000), "{duration}");
    ended(&mut b1, &id, "hung_up").await;
    let answered = json!({ "media": "voice", "outcome": "answered", "duration_ms": duration });
    for ws in [&mut a, &mut b1, &mut b2] {
        record(ws, ALICE, answered.clone()).await;
    }

    // Nobody answers within the ring time (1 s here).
    let id = start(&mut a, &p.ab, "voice", "k5").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(&mut b1, "call").await;
    expect(&mut b2, "call").await;
    for ws in [&mut a, &mut b1, &mut b2] {
        ended(ws, &id, "no_answer").await;
    }
    for ws in [&mut a, &mut b1, &mut b2] {
        record(ws, ALICE, missed_voice.clone()).await;
    }
    assert_eq!(
        records(app, &p.ab, &p.b2).await,
        vec![declined, missed, answered, missed_voice.clone()]
    );
    assert_eq!(records(app, &p.cb, &p.b1).await, vec![missed_voice]);
    drop((a, b1, b2, c));
    p.app.stop().await;
}

/// What Alice's device hears, frame by frame (types and reasons), from calling until the
/// call is over and its record is written.
async fn what_the_caller_hears(ws: &mut Ws, conv: &str, client_id: &str) -> (String, Vec<Value>) {
    let call = start(ws, conv, "voice", client_id).await;
    let id = call["id"].as_str().unwrap().to_owned();
    let mut heard = Vec::new();
    let f = next(ws).await;
    heard.push(json!([f["type"], f["reason"], f["duration_ms"]]));
    let f = next(ws).await;
    heard.push(json!([
        f["type"],
        f["message"]["kind"],
        f["message"]["call"]
    ]));
    (id, heard)
}

#[tokio::test]
async fn a_caller_who_may_not_reach_the_callee_hears_what_calling_an_absent_person_gives() {
    let p = people(TestApp::spawn_with(|c| c.calls.ring_timeout_secs = 1).await).await;
    let app = &p.app;
    let mut a = online(app, &p.a).await;
    let mut b1 = online(app, &p.b1).await;
    let mut c = online(app, &p.c).await;
    // Dave has no connected device.
    let (_, absent) = what_the_caller_hears(&mut a, &p.ad, "k1").await;
    assert_eq!(
        absent,
        vec![
            json!(["call_ended", "no_answer", null]),
            json!(["message", "call", { "media": "voice", "outcome": "missed" }]),
        ]
    );

    // Bob blocks Alice. Her call goes exactly the same way, and Bob never rings: the
    // next thing his device hears is Carol's call, made after Alice's (which does not
    // make him busy either).
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&p.b1),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    frame(&mut a, json!({ "type": "call_start", "client_id": "k2", "conversation_id": p.ab, "media": "voice" })).await;
    let alices = expect(&mut a, "call_started").await["call"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carols = start(&mut c, &p.cb, "voice", "k3").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(expect(&mut b1, "call").await["call"]["id"], carols.as_str());
    // A device of Bob's that connects now rings for Carol only.
    let mut b2 = online(app, &p.b2).await;
    assert_eq!(expect(&mut b2, "call").await["call"]["id"], carols.as_str());
    // Bob cannot take Alice's call, even knowing its id: it is not his.
    by_id(&mut b1, "call_accept", &alices).await;
    assert_eq!(expect(&mut b1, "error").await["code"], "call_not_found");
    let mut heard = Vec::new();
    let f = next(&mut a).await;
    heard.push(json!([f["type"], f["reason"], f["duration_ms"]]));
    let f = next(&mut a).await;
    heard.push(json!([
        f["type"],
        f["message"]["kind"],
        f["message"]["call"]
    ]));
    assert_eq!(
        heard, absent,
        "a blocked caller hears what calling an absent person gives"
    );
    // Bob hears the end of Carol's call (no answer) and its record, nothing of Alice's.
    ended(&mut b1, &carols, "no_answer").await;
    record(
        &mut b1,
        CAROL,
        json!({ "media": "voice", "outcome": "missed" }),
    )
    .await;
    assert!(
        records(app, &p.ab, &p.b1).await.is_empty(),
        "withheld from Bob"
    );
    assert_eq!(records(app, &p.ab, &p.a).await.len(), 1, "Alice has hers");
    drop((a, b1, b2, c));
    p.app.stop().await;
}

#[tokio::test]
async fn blocking_during_a_call_ends_it_and_stops_a_ringing_one_silently() {
    let p = people(TestApp::spawn_with(|c| c.calls.ring_timeout_secs = 2).await).await;
    let app = &p.app;
    let mut a = online(app, &p.a).await;
    let mut b1 = online(app, &p.b1).await;

    // A taken call: Bob blocks Alice, both hear a plain hang-up.
    let id = taken(&mut a, &mut b1, &p.ab, "video", "k1").await;
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&p.b1),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    ended(&mut a, &id, "hung_up").await;
    ended(&mut b1, &id, "hung_up").await;
    // The record reaches Alice only: Bob blocks her now.
    let f = expect(&mut a, "message").await;
    assert_eq!(f["message"]["call"]["outcome"], "answered", "{f}");
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&p.b1),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");

    // A ringing call: Bob's device stops ringing at once; Alice hears nothing until the
    // ring time is up, as if Bob were not there.
    let id = start(&mut a, &p.ab, "voice", "k2").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(&mut b1, "call").await;
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&p.b1),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    ended(&mut b1, &id, "cancelled").await;
    let rang = std::time::Instant::now();
    ended(&mut a, &id, "no_answer").await;
    assert!(
        rang.elapsed() >= Duration::from_millis(500),
        "only when the ring time is up"
    );
    drop((a, b1));
    p.app.stop().await;
}

#[tokio::test]
async fn a_device_gone_ends_its_call() {
    let p = people(TestApp::spawn_with(|c| c.calls.reconnect_grace_secs = 1).await).await;
    let app = &p.app;
    let mut a = online(app, &p.a).await;
    let mut b1 = online(app, &p.b1).await;
    let id = taken(&mut a, &mut b1, &p.ab, "voice", "k1").await;
    b1.close().await;
    let started = std::time::Instant::now();
    ended(&mut a, &id, "hung_up").await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "after the grace time"
    );
    drop(a);
    p.app.stop().await;
}

#[tokio::test]
async fn bad_call_frames_get_an_error_and_disturb_nothing() {
    let p = people(TestApp::spawn().await).await;
    let app = &p.app;
    let mut a = online(app, &p.a).await;
    let mut b1 = online(app, &p.b1).await;
    let id = taken(&mut a, &mut b1, &p.ab, "voice", "k1").await;

    let cases = [
        (json!({ "type": "call_signal" }), "malformed_frame"),
        (
            json!({ "type": "call_start", "client_id": "x", "conversation_id": p.ab, "media": "fax" }),
            "malformed_frame",
        ),
        (
            json!({ "type": "call_accept", "call_id": 7 }),
            "malformed_frame",
        ),
        (
            json!({ "type": "call_signal", "call_id": id, "kind": "offer", "sdp": "hello" }),
            "invalid_input",
        ),
        (
            json!({ "type": "call_signal", "call_id": id, "kind": "offer" }),
            "invalid_input",
        ),
        (
            json!({ "type": "call_signal", "call_id": id, "kind": "candidate", "candidate": { "candidate": "x".repeat(2000) } }),
            "invalid_input",
        ),
        (
            json!({ "type": "call_signal", "call_id": "nope", "kind": "offer", "sdp": OFFER }),
            "call_not_found",
        ),
        (
            json!({ "type": "call_accept", "call_id": id }),
            "call_not_found",
        ),
        (
            json!({ "type": "call_start", "client_id": "k2", "conversation_id": p.cb, "media": "voice" }),
            "conversation_not_found",
        ),
        (
            json!({ "type": "call_start", "client_id": "", "conversation_id": p.ab, "media": "voice" }),
            "invalid_input",
        ),
    ];
    for (bad, code) in cases {
        frame(&mut a, bad.clone()).await;
        let f = expect(&mut a, "error").await;
        assert_eq!(f["code"], code, "{bad} -> {f}");
    }
    // The call goes on: a good signal still arrives.
    frame(
        &mut a,
        json!({ "type": "call_signal", "call_id": id, "kind": "offer", "sdp": OFFER }),
    )
    .await;
    assert_eq!(expect(&mut b1, "call_signal").await["sdp"], OFFER);

    // A flood of call frames: the budget runs out (rate_limited), the connection lives.
    let flood: Vec<String> = (0..150)
        .map(|_| json!({ "type": "call_accept", "call_id": "nope" }).to_string())
        .collect();
    a.send_texts(&flood).await;
    let mut limited = 0;
    for _ in 0..150 {
        let f = expect(&mut a, "error").await;
        if f["code"] == "rate_limited" {
            limited += 1;
        } else {
            assert_eq!(f["code"], "call_not_found", "{f}");
        }
    }
    assert!(limited >= 30, "{limited} limited of 150");
    frame(&mut a, json!({ "type": "ping" })).await;
    expect(&mut a, "pong").await;
    // Messages still flow, and so does the call.
    by_id(&mut b1, "call_hangup", &id).await;
    ended(&mut b1, &id, "hung_up").await;
    drop((a, b1));
    p.app.stop().await;
}

#[tokio::test]
async fn ice_servers_carry_turn_credentials_by_the_rest_api_scheme() {
    let app = TestApp::spawn_with(|c| {
        c.calls.stun_urls = vec!["stun:127.0.0.1:3478".into()];
        c.calls.turn_urls = vec!["turn:127.0.0.1:3478?transport=udp".into()];
        c.calls.turn_secret = Some("north-wind".into());
        c.calls.turn_ttl_secs = 600;
    })
    .await;
    let a = app.code_login(ALICE, "a").await;
    let r = app.get_auth("/v1/calls/ice-servers", &a).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let servers = r.body["ice_servers"].as_array().unwrap();
    assert_eq!(servers[0], json!({ "urls": ["stun:127.0.0.1:3478"] }));
    let turn = &servers[1];
    let username = turn["username"].as_str().unwrap();
    let (expiry, user_id) = username.split_once(':').unwrap();
    let expiry: i64 = expiry.parse().unwrap();
    assert_eq!(expiry, app.clock_now().timestamp() + 600);
    let me = app.get_auth("/v1/account", &a).await;
    assert_eq!(Some(user_id), me.body["user_id"].as_str());
    assert_eq!(
        turn["credential"].as_str(),
        Some(dialtone_service::calls::turn_password("north-wind", username).as_str())
    );
    let unauthorized = app
        .send(Method::GET, "/v1/calls/ice-servers", None, None)
        .await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    app.stop().await;

    // Without TURN, no TURN server is given out.
    let app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "a").await;
    let r = app.get_auth("/v1/calls/ice-servers", &a).await;
    assert_eq!(r.body["ice_servers"], json!([]), "{r:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_call_rings_and_signals_across_nodes() {
    let Some(mut nodes) =
        TestApp::spawn_deployment("a_call_rings_and_signals_across_nodes", 2).await
    else {
        return;
    };
    let second = nodes.pop().unwrap();
    let first = nodes.pop().unwrap();
    let a_token = first.code_login(ALICE, "a").await;
    let b_token = first.code_login(BOB, "b").await;
    for (token, other) in [(&a_token, BOB), (&b_token, ALICE)] {
        let book = json!({ "contacts": [{ "name": other, "phones": [other] }] });
        assert_eq!(first.put_contacts(token, book).await.status, StatusCode::OK);
    }
    let ab = first.direct_id(&a_token, BOB).await;
    let mut a = online(&first, &a_token).await;
    let mut b = online(&second, &b_token).await;
    let id = start(&mut a, &ab, "video", "k1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(expect(&mut b, "call").await["call"]["id"], id.as_str());
    by_id(&mut b, "call_accept", &id).await;
    expect(&mut b, "call_accepted").await;
    expect(&mut a, "call_accepted").await;
    frame(
        &mut a,
        json!({ "type": "call_signal", "call_id": id, "kind": "offer", "sdp": OFFER }),
    )
    .await;
    assert_eq!(expect(&mut b, "call_signal").await["sdp"], OFFER);
    frame(
        &mut b,
        json!({ "type": "call_signal", "call_id": id, "kind": "answer", "sdp": ANSWER }),
    )
    .await;
    assert_eq!(expect(&mut a, "call_signal").await["sdp"], ANSWER);
    by_id(&mut b, "call_hangup", &id).await;
    ended(&mut a, &id, "hung_up").await;
    ended(&mut b, &id, "hung_up").await;
    // Each node has a clock of its own here: the duration is whatever the ending node saw.
    for ws in [&mut a, &mut b] {
        let f = expect(ws, "message").await;
        assert_eq!(f["message"]["kind"], "call", "{f}");
        assert_eq!(f["message"]["call"]["outcome"], "answered", "{f}");
    }
    drop((a, b));
    first.stop().await;
    second.stop().await;
}
