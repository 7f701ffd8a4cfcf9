//! `GET /v1/calls/ice-servers`: the STUN and TURN servers a device gives its peer
//! connections (`docs/api/calls.md`). The calls themselves are signalled on `/v1/ws`.

use axum::Json;
use axum::extract::State;
use dialtone_protocol::IceServers;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::ErrorBody;
use crate::extract::Auth;

/// The call routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ice_servers))
}

/// ICE servers for a call: STUN URLs, and TURN URLs with credentials that expire at
/// `expires_at` (TURN REST API scheme: username `<expiry>:<user id>`, credential
/// base64(HMAC-SHA1(shared secret, username))).
#[utoipa::path(get, path = "/v1/calls/ice-servers", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = IceServers), (status = 401, body = ErrorBody)))]
async fn ice_servers(State(state): State<AppState>, Auth(auth): Auth) -> Json<IceServers> {
    Json(state.calls.ice_servers(&auth.user))
}
