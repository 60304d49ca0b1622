//! `del-port BRIDGE INTERFACE CONTAINER` and `del-ports BRIDGE CONTAINER`
//! (see [`crate::port::remove`]).

use crate::cli::{DelPortsArgs, PortRef};
use crate::context::Ctx;
use crate::error::Result;
use crate::port::Veths;

pub async fn exec_one(ctx: &Ctx, a: PortRef, veths: &Veths) -> Result<()> {
    crate::port::remove_one(ctx, &super::address(&a), veths).await
}

pub async fn exec_all(ctx: &Ctx, a: DelPortsArgs, veths: &Veths) -> Result<()> {
    crate::port::remove_all(ctx, &a.bridge, &a.target.reference(), veths).await
}
