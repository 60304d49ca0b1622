//! `set-qos BRIDGE INTERFACE CONTAINER --ingress-rate=KBPS [--ingress-burst=KB]`:
//! change the rate limit of what the container sends into the bridge.

use crate::cli::SetQosArgs;
use crate::context::Ctx;
use crate::error::Result;

pub async fn exec(ctx: &Ctx, a: SetQosArgs) -> Result<()> {
    crate::port::settings::set_qos(ctx, &super::address(&a.port), a.ingress_rate, a.ingress_burst).await
}
