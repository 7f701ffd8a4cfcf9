//! Notifications when the app is closed (`docs/api/push.md`): the server's VAPID key, the
//! caller's device's Web Push subscription, the caller's notification settings, and
//! muting a conversation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dialtone_core::ConversationId;
use dialtone_service::notify::{
    MuteFor, NotifySettingsPatch, NotifySettingsView, QuietHours, SubscriptionInput,
    SubscriptionKeys,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, JsonBody};
use crate::routes::rfc3339;

/// The push routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(key))
        .routes(routes!(subscription, subscribe, unsubscribe))
        .routes(routes!(settings, update_settings))
        .routes(routes!(mute))
}

/// The server's VAPID public key.
#[derive(Serialize, ToSchema)]
struct PushKey {
    /// base64url of the uncompressed P-256 point: `applicationServerKey` for
    /// `pushManager.subscribe`.
    public_key: String,
}

/// Whether the caller's device has a subscription.
#[derive(Serialize, ToSchema)]
struct Subscribed {
    /// It has one.
    subscribed: bool,
}

/// A subscription as `PushSubscription.toJSON()` gives it.
#[derive(Deserialize, ToSchema)]
struct SubscriptionBody {
    /// The push service's URL (https).
    endpoint: String,
    /// The keys.
    keys: KeysBody,
    /// Ignored (browsers send it).
    #[serde(default, rename = "expirationTime")]
    #[allow(dead_code)]
    expiration_time: Option<serde_json::Value>,
}

/// A subscription's keys (base64url).
#[derive(Deserialize, ToSchema)]
struct KeysBody {
    /// The browser's P-256 public key (65 bytes).
    p256dh: String,
    /// The authentication secret (16 bytes).
    auth: String,
}

/// Quiet hours, local time, `HH:MM`; may cross midnight.
#[derive(Serialize, Deserialize, ToSchema)]
struct QuietBody {
    /// From (included).
    from: String,
    /// To (not included).
    to: String,
}

/// The caller's notification settings.
#[derive(Serialize, ToSchema)]
struct SettingsBody {
    /// Show the sender and a preview of the text (default true).
    previews: bool,
    /// Show name and text for hidden contacts too (default false: "New message").
    hidden_previews: bool,
    /// Notifications come silently during these hours; `null`: never.
    quiet_hours: Option<QuietBody>,
    /// The user's offset from UTC in minutes (east positive) the quiet hours are read in.
    utc_offset_minutes: i32,
}

impl From<NotifySettingsView> for SettingsBody {
    fn from(v: NotifySettingsView) -> Self {
        Self {
            previews: v.previews,
            hidden_previews: v.hidden_previews,
            quiet_hours: v.quiet_hours.map(|q| QuietBody {
                from: q.from,
                to: q.to,
            }),
            utc_offset_minutes: v.utc_offset_minutes,
        }
    }
}

/// A change of settings: the fields given change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SettingsPatch {
    previews: Option<bool>,
    hidden_previews: Option<bool>,
    /// `null` turns quiet hours off.
    #[serde(default, deserialize_with = "crate::routes::community::present")]
    #[schema(value_type = Option<QuietBody>)]
    quiet_hours: Option<Option<QuietBody>>,
    utc_offset_minutes: Option<i32>,
}

/// How long to mute.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MuteBody {
    /// `8h`, `1w`, `always`, or `off` (unmute).
    #[schema(value_type = String)]
    duration: MuteFor,
}

/// Until when a conversation is muted.
#[derive(Serialize, ToSchema)]
struct Muted {
    /// RFC 3339, or `null` when not muted.
    muted_until: Option<String>,
}

/// The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`.
#[utoipa::path(get, path = "/v1/push/key", tag = "push",
    responses((status = 200, body = PushKey)))]
async fn key(State(state): State<AppState>) -> Json<PushKey> {
    Json(PushKey {
        public_key: state.notify.public_key().to_owned(),
    })
}

/// Whether the caller's device has a push subscription.
#[utoipa::path(get, path = "/v1/push/subscription", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = Subscribed), (status = 401, body = ErrorBody)))]
async fn subscription(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<Subscribed>, ApiError> {
    Ok(Json(Subscribed {
        subscribed: state.notify.subscribed(&auth.session.id).await?,
    }))
}

/// Records the caller's device's push subscription (one per device; replaces the one it
/// had). Pushes go to it while the device has no live connection.
#[utoipa::path(put, path = "/v1/push/subscription", tag = "push", security(("bearer" = [])),
    request_body = SubscriptionBody,
    responses((status = 204), (status = 400, body = ErrorBody, description = "invalid_input: not an https endpoint with a P-256 key and a 16-byte secret"),
        (status = 401, body = ErrorBody)))]
async fn subscribe(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<SubscriptionBody>,
) -> Result<StatusCode, ApiError> {
    let input = SubscriptionInput {
        endpoint: body.endpoint,
        keys: SubscriptionKeys {
            p256dh: body.keys.p256dh,
            auth: body.keys.auth,
        },
    };
    state
        .notify
        .subscribe(&auth.user, &auth.session.id, input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets the caller's device's push subscription (done for it too at logout).
#[utoipa::path(delete, path = "/v1/push/subscription", tag = "push", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn unsubscribe(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<StatusCode, ApiError> {
    state.notify.unsubscribe(&auth.session.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's notification settings.
#[utoipa::path(get, path = "/v1/push/settings", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = SettingsBody), (status = 401, body = ErrorBody)))]
async fn settings(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<SettingsBody>, ApiError> {
    Ok(Json(state.notify.settings(&auth.user).await?.into()))
}

/// Changes the caller's notification settings.
#[utoipa::path(patch, path = "/v1/push/settings", tag = "push", security(("bearer" = [])),
    request_body = SettingsPatch,
    responses((status = 200, body = SettingsBody), (status = 400, body = ErrorBody, description = "invalid_input: a time that is not HH:MM, an offset beyond ±14 h"),
        (status = 401, body = ErrorBody)))]
async fn update_settings(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<SettingsPatch>,
) -> Result<Json<SettingsBody>, ApiError> {
    let patch = NotifySettingsPatch {
        previews: body.previews,
        hidden_previews: body.hidden_previews,
        quiet_hours: body.quiet_hours.map(|q| {
            q.map(|q| QuietHours {
                from: q.from,
                to: q.to,
            })
        }),
        utc_offset_minutes: body.utc_offset_minutes,
    };
    Ok(Json(
        state
            .notify
            .update_settings(&auth.user, patch)
            .await?
            .into(),
    ))
}

/// Mutes one of the caller's conversations for 8 hours, a week or always, or unmutes
/// it: no push for its messages (one that mentions the caller, `@` and their number,
/// still comes); the badge leaves it out.
#[utoipa::path(put, path = "/v1/conversations/{id}/mute", tag = "push", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = MuteBody,
    responses((status = 200, body = Muted), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "conversation_not_found")))]
async fn mute(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<ConversationId>,
    JsonBody(body): JsonBody<MuteBody>,
) -> Result<Json<Muted>, ApiError> {
    let until = state.notify.mute(&auth.user, &id, body.duration).await?;
    Ok(Json(Muted {
        muted_until: until.map(rfc3339),
    }))
}
